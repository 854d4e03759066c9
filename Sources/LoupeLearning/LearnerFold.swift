import LoupeEvents
import LoupeML

/// The learner's fold in memory, without a log or a store: the same `apply` that `loupe learn`
/// runs on every event, for offline evaluation and tests. What it learns from a sequence of
/// events equals what `loupe learn` writes for the same sequence.
public struct LearnerFold: Sendable {
    var state: LearnerState

    public init(settings: LearnerSettings) {
        state = LearnerState(settings: settings)
    }

    /// Folds one valid event (`loupe learn` skips repeated event ids before this step).
    public mutating func apply(_ event: Event) {
        state.apply(event)
    }

    /// The user's index in the models, creating the user (in the unknown face-shape group) if
    /// new: what the learner does on a user's first event of any kind.
    public mutating func ensureUser(_ id: String, time: Int64) -> Int {
        state.user(id, time: time)
    }

    public func userIndex(of id: String) -> Int? { state.userIndex[id] }
    public func itemIndex(of id: String) -> Int? { state.itemIndex[id] }
    public var itemIds: [String] { state.itemIds }

    /// The online ranking model, as learned so far.
    public var online: OnlineRankingModel { state.model }
    /// The popularity model, as learned so far.
    public var popularity: PopularityModel { state.popularity }
}
