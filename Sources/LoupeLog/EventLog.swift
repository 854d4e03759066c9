/// A topic as Loupe defines it: the files in `topics/` and `DefaultTopics` describe these.
public struct TopicSpec: Sendable, Equatable, Hashable, Codable {
    public var name: String
    public var partitions: Int
    public var replicationFactor: Int
    /// The event field used as the record key (documentation; producers set the key).
    public var key: String
    /// Kafka topic configuration, such as `retention.ms` and `cleanup.policy`.
    public var config: [String: String]

    public init(name: String, partitions: Int, replicationFactor: Int = 1, key: String, config: [String: String]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.key = key
        self.config = config
    }

    /// `retention.ms`, or nil when records are kept forever (-1 or absent).
    public var retentionMilliseconds: Int64? {
        guard let text = config["retention.ms"], let value = Int64(text), value >= 0 else { return nil }
        return value
    }

    public var isCompacted: Bool {
        (config["cleanup.policy"] ?? "delete").split(separator: ",").contains("compact")
    }
}

public struct TopicPartition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)/\(partition)" }

    public static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }
}

/// One record read from the log.
public struct LogRecord: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// Epoch milliseconds (the producer's CreateTime).
    public var timestamp: Int64
    public var key: [UInt8]?
    public var value: [UInt8]

    public init(topic: String, partition: Int32, offset: Int64, timestamp: Int64, key: [UInt8]?, value: [UInt8]) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
    }

    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }
}

/// Where a consumer starts reading a partition.
public enum StartPosition: Sendable, Equatable {
    /// The oldest retained record.
    case beginning
    /// The next record to be written (only new records are read).
    case end
    /// A given offset (clamped to the retained range).
    case offset(Int64)
    /// The first record whose timestamp is at or after this epoch-millisecond time
    /// (the end when there is none).
    case timestamp(Int64)
}

/// The retained range of a partition: `low` is the first offset still stored, `high` the
/// offset the next record will get (Kafka's high watermark).
public struct Watermarks: Sendable, Equatable {
    public var low: Int64
    public var high: Int64

    public init(low: Int64, high: Int64) {
        self.low = low
        self.high = high
    }
}

public struct TopicDescription: Sendable, Equatable {
    public var name: String
    public var partitions: [Watermarks]
    public var config: [String: String]

    public init(name: String, partitions: [Watermarks], config: [String: String]) {
        self.name = name
        self.partitions = partitions
        self.config = config
    }

    /// Records currently retained across all partitions.
    public var retainedRecords: Int64 { partitions.reduce(0) { $0 + $1.high - $1.low } }
}

/// What `apply` did with one topic.
public enum TopicApplyOutcome: Sendable, Equatable {
    case created
    case unchanged
    /// The topic exists but differs from its definition in a way apply will not change
    /// (fewer or more partitions); the message says how.
    case conflict(String)
}

/// Loupe's log: Kafka when brokers are configured, the embedded LMDB log otherwise.
/// Both pass the same conformance suite (Tests/LoupeLogTests).
public protocol EventLog: Sendable {
    /// Human-readable, for logs and summaries: "embedded log at ./loupe-data".
    var description: String { get }

    /// Creates the topics that do not exist yet; reports what it did with each.
    func apply(_ topics: [TopicSpec]) throws -> [String: TopicApplyOutcome]

    /// Every topic with its partitions' watermarks, sorted by name.
    func describeTopics() throws -> [TopicDescription]

    func partitionCount(of topic: String) throws -> Int

    func watermarks(_ partition: TopicPartition) throws -> Watermarks

    func makeProducer() throws -> any LogProducer

    /// A consumer; `group` names the consumer group whose committed positions `commit` writes
    /// and `committed` reads. Without a group, `commit` is an error.
    func makeConsumer(group: String?) throws -> any LogConsumer
}

/// Appends records. `send` buffers; `flush` returns once every record sent so far is durably
/// stored (Kafka: acknowledged by all in-sync replicas), and throws the first delivery error.
/// Records with the same key go to the same partition: murmur2(key) mod partitions, as Kafka's
/// default partitioner does.
public protocol LogProducer: AnyObject {
    func send(topic: String, key: [UInt8]?, value: [UInt8], timestamp: Int64) throws
    func flush() throws
    /// Flushes, then releases the producer.
    func close() throws
}

/// Reads records from assigned partitions, in offset order within each partition.
public protocol LogConsumer: AnyObject {
    /// Reads these partitions from these positions, replacing any previous assignment.
    func assign(_ positions: [TopicPartition: StartPosition]) throws
    /// Reads every partition of these topics. Kafka balances partitions among the group's
    /// members; the embedded log, which serves one machine, assigns every partition. Each
    /// partition starts at the group's committed position, or at `fallback` when there is none.
    func subscribe(_ topics: [String], fallback: StartPosition) throws
    func assignment() -> [TopicPartition]
    func seek(_ partition: TopicPartition, to position: StartPosition) throws
    /// The offset of the next record this consumer will return for the partition.
    func position(_ partition: TopicPartition) -> Int64?
    /// Stops returning records of these assigned partitions until `resume`; positions stay.
    /// Lets a reader that merges partitions stop buffering the ones that are ahead.
    func pause(_ partitions: [TopicPartition]) throws
    /// Returns records of paused partitions again, from their positions.
    func resume(_ partitions: [TopicPartition]) throws
    /// Up to `maxRecords` records; waits up to `timeout` (without spinning) when none are ready.
    func poll(maxRecords: Int, timeout: Duration) throws -> [LogRecord]
    /// Stores the current positions as the group's committed offsets.
    func commit() throws
    func committed(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64]
    func close()
}

/// Errors of both backends, with enough context to act on.
public struct LogError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

extension EventLog {
    /// Every partition of `topics`, in the order given and by partition number.
    public func partitions(of topics: [String]) throws -> [TopicPartition] {
        try topics.flatMap { topic in (0..<Int32(try partitionCount(of: topic))).map { TopicPartition(topic, $0) } }
    }

    /// Reads `partitions` one after another, each from `starts[partition]` (the oldest retained
    /// record when absent) to its end as it is when its turn comes, handing every record to
    /// `body` in offset order; records appended meanwhile are not read. A partition that yields
    /// nothing for `stallTimeout` before reaching that end (a log that stopped answering) throws
    /// rather than waiting for ever.
    public func forEachRecord(
        in partitions: [TopicPartition], from starts: [TopicPartition: Int64] = [:], stallTimeout: Duration = .seconds(120),
        _ body: (LogRecord) throws -> Void
    ) throws {
        guard !partitions.isEmpty else { return }
        let consumer = try makeConsumer(group: nil)
        defer { consumer.close() }
        for partition in partitions {
            let end = try watermarks(partition).high
            try consumer.assign([partition: starts[partition].map { .offset($0) } ?? .beginning])
            var lastProgress = ContinuousClock.now
            while let position = consumer.position(partition), position < end {
                let records = try consumer.poll(maxRecords: 1_000, timeout: .seconds(1))
                guard !records.isEmpty else {
                    guard lastProgress.duration(to: .now) < stallTimeout else {
                        throw LogError("reading \(partition) of \(description) stopped at offset \(position) of \(end) for \(stallTimeout)")
                    }
                    continue
                }
                lastProgress = .now
                for record in records where record.offset < end { try body(record) }
            }
        }
    }
}
