import Foundation
import LoupeEvents
import LoupeLog

/// What a batch's write makes known once it is committed: the event ids it recorded (by hash,
/// with their times), the cutoff below which it prunes recorded ids, and its positions.
struct WrittenBatch: Sendable {
    var ids: [UInt64: [(time: Int64, eventId: String)]]
    var cutoff: Int64
    var cursors: [TopicPartition: MergedLogReader.Cursor]
}

/// One batch's store transaction, run on a thread of its own while the learner folds the next
/// batch. `wait()` returns what the transaction returned (the ids it pruned) or rethrows.
final class BatchWrite: @unchecked Sendable {
    let batch: WrittenBatch
    private let done = DispatchSemaphore(value: 0)
    /// Set by the writing thread before it signals `done`; read only after `wait` took the signal.
    private var outcome: Result<[(time: Int64, eventId: String)], any Error> = .success([])
    private var waited = false

    init(batch: WrittenBatch, _ work: @escaping @Sendable () throws -> [(time: Int64, eventId: String)]) {
        self.batch = batch
        let thread = Thread { [self] in
            outcome = Result { try work() }
            done.signal()
        }
        thread.name = "loupe-batch-write"
        thread.start()
    }

    func wait() throws -> [(time: Int64, eventId: String)] {
        if !waited {
            done.wait()
            waited = true
        }
        return try outcome.get()
    }

    deinit {
        // A write is never abandoned half-way: whoever drops it waits for its end.
        if !waited { done.wait() }
    }
}
