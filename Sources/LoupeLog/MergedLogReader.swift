/// Reads several partitions as one sequence whose order is a function of the log alone, not of
/// when records arrived or how the reads were split: the learner's fold order.
///
/// Each record gets a *clock*: the largest timestamp in its partition up to and including it.
/// Clocks never decrease along a partition, so merging the partitions by
/// (clock, rank of the partition, offset) is an ordinary k-way merge of sorted streams. A record
/// is returned only when every partition has a record buffered (so none can still bring an
/// earlier one) or has reached its end — when the caller gives ends (`--until-end`: the high
/// watermarks at start); otherwise `read` stops and `waitingFor` names the partitions it waits
/// on. Restarting from `cursors` (offset and clock of each partition) continues the same
/// sequence.
public final class MergedLogReader {
    /// Where a partition's reading stands: the next offset, and the clock of the record before it.
    public struct Cursor: Sendable, Equatable, Hashable {
        public var next: Int64
        public var clock: Int64

        public init(next: Int64, clock: Int64 = .min) {
            self.next = next
            self.clock = clock
        }
    }

    private struct Buffered {
        var record: LogRecord
        var clock: Int64
    }

    /// How many records a partition may hold buffered before it is paused.
    public static let bufferLimit = 8_192

    private let consumer: any LogConsumer
    /// The partitions in tie-break order: on equal clocks, earlier partitions go first.
    public let partitions: [TopicPartition]
    private let rank: [TopicPartition: Int]
    public private(set) var cursors: [TopicPartition: Cursor]
    private var buffers: [TopicPartition: [Buffered]]
    private var heads: [TopicPartition: Int]
    private var paused: Set<TopicPartition> = []

    /// Assigns `partitions` (in tie-break order) to `consumer`, starting at `cursors`
    /// (partitions without a cursor start at the beginning).
    public init(consumer: any LogConsumer, partitions: [TopicPartition], cursors: [TopicPartition: Cursor]) throws {
        self.consumer = consumer
        self.partitions = partitions
        rank = Dictionary(uniqueKeysWithValues: partitions.enumerated().map { ($1, $0) })
        var starts: [TopicPartition: StartPosition] = [:]
        var resolved: [TopicPartition: Cursor] = [:]
        for partition in partitions {
            let cursor = cursors[partition]
            starts[partition] = cursor.map { .offset($0.next) } ?? .beginning
            resolved[partition] = cursor ?? Cursor(next: 0)
        }
        try consumer.assign(starts)
        for partition in partitions where cursors[partition] == nil {
            resolved[partition]?.next = consumer.position(partition) ?? 0
        }
        self.cursors = resolved
        buffers = Dictionary(uniqueKeysWithValues: partitions.map { ($0, []) })
        heads = Dictionary(uniqueKeysWithValues: partitions.map { ($0, 0) })
    }

    /// Partitions with nothing buffered that have not reached their end: what the merge waits for.
    public func waitingFor(ends: [TopicPartition: Int64]? = nil) -> [TopicPartition] {
        partitions.filter { partition in
            isEmpty(partition) && !(ends?[partition].map { cursors[partition]!.next >= $0 } ?? false)
        }
    }

    /// Up to `maxRecords` records in merge order. Waits up to `timeout` for records while the
    /// merge is blocked and nothing has been returned yet. With `ends`, a partition whose next
    /// offset has reached its end no longer holds the merge.
    public func read(maxRecords: Int, timeout: Duration, ends: [TopicPartition: Int64]? = nil) throws -> [LogRecord] {
        let deadline = ContinuousClock.now + timeout
        var output: [LogRecord] = []
        while output.count < maxRecords {
            if !waitingFor(ends: ends).isEmpty {
                let wait = output.isEmpty ? max(.zero, deadline - ContinuousClock.now) : .zero
                try fetch(timeout: wait)
                if !waitingFor(ends: ends).isEmpty {
                    if output.isEmpty, ContinuousClock.now < deadline { continue }
                    break
                }
            }
            guard let next = smallestHead() else { break }
            let buffered = buffers[next]![heads[next]!]
            heads[next]! += 1
            cursors[next] = Cursor(next: buffered.record.offset + 1, clock: buffered.clock)
            output.append(buffered.record)
            compact(next)
        }
        return output
    }

    private func isEmpty(_ partition: TopicPartition) -> Bool {
        heads[partition]! >= buffers[partition]!.count
    }

    private func smallestHead() -> TopicPartition? {
        var best: (partition: TopicPartition, clock: Int64, rank: Int)?
        for partition in partitions where !isEmpty(partition) {
            let clock = buffers[partition]![heads[partition]!].clock
            let rank = self.rank[partition]!
            if let current = best, (current.clock, current.rank) <= (clock, rank) { continue }
            best = (partition, clock, rank)
        }
        return best?.partition
    }

    /// Polls the consumer once, pausing partitions whose buffers are full.
    private func fetch(timeout: Duration) throws {
        let full = Set(partitions.filter { buffers[$0]!.count - heads[$0]! >= Self.bufferLimit })
        let toPause = full.subtracting(paused)
        let toResume = paused.subtracting(full)
        if !toPause.isEmpty { try consumer.pause(toPause.sorted()) }
        if !toResume.isEmpty { try consumer.resume(toResume.sorted()) }
        paused = full
        if paused.count == partitions.count { return }
        for record in try consumer.poll(maxRecords: 4_096, timeout: timeout) {
            let partition = record.topicPartition
            guard buffers[partition] != nil else { continue }
            let previous = buffers[partition]!.last?.clock ?? cursors[partition]!.clock
            buffers[partition]!.append(Buffered(record: record, clock: max(previous, record.timestamp)))
        }
    }

    private func compact(_ partition: TopicPartition) {
        let head = heads[partition]!
        if head == buffers[partition]!.count {
            buffers[partition]!.removeAll(keepingCapacity: true)
            heads[partition] = 0
        } else if head >= 4_096 {
            buffers[partition]!.removeFirst(head)
            heads[partition] = 0
        }
    }
}
