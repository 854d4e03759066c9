public import LoupeLog
import CRdKafka
import Foundation

/// The Kafka backend of `EventLog`, on librdkafka.
///
/// A `KafkaLog` keeps one client for metadata and admin requests; every producer and consumer
/// it makes is a client of its own. It is `Sendable` because its stored properties are
/// immutable and `Sendable` (the client wraps a thread-safe librdkafka handle).
public final class KafkaLog: EventLog {
    public let description: String
    private let configuration: KafkaConfiguration
    private let admin: KafkaClient

    /// - Parameters:
    ///   - brokers: the bootstrap servers, `host:port[,host:port…]`.
    ///   - properties: librdkafka properties (SASL, TLS, tuning) for every client this log
    ///     makes; they override Loupe's defaults. An unknown property or an invalid value is an
    ///     error here; settings that conflict with each other, when a producer or consumer is made.
    ///     Errors never show the values of secret or unknown properties.
    ///   - origins: where each property is set (`file:line:column`), for error messages.
    public init(brokers: String, properties: [String: String], origins: [String: String] = [:]) throws {
        guard !brokers.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw LogError("no Kafka brokers given (expected host:port[,host:port…])")
        }
        configuration = KafkaConfiguration(brokers: brokers, userProperties: properties, origins: origins)
        description = configuration.description
        admin = try KafkaClient(
            RD_KAFKA_PRODUCER, conf: configuration.makeConf(role: [:]), configuration: configuration)
    }

    public func apply(_ topics: [TopicSpec]) throws -> [String: TopicApplyOutcome] {
        let existing = try admin.queries.partitionCounts()
        var outcomes: [String: TopicApplyOutcome] = [:]
        var missing: [TopicSpec] = []
        for spec in topics where outcomes[spec.name] == nil && !missing.contains(where: { $0.name == spec.name }) {
            if let count = existing[spec.name] {
                outcomes[spec.name] = Self.compare(spec, existingPartitions: count)
            } else {
                missing.append(spec)
            }
        }
        let results = try admin.createTopics(missing)
        var failures: [String] = []
        var racing: [TopicSpec] = []
        for spec in missing {
            let result = results[spec.name]
            switch result?.code {
            case RD_KAFKA_RESP_ERR_NO_ERROR: outcomes[spec.name] = .created
            case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS: racing.append(spec)
            default: failures.append("\(spec.name): \(result?.text ?? "no result from the broker")")
            }
        }
        guard failures.isEmpty else {
            throw LogError("create topics failed (\(description)): \(failures.joined(separator: "; "))")
        }
        try waitUntilVisible(missing.filter { outcomes[$0.name] == .created })
        if !racing.isEmpty {
            // Someone else created them since the metadata read: compare with what they made.
            let now = try admin.queries.partitionCounts()
            for spec in racing {
                outcomes[spec.name] = Self.compare(spec, existingPartitions: now[spec.name] ?? spec.partitions)
            }
        }
        return outcomes
    }

    public func describeTopics() throws -> [TopicDescription] {
        let counts = try admin.queries.partitionCounts().filter { !$0.key.hasPrefix("__") }
        let names = counts.keys.sorted()
        let partitions = names.flatMap { name in (0..<Int32(counts[name]!)).map { TopicPartition(name, $0) } }
        let marks = try admin.queries.watermarks(partitions, operation: "describe topics")
        let configs = try admin.describeConfigs(names)
        return names.map { name in
            TopicDescription(
                name: name,
                partitions: (0..<Int32(counts[name]!)).map { marks[TopicPartition(name, $0)]! },
                config: configs[name] ?? [:])
        }
    }

    public func partitionCount(of topic: String) throws -> Int {
        guard let count = try admin.queries.partitionCounts()[topic] else {
            throw LogError("topic \(topic) does not exist (\(description))")
        }
        return count
    }

    public func watermarks(_ partition: TopicPartition) throws -> Watermarks {
        try admin.queries.watermarks(partition)
    }

    public func makeProducer() throws -> any LogProducer {
        try KafkaProducer(configuration: configuration)
    }

    public func makeConsumer(group: String?) throws -> any LogConsumer {
        try KafkaConsumer(configuration: configuration, group: group)
    }

    private static func compare(_ spec: TopicSpec, existingPartitions: Int) -> TopicApplyOutcome {
        existingPartitions == spec.partitions
            ? .unchanged
            : .conflict("has \(existingPartitions) partitions, definition says \(spec.partitions)")
    }

    /// Topic creation is asynchronous in a Kafka cluster: wait until metadata shows the new
    /// topics, so that the caller's next request (a produce, `partitionCount`) finds them.
    private func waitUntilVisible(_ created: [TopicSpec]) throws {
        if created.isEmpty { return }
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let counts = try admin.queries.partitionCounts()
            let pending = created.filter { counts[$0.name] != $0.partitions }
            if pending.isEmpty { return }
            guard ContinuousClock.now < deadline else {
                throw LogError(
                    "created topics not visible in metadata after 30 s (\(description)): "
                        + pending.map(\.name).joined(separator: ", "))
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }
}
