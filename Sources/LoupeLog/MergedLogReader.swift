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

    /// How many records a partition may hold buffered before it is paused.
    public static let bufferLimit = 8_192

    private let consumer: any LogConsumer
    /// The partitions in tie-break order: on equal clocks, earlier partitions go first.
    public let partitions: [TopicPartition]
    private let slotOf: [TopicPartition: Int]
    // Per partition, by its slot (its place in `partitions`): the cursor, the records fetched
    // but not yet returned (from `heads[slot]` on), and their clocks.
    private var slotCursors: [Cursor]
    private var buffers: [[LogRecord]]
    private var clocks: [[Int64]]
    private var heads: [Int]
    private var paused: Set<TopicPartition> = []

    /// Where each partition's reading stands after the records returned so far.
    public var cursors: [TopicPartition: Cursor] {
        Dictionary(uniqueKeysWithValues: zip(partitions, slotCursors))
    }

    /// Where one of the reader's partitions stands.
    public func position(of partition: TopicPartition) -> Cursor {
        slotCursors[slotOf[partition]!]
    }

    /// Assigns `partitions` (in tie-break order) to `consumer`, starting at `cursors`
    /// (partitions without a cursor start at the beginning).
    public init(consumer: any LogConsumer, partitions: [TopicPartition], cursors: [TopicPartition: Cursor]) throws {
        self.consumer = consumer
        self.partitions = partitions
        slotOf = Dictionary(uniqueKeysWithValues: partitions.enumerated().map { ($1, $0) })
        var starts: [TopicPartition: StartPosition] = [:]
        for partition in partitions {
            starts[partition] = cursors[partition].map { .offset($0.next) } ?? .beginning
        }
        try consumer.assign(starts)
        slotCursors = partitions.map { cursors[$0] ?? Cursor(next: consumer.position($0) ?? 0) }
        buffers = Array(repeating: [], count: partitions.count)
        clocks = Array(repeating: [], count: partitions.count)
        heads = Array(repeating: 0, count: partitions.count)
    }

    /// Partitions with nothing buffered that have not reached their end: what the merge waits for.
    public func waitingFor(ends: [TopicPartition: Int64]? = nil) -> [TopicPartition] {
        let limits = endOffsets(ends)
        return partitions.indices.filter { isWaiting($0, limits) }.map { partitions[$0] }
    }

    /// Up to `maxRecords` records in merge order. Waits up to `timeout` for records while the
    /// merge is blocked and nothing has been returned yet. With `ends`, a partition whose next
    /// offset has reached its end no longer holds the merge.
    public func read(maxRecords: Int, timeout: Duration, ends: [TopicPartition: Int64]? = nil) throws -> [LogRecord] {
        let deadline = ContinuousClock.now + timeout
        let limits = endOffsets(ends)
        var output: [LogRecord] = []
        output.reserveCapacity(min(maxRecords, 65_536))
        while output.count < maxRecords {
            if partitions.indices.contains(where: { isWaiting($0, limits) }) {
                let wait = output.isEmpty ? max(.zero, deadline - ContinuousClock.now) : .zero
                try fetch(timeout: wait)
                if partitions.indices.contains(where: { isWaiting($0, limits) }) {
                    if output.isEmpty, ContinuousClock.now < deadline { continue }
                    break
                }
            }
            // Emit from the smallest head until some partition runs dry.
            while output.count < maxRecords, let slot = smallestHead(limits) {
                let head = heads[slot]
                let record = buffers[slot][head]
                slotCursors[slot] = Cursor(next: record.offset + 1, clock: clocks[slot][head])
                heads[slot] = head + 1
                output.append(record)
                if heads[slot] == buffers[slot].count {
                    compact(slot)
                    if isWaiting(slot, limits) { break }
                }
            }
            if smallestHead(limits) == nil, !partitions.indices.contains(where: { isWaiting($0, limits) }) {
                // Every partition is at its end. Rather than return at once (and be called again
                // at once), wait for the log to grow, so that an idle reader sleeps.
                if output.isEmpty, ContinuousClock.now < deadline { try fetch(timeout: deadline - ContinuousClock.now) }
                break
            }
        }
        return output
    }

    /// End offsets by slot (`Int64.max`: no end).
    private func endOffsets(_ ends: [TopicPartition: Int64]?) -> [Int64] {
        partitions.map { ends?[$0] ?? .max }
    }

    private func isWaiting(_ slot: Int, _ limits: [Int64]) -> Bool {
        heads[slot] >= buffers[slot].count && slotCursors[slot].next < limits[slot]
    }

    /// The slot whose next record comes first; records at or past a partition's end are not
    /// returned.
    private func smallestHead(_ limits: [Int64]) -> Int? {
        var best: Int?
        var bestClock = Int64.max
        for slot in partitions.indices where heads[slot] < buffers[slot].count {
            guard buffers[slot][heads[slot]].offset < limits[slot] else { continue }
            let clock = clocks[slot][heads[slot]]
            if best == nil || clock < bestClock {
                best = slot
                bestClock = clock
            }
        }
        return best
    }

    /// Polls the consumer once, pausing partitions whose buffers are full.
    private func fetch(timeout: Duration) throws {
        let full = Set(partitions.indices.filter { buffers[$0].count - heads[$0] >= Self.bufferLimit }.map { partitions[$0] })
        let toPause = full.subtracting(paused)
        let toResume = paused.subtracting(full)
        if !toPause.isEmpty { try consumer.pause(toPause.sorted()) }
        if !toResume.isEmpty { try consumer.resume(toResume.sorted()) }
        paused = full
        if paused.count == partitions.count { return }
        // Records come in runs of one partition: look the slot up once per run, not per record.
        var run: (topic: String, partition: Int32, slot: Int?) = ("", -1, nil)
        for record in try consumer.poll(maxRecords: 4_096, timeout: timeout) {
            if record.partition != run.partition || record.topic != run.topic {
                run = (record.topic, record.partition, slotOf[record.topicPartition])
            }
            guard let slot = run.slot else { continue }
            let previous = clocks[slot].last ?? slotCursors[slot].clock
            buffers[slot].append(record)
            clocks[slot].append(max(previous, record.timestamp))
        }
    }

    private func compact(_ slot: Int) {
        let head = heads[slot]
        if head == buffers[slot].count {
            buffers[slot].removeAll(keepingCapacity: true)
            clocks[slot].removeAll(keepingCapacity: true)
            heads[slot] = 0
        } else if head >= 4_096 {
            buffers[slot].removeFirst(head)
            clocks[slot].removeFirst(head)
            heads[slot] = 0
        }
    }
}
