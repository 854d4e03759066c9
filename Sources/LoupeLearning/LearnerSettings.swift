import LoupeML

/// How the online learner learns; `loupe learn` reads these from the configuration's
/// `learner:` section (docs/configuration.md, docs/learning.md).
public struct LearnerSettings: Sendable, Equatable {
    /// Names the learner's batch records in `learner-batches`; replay follows one learner.
    public var learnerId = "learner"
    public var model = OnlineModelSettings()
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

/// How much each kind of event counts, and which way (docs/learning.md).
enum EventWeights {
    static let view: Float = 0.1
    static let click: Float = 0.3
    static let tryOn: Float = 0.6
    static let addToCart: Float = 0.8
    static let purchase: Float = 1.0
    static let like: Float = 0.7
    static let dislike: Float = -0.7
    static let `return`: Float = -1.0

    /// A rating of r stars counts (r − 3) / 2: 5 → +1, 1 → −1, 3 → nothing.
    static func rating(_ stars: Int) -> Float { Float(stars - 3) / 2 }
}
