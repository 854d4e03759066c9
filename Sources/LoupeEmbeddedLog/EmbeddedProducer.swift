import LoupeLog
import Foundation
import LoupeLMDB

/// Appends to the embedded log. Records are buffered and written in one LMDB transaction per
/// batch (`batchRecords` records or `batchBytes` bytes, or whatever is pending at `flush`),
/// which is what makes appends cheap: one fsync per batch, not per record. A full batch is
/// written on a background thread while the caller goes on preparing the next one; at most one
/// batch is in flight, and `flush` waits for it, so `flush` still means "durably stored".
final class EmbeddedProducer: LogProducer {
    fileprivate struct Pending {
        var topic: UInt32
        var partition: Int32
        var key: [UInt8]?
        var value: [UInt8]
        var timestamp: Int64
    }

    static let batchRecords = 16_384
    static let batchBytes = 16 << 20

    private let log: EmbeddedLog
    private let notifier: AppendNotifier
    private var topics: [String: StoredTopic] = [:]
    private var pending: [Pending] = []
    private var pendingBytes = 0
    private var closed = false
    private let writer = DispatchQueue(label: "loupe.embedded-producer")
    private var inFlight: BatchWrite?

    init(log: EmbeddedLog) {
        self.log = log
        notifier = AppendNotifier(directory: log.directory)
    }

    func send(topic: String, key: [UInt8]?, value: [UInt8], timestamp: Int64) throws {
        guard !closed else { throw LogError("send on a closed producer") }
        let stored = try topicInfo(topic)
        let partition = key.map { Murmur2.partition(for: $0, partitions: stored.spec.partitions) }
            ?? Int32(pending.count % stored.spec.partitions)
        pending.append(Pending(topic: stored.id, partition: partition, key: key, value: value, timestamp: timestamp))
        pendingBytes += value.count + (key?.count ?? 0) + 32
        if pending.count >= Self.batchRecords || pendingBytes >= Self.batchBytes {
            try startWrite()
        }
    }

    func flush() throws {
        try startWrite()
        try finishWrite()
    }

    /// Hands the pending records to the writer thread, after the previous batch is written.
    private func startWrite() throws {
        guard !pending.isEmpty else { return }
        try finishWrite()
        let write = BatchWrite(batch: pending)
        let log = self.log
        let notifier = self.notifier
        writer.async(group: write.done) { write.run(log, notifier: notifier) }
        inFlight = write
        pending.removeAll(keepingCapacity: true)
        pendingBytes = 0
    }

    /// Waits for the batch in flight and reports its error if it failed.
    private func finishWrite() throws {
        guard let write = inFlight else { return }
        write.done.wait()
        inFlight = nil
        if let error = write.error { throw error }
        try EmbeddedCleaner(log: log).runIfDue(now: Self.now())
    }

    func close() throws {
        guard !closed else { return }
        try flush()
        closed = true
    }

    deinit {
        inFlight?.done.wait()
    }

    private func topicInfo(_ name: String) throws -> StoredTopic {
        if let stored = topics[name] { return stored }
        let stored = try log.environment.read { transaction in try log.requireTopic(name, in: transaction) }
        topics[name] = stored
        return stored
    }

    static func now() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1000)
    }
}

/// One batch on its way to LMDB. The writer thread sets `error` before it leaves `done`, and
/// the producer reads it only after waiting on `done`, so the two never touch it at once.
private final class BatchWrite: @unchecked Sendable {
    let batch: [EmbeddedProducer.Pending]
    let done = DispatchGroup()
    var error: LogError?

    init(batch: [EmbeddedProducer.Pending]) {
        self.batch = batch
    }

    /// Writes the batch in one transaction, then wakes the log's readers.
    func run(_ log: EmbeddedLog, notifier: AppendNotifier) {
        do {
            try log.environment.write { transaction in
                var states: [UInt64: EmbeddedLayout.PartitionState] = [:]
                var encoded: [UInt8] = []
                for record in batch {
                    let partitionId = UInt64(record.topic) << 32 | UInt64(UInt32(bitPattern: record.partition))
                    var state = try states[partitionId]
                        ?? log.partitionState(topic: record.topic, partition: record.partition, in: transaction)
                    let offset = state.nextOffset
                    EmbeddedLayout.encodeRecord(timestamp: record.timestamp, key: record.key, value: record.value, into: &encoded)
                    try transaction.put(
                        log.tables.records, EmbeddedLayout.recordKey(topic: record.topic, partition: record.partition, offset: offset),
                        encoded)
                    if record.timestamp > state.maxTimestamp {
                        state.maxTimestamp = record.timestamp
                        try transaction.put(
                            log.tables.times,
                            EmbeddedLayout.timeKey(topic: record.topic, partition: record.partition, timestamp: record.timestamp, offset: offset),
                            [UInt8]())
                    }
                    state.nextOffset = offset + 1
                    states[partitionId] = state
                }
                for (partitionId, state) in states {
                    let key = EmbeddedLayout.partitionKey(topic: UInt32(partitionId >> 32), partition: Int32(bitPattern: UInt32(truncatingIfNeeded: partitionId)))
                    try transaction.put(log.tables.partitions, key, state.encoded)
                }
            }
            try notifier.notify()
        } catch {
            self.error = LogError("writing \(batch.count) records to \(log.description) failed: \(error)")
        }
    }
}
