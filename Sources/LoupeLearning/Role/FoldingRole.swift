import LoupeEvents
import LoupeLog
import LoupeStore

/// A role that folds the log into the state store with `RoleLoop`: what it reads, what it keeps,
/// and how one event changes it. The loop owns everything else — the deterministic merged read,
/// the batches recorded before they are applied, duplicates, dead letters, positions and clocks
/// committed with the state in one store transaction, restart and replay.
///
/// `write` runs on the loop's write thread while the next batch is folded, on a copy of the
/// state: `State` should be a value type whose large parts are copy-on-write arrays, so that
/// the fold copies only what it changes.
public protocol FoldingRole: Sendable {
    associatedtype State: FoldState

    /// Names the role's recorded batches on `learner-batches` (`<id>-batch-<n>`, and their
    /// `learner` field, which is also the record key): a replay follows one id.
    var id: String { get }
    /// Names the role in its dead letters (`source`, and the id `dl-<source>-<id>-<place>`).
    var deadLetterSource: String { get }
    /// The topics the role folds, in the order that breaks ties between equal clocks.
    var topics: [Topic] { get }
    var loopSettings: RoleLoopSettings { get }
    /// The table where the loop keeps each partition's clock (opened before any transaction).
    var clocks: RawTable { get }

    /// The state `snapshot` holds (empty for a new store); throws when the store holds state
    /// this role cannot continue (another layout, dimension or algorithm), saying what to do.
    func loadState(from snapshot: StoreSnapshot) throws -> State
    /// An empty state (the loop parks it while it folds a batch).
    func emptyState() -> State
    /// Writes what changed in `state` since its last `clearChanges()`.
    func write(_ state: State, to transaction: StoreTransaction) throws
}

/// What the loop does to a role's state.
public protocol FoldState: Sendable {
    /// Folds one valid event whose id was not seen within the de-duplication window.
    mutating func apply(_ event: Event)
    /// Counts a record's outcome (kept with the state, so that a replay counts alike).
    mutating func count(_ outcome: FoldOutcome)
    /// Forgets what changed: called once a batch's write has its copy.
    mutating func clearChanges()
}

/// What became of one record of a batch.
public enum FoldOutcome: Sendable {
    /// Folded with `apply`.
    case applied
    /// Its event id was applied within the de-duplication window: skipped.
    case duplicate
    /// Not a valid event of its topic: skipped and dead-lettered.
    case deadLettered
}

/// How the loop cuts and times batches.
public struct RoleLoopSettings: Sendable, Equatable {
    /// Records per store transaction.
    public var batchSize: Int
    /// How long a batch may wait for more records before it is applied.
    public var maxDelayMilliseconds: Int
    /// An event id seen again within this much event time is applied once.
    public var deduplicationWindowMilliseconds: Int64

    public init(batchSize: Int, maxDelayMilliseconds: Int, deduplicationWindowMilliseconds: Int64) {
        self.batchSize = batchSize
        self.maxDelayMilliseconds = maxDelayMilliseconds
        self.deduplicationWindowMilliseconds = deduplicationWindowMilliseconds
    }
}
