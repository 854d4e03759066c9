import LoupeEvents
import LoupeML

/// How the online learner learns; `loupe learn` reads these from the configuration's
/// `learner:` section (docs/configuration.md, docs/learning.md).
public struct LearnerSettings: Sendable, Equatable {
    /// Names the learner's batch records in `learner-batches`; replay follows one learner.
    public var learnerId = "learner"
    /// The model whose state the learner writes (`learner.model`).
    public var modelKey = ModelKey.onlineLearner
    public var model = OnlineRankingSettings()
    /// How much each kind of event counts, and which way.
    public var weights = EventWeights()
    /// Half-life of the popularity model's counts in event time (nil: plain counts).
    public var popularityHalfLifeMilliseconds: Int64?
    /// Records per store transaction.
    public var batchSize = 65_536
    /// How long a batch may wait for more records before it is applied.
    public var maxDelayMilliseconds = 500
    /// An event id seen again within this much event time is applied once.
    public var deduplicationWindowMilliseconds: Int64 = 86_400_000
    /// Interactions and feedback kept per user in `user_history`, newest last (0: none).
    public var historyLength = 20

    public init() {}
}

/// How much each kind of event counts, and which way: > 0 wanted, < 0 not wanted, 0 not
/// learned (docs/learning.md). The defaults were chosen on the generated world's validation
/// split; every wanted kind counts alike there, which also is what a source of a single kind
/// (MovieLens ratings as clicks) needs.
public struct EventWeights: Sendable, Equatable {
    public var view: Float = 1
    public var click: Float = 1
    public var tryOn: Float = 1
    public var addToCart: Float = 1
    public var purchase: Float = 1
    public var like: Float = 1
    public var dislike: Float = -1
    public var `return`: Float = -1
    /// A rating of r stars counts (r − 3)/2 × this: 5 → +1, 1 → −1, 3 → nothing.
    public var rating: Float = 1

    public init() {}

    public func rating(_ stars: Int) -> Float { rating * Float(stars - 3) / 2 }
}
