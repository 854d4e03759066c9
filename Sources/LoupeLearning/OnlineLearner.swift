import LoupeEvents
import LoupeLog
import LoupeStore

/// `loupe learn` and `loupe replay`: the online learner, the role that folds the client topics
/// into the models of `LearnerState`, run by `RoleLoop` (docs/learning.md).
public final class OnlineLearner {
    public typealias Summary = FoldSummary

    /// The topics the learner folds, in the order that breaks ties between equal clocks.
    public static let topics: [Topic] = [.catalog, .faceAnalysis, .sessions, .interactions, .feedback]

    private let loop: RoleLoop<LearnerRole>

    /// - Parameter store: the view of the model the learner writes; it must be `settings.modelKey`'s.
    public init(store: StateStore, log: any EventLog, settings: LearnerSettings) throws {
        guard store.model == settings.modelKey else {
            throw LearnerError("the learner writes model \(settings.modelKey) but was given the store's view of \(store.model)")
        }
        loop = try RoleLoop(store: store, log: log, role: try LearnerRole(store: store, settings: settings))
    }

    /// Learns until the end of the log as it is now (`untilEnd`) or until `shouldStop` says so.
    /// First applies any batch recorded but not yet applied (a crash between the two).
    public func learn(untilEnd: Bool, shouldStop: () -> Bool = { false }, progress: (Summary) -> Void = { _ in }) throws -> Summary {
        try loop.learn(untilEnd: untilEnd, shouldStop: shouldStop, progress: progress)
    }

    /// Applies every batch this learner recorded, in order, into this (fresh) store.
    public func replay(progress: (Summary) -> Void = { _ in }) throws -> Summary {
        try loop.replay(progress: progress)
    }
}

/// The online learner as a `FoldingRole`: its state is `LearnerState`, kept in its own tables
/// (`LearnerTables`) and the store's standard ones.
struct LearnerRole: FoldingRole {
    let settings: LearnerSettings
    let tables: LearnerTables

    init(store: StateStore, settings: LearnerSettings) throws {
        self.settings = settings
        tables = try LearnerTables(store)
    }

    var id: String { settings.learnerId }
    var deadLetterSource: String { "learner" }
    var topics: [Topic] { OnlineLearner.topics }
    var clocks: RawTable { tables.clocks }
    var loopSettings: RoleLoopSettings {
        RoleLoopSettings(
            batchSize: settings.batchSize, maxDelayMilliseconds: settings.maxDelayMilliseconds,
            deduplicationWindowMilliseconds: settings.deduplicationWindowMilliseconds)
    }

    func loadState(from snapshot: StoreSnapshot) throws -> LearnerState {
        try LearnerState.load(from: snapshot, tables: tables, settings: settings)
    }

    func emptyState() -> LearnerState {
        LearnerState(settings: settings)
    }

    func write(_ state: LearnerState, to transaction: StoreTransaction) throws {
        try state.write(to: transaction, tables: tables, historyLength: settings.historyLength)
        try transaction.setModelMetadata("learner", LearnerMetadata(learner: settings.learnerId, algorithm: LearnerMetadata.algorithm))
        try transaction.setModelMetadata(ModelMetadataKey.algorithm, LearnerMetadata.algorithm)
    }
}

extension LearnerState: FoldState {
    mutating func count(_ outcome: FoldOutcome) {
        switch outcome {
        case .applied: counters[.applied] += 1
        case .duplicate: counters[.duplicates] += 1
        case .deadLettered: counters[.deadLettered] += 1
        }
    }
}
