import LoupeLog
import Foundation
import LoupeBytes
import LoupeLMDB

/// Applies retention and compaction to the embedded log, as Kafka's log cleaner does:
/// - `retention.ms` ≥ 0: records older than that are deleted from the head of each partition
///   (up to the first record that is still young enough, so the retained range stays contiguous);
/// - `cleanup.policy=compact`: of the records older than `min.compaction.lag.ms` (default 0),
///   only the newest per key is kept.
/// Producers run it after a flush at most once per `interval`; offsets never change.
struct EmbeddedCleaner {
    static let interval: Int64 = 60_000
    let log: EmbeddedLog

    func runIfDue(now: Int64) throws {
        let lastRun = try log.environment.read { transaction in
            try EmbeddedLog.readCounter(transaction, log.tables.meta, "cleaner_last_run")
        }
        if now - lastRun >= Self.interval { try run(now: now) }
    }

    /// Cleans every topic now; returns how many records were deleted.
    @discardableResult
    func run(now: Int64) throws -> Int {
        let topics = try log.environment.read { transaction in
            var topics: [StoredTopic] = []
            let cursor = try transaction.cursor(log.tables.topics)
            var entry = try cursor.first()
            while let current = entry {
                topics.append(try JSONDecoder().decode(StoredTopic.self, from: Data(current.value)))
                entry = try cursor.next()
            }
            return topics
        }
        var deleted = 0
        for topic in topics {
            for partition in 0..<Int32(topic.spec.partitions) {
                if let retention = topic.spec.retentionMilliseconds {
                    deleted += try expire(topic: topic, partition: partition, before: now - retention)
                }
                if topic.spec.isCompacted {
                    let lag = Int64(topic.spec.config["min.compaction.lag.ms"] ?? "0") ?? 0
                    deleted += try compact(topic: topic, partition: partition, before: now - lag)
                }
            }
        }
        try log.environment.write { transaction in
            try EmbeddedLog.writeCounter(transaction, log.tables.meta, "cleaner_last_run", now)
        }
        return deleted
    }

    private func expire(topic: StoredTopic, partition: Int32, before cutoff: Int64) throws -> Int {
        try log.environment.write { transaction in
            let prefix = EmbeddedLayout.partitionKey(topic: topic.id, partition: partition)
            let cursor = try transaction.cursor(log.tables.records)
            var deleted = 0
            var entry = try cursor.seek(atOrAfter: prefix)
            while let current = entry, current.key.starts(with: prefix), EmbeddedLayout.recordTimestamp(current.value) < cutoff {
                try cursor.deleteCurrent()
                deleted += 1
                entry = try cursor.seek(atOrAfter: prefix)
            }
            return deleted
        }
    }

    private func compact(topic: StoredTopic, partition: Int32, before cutoff: Int64) throws -> Int {
        try log.environment.write { transaction in
            let prefix = EmbeddedLayout.partitionKey(topic: topic.id, partition: partition)
            var newest: [[UInt8]: Int64] = [:]
            var candidates: [(offset: Int64, key: [UInt8])] = []
            let cursor = try transaction.cursor(log.tables.records)
            var entry = try cursor.seek(atOrAfter: prefix)
            while let current = entry, current.key.starts(with: prefix) {
                if let key = EmbeddedLayout.recordKeyBytes(current.value) {
                    let offset = current.key.loadBigEndian(Int64.self, at: 8)
                    newest[key] = offset
                    if EmbeddedLayout.recordTimestamp(current.value) < cutoff { candidates.append((offset, key)) }
                }
                entry = try cursor.next()
            }
            var deleted = 0
            for candidate in candidates where newest[candidate.key]! > candidate.offset {
                try transaction.delete(log.tables.records, EmbeddedLayout.recordKey(topic: topic.id, partition: partition, offset: candidate.offset))
                deleted += 1
            }
            return deleted
        }
    }
}
