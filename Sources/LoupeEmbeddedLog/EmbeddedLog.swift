public import LoupeLog
import Foundation
import LoupeBytes
import LoupeLMDB

/// Loupe's log on LMDB, for one machine: the same topics, partitions, offsets, consumer-group
/// positions and retention as Kafka, in `<directory>/log`.
///
/// Any number of processes may produce to and consume from the same directory at once: LMDB
/// serialises writers across processes and gives readers snapshots, and `AppendNotifier`
/// wakes waiting readers. Records are durable once `flush` returns (LMDB syncs on commit).
public final class EmbeddedLog: EventLog {
    let environment: LMDBEnvironment
    let tables: EmbeddedLayout.Tables
    let directory: String

    /// Opens (creating if needed) the embedded log of data directory `directory`. What it
    /// creates is private (0700 directories, 0600 files); an existing data directory that group
    /// or others may enter is reported on standard error.
    public init(directory: String) throws {
        self.directory = directory + "/log"
        do {
            try PrivateFiles.createDirectory(directory, ifExisting: .warnIfShared)
            environment = try LMDBEnvironment.shared(path: self.directory)
            tables = try EmbeddedLayout.Tables(environment)
        } catch let error as LMDBError {
            throw LogError("cannot open the embedded log at \(self.directory): \(error)")
        }
    }

    public var description: String { "embedded log at \(directory)" }

    /// Makes records that a writer killed mid-commit made durable visible to this process
    /// (`LMDBEnvironment.publishCommitOfKilledWriter`): for a tool that counts the log right
    /// after killing a process that wrote it.
    public func publishCommitOfKilledWriter() throws {
        try environment.publishCommitOfKilledWriter()
    }

    // MARK: topics

    public func apply(_ topics: [TopicSpec]) throws -> [String: TopicApplyOutcome] {
        for spec in topics {
            guard spec.partitions > 0 else { throw LogError("topic \(spec.name): partitions must be at least 1") }
            guard Self.isValidTopicName(spec.name) else {
                throw LogError("\"\(spec.name)\" is not a valid topic name (letters, digits, '.', '_', '-'; at most 249)")
            }
        }
        return try environment.write { transaction in
            var outcomes: [String: TopicApplyOutcome] = [:]
            var nextId = try Self.readCounter(transaction, tables.meta, "next_topic_id")
            for spec in topics {
                if let existing = try storedTopic(named: spec.name, in: transaction) {
                    if existing.spec.partitions != spec.partitions {
                        outcomes[spec.name] = .conflict(
                            "has \(existing.spec.partitions) partitions, the definition says \(spec.partitions)")
                    } else {
                        outcomes[spec.name] = .unchanged
                    }
                    continue
                }
                let stored = StoredTopic(id: UInt32(nextId), spec: spec)
                nextId += 1
                try transaction.put(tables.topics, Array(spec.name.utf8), Array(try JSONEncoder().encode(stored)))
                for partition in 0..<spec.partitions {
                    try transaction.put(
                        tables.partitions, EmbeddedLayout.partitionKey(topic: stored.id, partition: Int32(partition)),
                        EmbeddedLayout.PartitionState().encoded)
                }
                outcomes[spec.name] = .created
            }
            try Self.writeCounter(transaction, tables.meta, "next_topic_id", nextId)
            return outcomes
        }
    }

    /// Kafka's rule for topic names.
    static func isValidTopicName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 249 && name != "." && name != ".."
            && name.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".")
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
    }

    public func describeTopics() throws -> [TopicDescription] {
        try environment.read { transaction in
            var descriptions: [TopicDescription] = []
            let cursor = try transaction.cursor(tables.topics)
            var entry = try cursor.first()
            while let current = entry {
                let stored = try JSONDecoder().decode(StoredTopic.self, from: Data(current.value))
                let watermarks = try (0..<stored.spec.partitions).map { partition in
                    try self.watermarks(topic: stored.id, partition: Int32(partition), in: transaction)
                }
                descriptions.append(TopicDescription(name: stored.spec.name, partitions: watermarks, config: stored.spec.config))
                entry = try cursor.next()
            }
            return descriptions
        }
    }

    public func partitionCount(of topic: String) throws -> Int {
        try environment.read { transaction in try requireTopic(topic, in: transaction).spec.partitions }
    }

    public func watermarks(_ partition: TopicPartition) throws -> Watermarks {
        try environment.read { transaction in
            let stored = try requireTopic(partition.topic, in: transaction)
            try Self.checkPartition(partition, of: stored)
            return try watermarks(topic: stored.id, partition: partition.partition, in: transaction)
        }
    }

    public func makeProducer() throws -> any LogProducer {
        EmbeddedProducer(log: self)
    }

    public func makeConsumer(group: String?) throws -> any LogConsumer {
        try EmbeddedConsumer(log: self, group: group)
    }

    // MARK: shared by producer, consumer and cleaner

    func storedTopic(named name: String, in transaction: LMDBTransaction) throws -> StoredTopic? {
        guard let value = try transaction.get(tables.topics, Array(name.utf8)) else { return nil }
        return try JSONDecoder().decode(StoredTopic.self, from: Data(value))
    }

    func requireTopic(_ name: String, in transaction: LMDBTransaction) throws -> StoredTopic {
        guard let stored = try storedTopic(named: name, in: transaction) else {
            throw LogError("topic \(name) does not exist in \(description); create it with `loupe topics apply`")
        }
        return stored
    }

    static func checkPartition(_ partition: TopicPartition, of stored: StoredTopic) throws {
        guard partition.partition >= 0, Int(partition.partition) < stored.spec.partitions else {
            throw LogError("topic \(partition.topic) has no partition \(partition.partition) (it has \(stored.spec.partitions))")
        }
    }

    func partitionState(topic: UInt32, partition: Int32, in transaction: LMDBTransaction) throws -> EmbeddedLayout.PartitionState {
        guard let value = try transaction.get(tables.partitions, EmbeddedLayout.partitionKey(topic: topic, partition: partition)) else {
            return EmbeddedLayout.PartitionState()
        }
        return EmbeddedLayout.PartitionState(value)
    }

    func watermarks(topic: UInt32, partition: Int32, in transaction: LMDBTransaction) throws -> Watermarks {
        let high = try partitionState(topic: topic, partition: partition, in: transaction).nextOffset
        let cursor = try transaction.cursor(tables.records)
        let prefix = EmbeddedLayout.partitionKey(topic: topic, partition: partition)
        if let first = try cursor.seek(atOrAfter: EmbeddedLayout.recordKey(topic: topic, partition: partition, offset: 0)),
            first.key.starts(with: prefix)
        {
            return Watermarks(low: first.key.loadBigEndian(Int64.self, at: 8), high: high)
        }
        return Watermarks(low: high, high: high)
    }

    /// The offset a consumer starting at `position` reads first.
    func resolve(_ position: StartPosition, topic: UInt32, partition: Int32, in transaction: LMDBTransaction) throws -> Int64 {
        let marks = try watermarks(topic: topic, partition: partition, in: transaction)
        switch position {
        case .beginning:
            return marks.low
        case .end:
            return marks.high
        case .offset(let offset):
            return min(max(offset, marks.low), marks.high)
        case .timestamp(let time):
            // The first index entry whose running maximum reaches `time` is the first record
            // with a timestamp at or after `time`.
            let cursor = try transaction.cursor(tables.times)
            let prefix = EmbeddedLayout.partitionKey(topic: topic, partition: partition)
            guard let entry = try cursor.seek(atOrAfter: EmbeddedLayout.timeKey(topic: topic, partition: partition, timestamp: time, offset: 0)),
                entry.key.starts(with: prefix)
            else { return marks.high }
            let offset = entry.key.loadBigEndian(Int64.self, at: 16)
            if offset >= marks.low { return offset }
            // That record is gone (retention); scan the retained records instead.
            return try firstRetainedOffset(atOrAfter: time, topic: topic, partition: partition, from: marks, in: transaction)
        }
    }

    private func firstRetainedOffset(
        atOrAfter time: Int64, topic: UInt32, partition: Int32, from marks: Watermarks, in transaction: LMDBTransaction
    ) throws -> Int64 {
        let cursor = try transaction.cursor(tables.records)
        let prefix = EmbeddedLayout.partitionKey(topic: topic, partition: partition)
        var entry = try cursor.seek(atOrAfter: EmbeddedLayout.recordKey(topic: topic, partition: partition, offset: marks.low))
        while let current = entry, current.key.starts(with: prefix) {
            if EmbeddedLayout.recordTimestamp(current.value) >= time {
                return current.key.loadBigEndian(Int64.self, at: 8)
            }
            entry = try cursor.next()
        }
        return marks.high
    }

    static func readCounter(_ transaction: LMDBTransaction, _ table: LMDBDatabase, _ name: String) throws -> Int64 {
        guard let value = try transaction.get(table, Array(name.utf8)) else { return 0 }
        return value.loadLittleEndian(Int64.self, at: 0)
    }

    static func writeCounter(_ transaction: LMDBTransaction, _ table: LMDBDatabase, _ name: String, _ value: Int64) throws {
        var bytes: [UInt8] = []
        bytes.appendLittleEndian(value)
        try transaction.put(table, Array(name.utf8), bytes)
    }
}
