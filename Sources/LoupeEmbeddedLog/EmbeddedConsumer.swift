import LoupeLog
import Foundation
import LoupeBytes
import LoupeLMDB

/// Reads the embedded log. Each `poll` is one read transaction (a consistent snapshot); when
/// nothing is ready it sleeps on the log's append notifications instead of spinning.
final class EmbeddedConsumer: LogConsumer {
    private struct Assigned {
        var topic: StoredTopic
        var next: Int64
    }

    private let log: EmbeddedLog
    private let group: String?
    private let watch: AppendNotifier.Watch
    private var assigned: [TopicPartition: Assigned] = [:]
    /// Assigned partitions in a fixed order; `poll` starts where the last one stopped so that
    /// a busy partition cannot starve the others.
    private var order: [TopicPartition] = []
    private var cursorStart = 0
    private var paused: Set<TopicPartition> = []

    init(log: EmbeddedLog, group: String?) throws {
        self.log = log
        self.group = group
        watch = try AppendNotifier(directory: log.directory).watch()
    }

    func assign(_ positions: [TopicPartition: StartPosition]) throws {
        var resolved: [TopicPartition: Assigned] = [:]
        try log.environment.read { transaction in
            for (partition, position) in positions {
                let stored = try log.requireTopic(partition.topic, in: transaction)
                try EmbeddedLog.checkPartition(partition, of: stored)
                let next = try log.resolve(position, topic: stored.id, partition: partition.partition, in: transaction)
                resolved[partition] = Assigned(topic: stored, next: next)
            }
        }
        assigned = resolved
        paused = []
        order = resolved.keys.sorted()
        cursorStart = 0
    }

    func subscribe(_ topics: [String], fallback: StartPosition) throws {
        var partitions: [TopicPartition] = []
        for topic in topics {
            let count = try log.partitionCount(of: topic)
            partitions += (0..<Int32(count)).map { TopicPartition(topic, $0) }
        }
        let committed = group == nil ? [:] : try committed(partitions)
        var positions: [TopicPartition: StartPosition] = [:]
        for partition in partitions {
            positions[partition] = committed[partition].map { .offset($0) } ?? fallback
        }
        try assign(positions)
    }

    func assignment() -> [TopicPartition] { order }

    func seek(_ partition: TopicPartition, to position: StartPosition) throws {
        guard var entry = assigned[partition] else { throw LogError("seek on \(partition), which is not assigned") }
        entry.next = try log.environment.read { transaction in
            try log.resolve(position, topic: entry.topic.id, partition: partition.partition, in: transaction)
        }
        assigned[partition] = entry
    }

    func position(_ partition: TopicPartition) -> Int64? {
        assigned[partition]?.next
    }

    func pause(_ partitions: [TopicPartition]) throws {
        for partition in partitions where assigned[partition] == nil {
            throw LogError("pause \(partition), which is not assigned")
        }
        paused.formUnion(partitions)
    }

    func resume(_ partitions: [TopicPartition]) throws {
        paused.subtract(partitions)
    }

    func poll(maxRecords: Int, timeout: Duration) throws -> [LogRecord] {
        precondition(maxRecords > 0, "maxRecords must be positive")
        let deadline = ContinuousClock.now + timeout
        while true {
            watch.drain()
            let records = try readAvailable(maxRecords: maxRecords)
            if !records.isEmpty || order.isEmpty && timeout == .zero { return records }
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero { return [] }
            let milliseconds = remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000
            watch.wait(milliseconds: Int32(clamping: max(1, milliseconds)))
        }
    }

    private func readAvailable(maxRecords: Int) throws -> [LogRecord] {
        guard !order.isEmpty else { return [] }
        var records: [LogRecord] = []
        try log.environment.read { transaction in
            let cursor = try transaction.cursor(log.tables.records)
            for step in 0..<order.count where records.count < maxRecords {
                let partition = order[(cursorStart + step) % order.count]
                if paused.contains(partition) { continue }
                var entry = assigned[partition]!
                let prefix = EmbeddedLayout.partitionKey(topic: entry.topic.id, partition: partition.partition)
                var current = try cursor.seek(
                    atOrAfter: EmbeddedLayout.recordKey(topic: entry.topic.id, partition: partition.partition, offset: entry.next))
                while let found = current, records.count < maxRecords, found.key.starts(with: prefix) {
                    let offset = found.key.loadBigEndian(Int64.self, at: 8)
                    let record = EmbeddedLayout.decodeRecord(found.value)
                    records.append(
                        LogRecord(
                            topic: partition.topic, partition: partition.partition, offset: offset,
                            timestamp: record.timestamp, key: record.key, value: record.value))
                    entry.next = offset + 1
                    current = try cursor.next()
                }
                assigned[partition] = entry
            }
        }
        cursorStart = (cursorStart + 1) % order.count
        return records
    }

    func commit() throws {
        guard let group else { throw LogError("commit needs a consumer group (--group)") }
        let positions = assigned
        try log.environment.write { transaction in
            for (partition, entry) in positions {
                var value: [UInt8] = []
                value.appendLittleEndian(entry.next)
                try transaction.put(
                    log.tables.groups, EmbeddedLayout.groupKey(group: group, topic: entry.topic.id, partition: partition.partition), value)
            }
        }
    }

    func committed(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64] {
        guard let group else { throw LogError("committed offsets belong to a consumer group; this consumer has none") }
        return try log.environment.read { transaction in
            var result: [TopicPartition: Int64] = [:]
            for partition in partitions {
                let stored = try log.requireTopic(partition.topic, in: transaction)
                let key = EmbeddedLayout.groupKey(group: group, topic: stored.id, partition: partition.partition)
                if let value = try transaction.get(log.tables.groups, key) {
                    result[partition] = value.loadLittleEndian(Int64.self, at: 0)
                }
            }
            return result
        }
    }

    func close() {
        assigned = [:]
        order = []
    }
}
