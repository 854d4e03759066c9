import Foundation
import LoupeEvents
import LoupeLog
import LoupeStore
import LoupeBytes

/// What one `learn` or `replay` did.
public struct FoldSummary: Sendable {
    public var batches = 0
    public var records = 0
    public var replayedBatches = 0
    /// Records on `learner-batches` that could not be this role's next batch (forged or
    /// corrupt): not applied, dead-lettered.
    public var rejectedBatches = 0
}

/// The consume–fold–commit loop of every role that folds the log into the state store (the
/// online learner today, `OnlineLearner`): one batch per store transaction, exactly once. A role
/// (`FoldingRole`) supplies its topics, its state and its fold; the loop does the rest.
///
/// The fold order is `MergedLogReader`'s: a function of the log. Where the live learner had to
/// decide without all the data — a partition at its end while others had records — the batch
/// it decided on is recorded in `learner-batches` *before* it is applied, and both a replay and
/// the learner after a crash apply recorded batches as recorded. The positions and clocks of
/// every partition are written in the same transaction as the state they produced.
///
/// A record the role cannot fold — not a valid event of its topic, whoever wrote it — is
/// skipped and counted (`dead_lettered`) as part of the fold, so live, restarted and replayed
/// learners decide alike, and goes to `dead-letter` with the reason and its place. The live
/// learner writes a batch's dead letters before it records the batch, with ids made from their
/// places (`dl-learner-<learner>-<topic>/<partition>@<offset>`): a recorded batch's dead letters
/// are in the log, so a crash loses none, and a replay (or a restart that applies recorded
/// batches) writes none. Only a crash between a batch's dead letters and its record makes a
/// restart write them again, with the same ids; consumers of `dead-letter` key on event ids.
public final class RoleLoop<Role: FoldingRole> {
    public typealias Summary = FoldSummary

    private let store: StateStore
    private let log: any EventLog
    private let role: Role
    private let settings: RoleLoopSettings
    private var state: Role.State
    /// The event ids the store holds as seen, by hash (`SeenEventIndex`).
    private var seen: SeenEventIndex
    /// The sequence number of this learner's last recorded batch (0: none).
    private var sequence: Int64 = 0
    private let partitions: [TopicPartition]
    private var cursors: [TopicPartition: MergedLogReader.Cursor]
    private var deadLetters: (any LogProducer)?
    /// How many records `pendingBatches()` found on `learner-batches` that it could not apply.
    private var rejectedBatches = 0
    /// The batch whose store transaction is under way.
    private var writing: BatchWrite?

    /// Opens `role` on `store` and `log`: its state as the store holds it, and the partitions of
    /// its topics.
    public init(store: StateStore, log: any EventLog, role: Role) throws {
        self.store = store
        self.log = log
        self.role = role
        settings = role.loopSettings
        let clocks = role.clocks
        var partitions: [TopicPartition] = []
        for topic in role.topics {
            let count = try log.partitionCount(of: topic.rawValue)
            partitions += (0..<Int32(count)).map { TopicPartition(topic.rawValue, $0) }
        }
        self.partitions = partitions
        (state, cursors, seen) = try store.read { snapshot in
            let state = try role.loadState(from: snapshot)
            var seen = SeenEventIndex(minimumCapacity: try snapshot.count(.seenEventsByTime))
            try snapshot.forEachSeenEvent { time, eventId in seen.insert(seen.hash(eventId), time) }
            var cursors: [TopicPartition: MergedLogReader.Cursor] = [:]
            for partition in partitions {
                guard let next = try snapshot.position(topic: partition.topic, partition: partition.partition) else { continue }
                let clock = try snapshot.get(clocks, Self.clockKey(partition)).map { bytes in
                    bytes.withUnsafeBytes { $0.loadLittleEndian(Int64.self, at: 0) }
                } ?? .min
                cursors[partition] = MergedLogReader.Cursor(next: next, clock: clock)
            }
            return (state, cursors, seen)
        }
    }

    /// Learns until the end of the log as it is now (`untilEnd`) or until `shouldStop` says so.
    /// First applies any batch recorded but not yet applied (a crash between the two).
    public func learn(untilEnd: Bool, shouldStop: () -> Bool = { false }, progress: (Summary) -> Void = { _ in }) throws -> Summary {
        var summary = Summary()
        defer { writing = nil }
        try apply(recorded: try pendingBatches()) { _ in summary.replayedBatches += 1 }
        summary.rejectedBatches = rejectedBatches
        try finishWrite()
        // Told at once: the recorded batches are applied and committed.
        if summary.replayedBatches > 0 { progress(summary) }
        let producer = try log.makeProducer()
        defer { try? producer.close() }
        let ahead = ReadAhead(
            log: log, partitions: partitions, cursors: cursors,
            plan: .live(batchSize: settings.batchSize, maxDelay: .milliseconds(settings.maxDelayMilliseconds), untilEnd: untilEnd))
        defer { ahead.stop() }
        reading: while !shouldStop() {
            // Waits at most a batch's delay, so that a stop is seen on a quiet log too.
            let next: DecodedBatch
            switch try ahead.next(waiting: .milliseconds(settings.maxDelayMilliseconds)) {
            case .batch(let batch): next = batch
            case .nothing: continue reading
            case .finished: break reading
            }
            let batch = LearnerBatch(
                eventId: "\(role.id)-batch-\(sequence + 1)", timestamp: Self.batchClock(next.cursors),
                learner: role.id, sequence: sequence + 1, positions: Self.positions(next.cursors, partitions))
            // The batch's dead letters are in the log before the batch is recorded.
            var letters: [DeadLetter] = []
            for (index, result) in next.decoded.enumerated() {
                if case .failure(let error) = result {
                    letters.append(deadLetter(next.records[index], reasonCode: error.code.rawValue, reason: error.message, field: error.field))
                }
            }
            if !letters.isEmpty { try send(letters) }
            let event = Event.learnerBatch(batch)
            try producer.send(
                topic: Topic.learnerBatches.rawValue, key: Array(batch.learner.utf8), value: EventCodec.encode(event),
                timestamp: batch.timestamp)
            try producer.flush()
            try commit(next.records, decoded: next.decoded, cursors: next.cursors)
            sequence = batch.sequence
            summary.batches += 1
            summary.records += next.records.count
            progress(summary)
        }
        try finishWrite()
        try deadLetters?.close()
        return summary
    }

    /// Applies every batch `learner` recorded, in order, into this (fresh) store.
    public func replay(progress: (Summary) -> Void = { _ in }) throws -> Summary {
        var summary = Summary()
        defer { writing = nil }
        let pending = try pendingBatches()
        summary.rejectedBatches = rejectedBatches
        try apply(recorded: pending) { records in
            summary.batches += 1
            summary.records += records
            progress(summary)
        }
        try finishWrite()
        try deadLetters?.close()
        return summary
    }

    /// This learner's recorded batches that the store does not hold yet, in order, and the
    /// sequence number of its last recorded batch. A batch is held when the store's positions
    /// have reached its positions in every partition: which batches were cut where is recorded
    /// in the log, not in the store, so a learner that cut its batches differently (after a
    /// restart, say) still ends with the same state.
    ///
    /// Only `learner` writes its batches (docs/operations.md, ACLs). A record there that is not
    /// a valid event, or that names this learner but cannot be its next batch (out of sequence,
    /// a position missing, going back, or beyond the end of the log), is forged or corrupt: it
    /// is not applied, and goes to dead-letter once: its dead letter's id is made from its place,
    /// and one already in the log is not written again (the dead-letter topic's partition of
    /// those letters is read to tell, only when there are any).
    private func pendingBatches() throws -> [LearnerBatch] {
        var ends: [TopicPartition: Int64] = [:]
        for partition in partitions { ends[partition] = try log.watermarks(partition).high }
        var batches: [LearnerBatch] = []
        var previous: [TopicPartition: Int64] = [:]
        var letters: [DeadLetter] = []
        try log.forEachRecord(in: try log.partitions(of: [Topic.learnerBatches.rawValue])) { record in
            let problem: (code: String, reason: String, field: String?)?
            let decoded = Result { () throws(EventValidationError) -> Event in
                try EventCodec.decode(record.value, topic: .learnerBatches)
            }
            switch decoded {
            case .failure(let error):
                problem = (error.code.rawValue, error.message, error.field)
            case .success(.learnerBatch(let batch)):
                guard batch.learner == role.id else { return }
                problem = Self.problem(with: batch, expected: Int64(batches.count) + 1, after: previous, ends: ends, partitions: partitions)
                if problem == nil {
                    for partition in partitions { previous[partition] = batch.positions[partition.topic]![Int(partition.partition)] }
                    batches.append(batch)
                }
            case .success:
                problem = ("wrong_topic", "not a learner batch", "type")
            }
            if let problem {
                letters.append(deadLetter(record, reasonCode: problem.code, reason: problem.reason, field: problem.field))
            }
        }
        sequence = batches.last?.sequence ?? 0
        rejectedBatches = letters.count
        if !letters.isEmpty {
            let written = try existingDeadLetters(letters.map(\.eventId))
            try send(letters.filter { !written.contains($0.eventId) })
        }
        return batches.filter { batch in
            partitions.contains { partition in
                batch.positions[partition.topic]![Int(partition.partition)] > (cursors[partition]?.next ?? 0)
            }
        }
    }

    /// Why `batch` cannot be the learner's batch number `expected`, whose predecessor ended at
    /// `previous`, in a log that ends at `ends`; nil when it can.
    static func problem(
        with batch: LearnerBatch, expected: Int64, after previous: [TopicPartition: Int64], ends: [TopicPartition: Int64],
        partitions: [TopicPartition]
    ) -> (code: String, reason: String, field: String?)? {
        guard batch.sequence == expected else {
            return ("out_of_sequence", "batch \(batch.sequence) of learner \(batch.learner) where batch \(expected) was due", "sequence")
        }
        for partition in partitions {
            guard let offsets = batch.positions[partition.topic], Int(partition.partition) < offsets.count else {
                return ("invalid_positions", "batch \(batch.sequence) has no position for \(partition.topic)/\(partition.partition)", "positions")
            }
            let offset = offsets[Int(partition.partition)]
            if offset < previous[partition] ?? 0 {
                return (
                    "invalid_positions",
                    "batch \(batch.sequence) goes back in \(partition.topic)/\(partition.partition), to \(offset) from \(previous[partition] ?? 0)",
                    "positions"
                )
            }
            if offset > ends[partition] ?? 0 {
                return (
                    "invalid_positions",
                    "batch \(batch.sequence) reaches \(offset) in \(partition.topic)/\(partition.partition), beyond the log's end \(ends[partition] ?? 0)",
                    "positions"
                )
            }
        }
        return nil
    }

    /// Applies recorded batches in order, each exactly the records below its positions, in
    /// merge order, one transaction per batch. One reader serves them all: each batch starts
    /// where the one before ended. `applied` gets each batch's record count.
    private func apply(recorded batches: [LearnerBatch], applied: (Int) -> Void) throws {
        guard !batches.isEmpty else { return }
        let ends = try batches.map { batch in
            var ends: [TopicPartition: Int64] = [:]
            for partition in partitions {
                guard let offsets = batch.positions[partition.topic], Int(partition.partition) < offsets.count else {
                    throw LearnerError("batch \(batch.sequence) of \(batch.learner) has no position for \(partition)")
                }
                ends[partition] = offsets[Int(partition.partition)]
            }
            return (batch.sequence, ends)
        }
        let ahead = ReadAhead(log: log, partitions: partitions, cursors: cursors, plan: .recorded(ends))
        defer { ahead.stop() }
        var taken = 0
        while taken < batches.count {
            switch try ahead.next(waiting: .seconds(1)) {
            case .batch(let next):
                try commit(next.records, decoded: next.decoded, cursors: next.cursors)
                applied(next.records.count)
                taken += 1
            case .nothing:
                continue
            case .finished:
                throw LearnerError("batch \(batches[taken].sequence) of \(role.id) was not read")
            }
        }
    }

    /// Folds `records` (`decoded` as events) into memory, then starts the transaction that writes
    /// the changed state with the positions and clocks, on a thread of its own: the next batch
    /// is folded while it runs. At most one write is under way; `finishWrite()` waits for it.
    private func commit(
        _ records: [LogRecord], decoded: [Result<Event, EventValidationError>], cursors: [TopicPartition: MergedLogReader.Cursor]
    ) throws {
        // The batch's applied events (index, time, id hash) in order; `latest` chains each
        // hash's entries, newest first, for duplicates within the batch.
        var applied: [(record: Int32, time: Int64, hash: UInt64, previous: Int32)] = []
        applied.reserveCapacity(records.count)
        var latest: [UInt64: Int32] = [:]
        latest.reserveCapacity(records.count)
        let window = settings.deduplicationWindowMilliseconds
        // The state leaves `self` for the fold: mutated through a local variable, every event's
        // update happens in place (through the class property, each one went through accessors
        // that copied the whole struct).
        var folded = role.emptyState()
        swap(&folded, &state)
        defer { swap(&folded, &state) }
        let pending = writing?.batch
        try store.read { snapshot in
            for index in records.indices {
                switch decoded[index] {
                case .failure:
                    folded.count(.deadLettered)
                case .success(let event):
                    let hash = self.seen.hash(event.eventId)
                    if try isDuplicate(
                        event, hash: hash, window: window, in: snapshot, pending: pending, applied: applied, latest: latest,
                        decoded: decoded)
                    {
                        folded.count(.duplicate)
                        continue
                    }
                    applied.append((Int32(index), event.timestamp, hash, latest[hash] ?? -1))
                    latest[hash] = Int32(applied.count - 1)
                    folded.apply(event)
                    folded.count(.applied)
                }
            }
        }
        try finishWrite()

        let clock = Self.batchClock(cursors)
        let cutoff = clock == .min ? Int64.min : clock - window
        var ids: [UInt64: [(time: Int64, eventId: String)]] = [:]
        ids.reserveCapacity(applied.count)
        var recorded: [(time: Int64, eventId: String)] = []
        recorded.reserveCapacity(applied.count)
        for entry in applied {
            guard case .success(let event) = decoded[Int(entry.record)] else { continue }
            ids[entry.hash, default: []].append((entry.time, event.eventId))
            recorded.append((entry.time, event.eventId))
        }
        let batch = WrittenBatch(ids: ids, cutoff: cutoff, cursors: cursors)
        let seenInOrder = recorded
        // The write works on this copy of the state: the next fold's changes copy what they
        // change (each array once a batch), never what the write reads.
        let frozen = folded
        let store = self.store
        let role = self.role
        let partitions = self.partitions
        writing = BatchWrite(batch: batch) {
            var pruned: [(time: Int64, eventId: String)] = []
            try store.write { transaction in
                try role.write(frozen, to: transaction)
                for partition in partitions {
                    guard let cursor = cursors[partition] else { continue }
                    try transaction.setPosition(StorePosition(topic: partition.topic, partition: partition.partition, offset: cursor.next))
                    try transaction.put(role.clocks, Self.clockKey(partition), littleEndianBytes(cursor.clock))
                }
                for entry in seenInOrder { try transaction.recordSeen(entry.eventId, at: entry.time) }
                pruned.removeAll()
                if cutoff != .min {
                    try transaction.pruneSeenEvents(olderThan: cutoff) { time, eventId in
                        pruned.append((time, String(decoding: eventId, as: UTF8.self)))
                    }
                }
            }
            return pruned
        }
        folded.clearChanges()
    }

    /// Waits for the batch write under way, if any, then lets the in-memory index follow the
    /// store (the ids it recorded and pruned) and takes its positions.
    private func finishWrite() throws {
        guard let write = writing else { return }
        writing = nil
        let pruned = try write.wait()
        for (hash, entries) in write.batch.ids {
            for entry in entries { seen.insert(hash, entry.time) }
        }
        for entry in pruned { seen.remove(seen.hash(entry.eventId), entry.time) }
        cursors = write.batch.cursors
    }

    /// Whether `event` repeats an event id applied within `window` of its time: earlier in this
    /// batch, in the batch whose write is under way, or recorded in the store. The decision is the
    /// one the store would give once that write is committed, whether or not it already is: the
    /// pending batch's ids count, and stored ids older than its pruning cutoff do not. Hash
    /// matches are confirmed against the ids themselves.
    private func isDuplicate(
        _ event: Event, hash: UInt64, window: Int64, in snapshot: StoreSnapshot, pending: WrittenBatch?,
        applied: [(record: Int32, time: Int64, hash: UInt64, previous: Int32)], latest: [UInt64: Int32],
        decoded: [Result<Event, EventValidationError>]
    ) throws -> Bool {
        var entry = latest[hash] ?? -1
        while entry >= 0 {
            let earlier = applied[Int(entry)]
            if abs(event.timestamp - earlier.time) <= window, case .success(let other) = decoded[Int(earlier.record)],
                other.eventId == event.eventId
            {
                return true
            }
            entry = earlier.previous
        }
        let cutoff = pending?.cutoff ?? .min
        if let earlier = pending?.ids[hash],
            earlier.contains(where: { $0.time >= cutoff && abs(event.timestamp - $0.time) <= window && $0.eventId == event.eventId })
        {
            return true
        }
        return try seen.contains(hash) { time in
            time >= cutoff && abs(event.timestamp - time) <= window ? try snapshot.hasSeen(event.eventId, at: time) : false
        }
    }

    /// The dead letter of a record the learner cannot fold; its id is made from its place, so
    /// writing it again writes the same event.
    private func deadLetter(_ record: LogRecord, reasonCode: String, reason: String, field: String?) -> DeadLetter {
        let location = "\(record.topic)/\(record.partition)@\(record.offset)"
        return DeadLetter(
            rejecting: record.value, reasonCode: reasonCode, reason: reason, field: field, source: role.deadLetterSource,
            sourceTopic: record.topic, location: location, eventId: "dl-\(role.deadLetterSource)-\(role.id)-\(location)",
            timestamp: record.timestamp)
    }

    /// Sends dead letters to `dead-letter` and waits until the log has them.
    private func send(_ letters: [DeadLetter]) throws {
        let producer = try deadLetters ?? log.makeProducer()
        deadLetters = producer
        for letter in letters {
            let event = Event.deadLetter(letter)
            try producer.send(topic: Topic.deadLetter.rawValue, key: Array(event.key.utf8), value: EventCodec.encode(event), timestamp: letter.timestamp)
        }
        try producer.flush()
    }

    /// Which of `ids` the dead-letter topic holds already, from the learner's dead letters of
    /// `learner-batches` records (all in the partition of that key).
    private func existingDeadLetters(_ ids: [String]) throws -> Set<String> {
        let wanted = Set(ids)
        var found: Set<String> = []
        let byBatches = Array(Topic.learnerBatches.rawValue.utf8)
        try log.forEachRecord(in: try log.partitions(of: [Topic.deadLetter.rawValue])) { record in
            guard record.key == byBatches else { return }
            if case .deadLetter(let letter)? = try? EventCodec.decode(record.value, topic: .deadLetter), wanted.contains(letter.eventId) {
                found.insert(letter.eventId)
            }
        }
        return found
    }

    static func clockKey(_ partition: TopicPartition) -> [UInt8] {
        var key = Array(partition.topic.utf8)
        key.append(0)
        withUnsafeBytes(of: partition.partition.bigEndian) { key.append(contentsOf: $0) }
        return key
    }

    /// The batch's place in event time: the largest clock reached (0 before any record).
    static func batchClock(_ cursors: [TopicPartition: MergedLogReader.Cursor]) -> Int64 {
        max(0, cursors.values.map(\.clock).max() ?? 0)
    }

    static func positions(_ cursors: [TopicPartition: MergedLogReader.Cursor], _ partitions: [TopicPartition]) -> [String: [Int64]] {
        var positions: [String: [Int64]] = [:]
        for partition in partitions {
            positions[partition.topic, default: []].append(cursors[partition]!.next)
        }
        return positions
    }
}
