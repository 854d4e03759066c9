/// Puts every topic of a log under a prefix (`log.topic_prefix`), so that several Loupe
/// deployments — or test runs — can share one Kafka cluster. Callers use the plain names
/// (`interactions`); the underlying log sees `<prefix>interactions`. Topics outside the prefix
/// are invisible through it.
public struct NamespacedLog: EventLog {
    public let base: any EventLog
    public let prefix: String

    public init(_ base: any EventLog, prefix: String) {
        self.base = base
        self.prefix = prefix
    }

    public var description: String { "\(base.description) (topics prefixed \"\(prefix)\")" }

    func outer(_ partition: TopicPartition) -> TopicPartition {
        TopicPartition(prefix + partition.topic, partition.partition)
    }

    func inner(_ partition: TopicPartition) -> TopicPartition {
        TopicPartition(String(partition.topic.dropFirst(prefix.count)), partition.partition)
    }

    public func apply(_ topics: [TopicSpec]) throws -> [String: TopicApplyOutcome] {
        let outcomes = try base.apply(topics.map { spec in
            var prefixed = spec
            prefixed.name = prefix + spec.name
            return prefixed
        })
        return Dictionary(uniqueKeysWithValues: outcomes.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
    }

    public func describeTopics() throws -> [TopicDescription] {
        try base.describeTopics().filter { $0.name.hasPrefix(prefix) }.map { description in
            var inner = description
            inner.name = String(description.name.dropFirst(prefix.count))
            return inner
        }
    }

    public func partitionCount(of topic: String) throws -> Int {
        try base.partitionCount(of: prefix + topic)
    }

    public func watermarks(_ partition: TopicPartition) throws -> Watermarks {
        try base.watermarks(outer(partition))
    }

    public func makeProducer() throws -> any LogProducer {
        NamespacedProducer(base: try base.makeProducer(), prefix: prefix)
    }

    public func makeConsumer(group: String?) throws -> any LogConsumer {
        NamespacedConsumer(base: try base.makeConsumer(group: group), log: self)
    }
}

final class NamespacedProducer: LogProducer {
    let base: any LogProducer
    let prefix: String

    init(base: any LogProducer, prefix: String) {
        self.base = base
        self.prefix = prefix
    }

    func send(topic: String, key: [UInt8]?, value: [UInt8], timestamp: Int64) throws {
        try base.send(topic: prefix + topic, key: key, value: value, timestamp: timestamp)
    }

    func flush() throws { try base.flush() }
    func close() throws { try base.close() }
}

final class NamespacedConsumer: LogConsumer {
    let base: any LogConsumer
    let log: NamespacedLog

    init(base: any LogConsumer, log: NamespacedLog) {
        self.base = base
        self.log = log
    }

    func assign(_ positions: [TopicPartition: StartPosition]) throws {
        try base.assign(Dictionary(uniqueKeysWithValues: positions.map { (log.outer($0.key), $0.value) }))
    }

    func subscribe(_ topics: [String], fallback: StartPosition) throws {
        try base.subscribe(topics.map { log.prefix + $0 }, fallback: fallback)
    }

    func assignment() -> [TopicPartition] { base.assignment().map(log.inner) }

    func seek(_ partition: TopicPartition, to position: StartPosition) throws {
        try base.seek(log.outer(partition), to: position)
    }

    func position(_ partition: TopicPartition) -> Int64? { base.position(log.outer(partition)) }

    func pause(_ partitions: [TopicPartition]) throws { try base.pause(partitions.map(log.outer)) }

    func resume(_ partitions: [TopicPartition]) throws { try base.resume(partitions.map(log.outer)) }

    func poll(maxRecords: Int, timeout: Duration) throws -> [LogRecord] {
        try base.poll(maxRecords: maxRecords, timeout: timeout).map { record in
            var inner = record
            inner.topic = String(record.topic.dropFirst(log.prefix.count))
            return inner
        }
    }

    func commit() throws { try base.commit() }

    func committed(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64] {
        let result = try base.committed(partitions.map(log.outer))
        return Dictionary(uniqueKeysWithValues: result.map { (log.inner($0.key), $0.value) })
    }

    func close() { base.close() }
}
