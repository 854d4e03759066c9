import CRdKafka

/// The librdkafka properties of one client: Loupe's defaults for its role, overridden by the
/// properties the user passed through (SASL, TLS, tuning).
struct KafkaConfiguration: Sendable {
    let brokers: String
    let userProperties: [String: String]

    /// For logs and error messages.
    var description: String { "Kafka at \(brokers)" }

    /// Topics are created by `apply` with their partition counts. A broker that auto-creates a
    /// topic on a metadata request gives it the broker default (often 1 partition), which would
    /// silently break key → partition placement, so no Loupe client asks for auto-creation.
    static let common: [String: String] = [
        "allow.auto.create.topics": "false"
    ]

    static let producer: [String: String] = [
        "enable.idempotence": "true",
        "acks": "all",
        // Java-client-compatible key hashing: murmur2(key) & 0x7fffffff mod partitions,
        // the same placement as the embedded log.
        "partitioner": "murmur2_random",
        // Batching for throughput at a few milliseconds of latency; explicit because
        // librdkafka's defaults have changed between versions (linger.ms was 0.5 before 1.7).
        "linger.ms": "5",
        "batch.num.messages": "10000",
        "batch.size": "1000000",
        "queue.buffering.max.messages": "100000",
    ]

    static let consumer: [String: String] = [
        "enable.auto.commit": "false",
        "enable.auto.offset.store": "false",
        "auto.offset.reset": "earliest",
        "enable.partition.eof": "false",
        // Some Kafka-compatible brokers ignore fetch.max.bytes, and a fetch response over
        // librdkafka's default 100 MB limit then stalls the consumer for good. Apache Kafka
        // honours fetch.max.bytes, so the larger limit costs nothing there.
        "receive.message.max.bytes": "1000000000",
    ]

    /// A new `rd_kafka_conf_t` (the caller owns it) with bootstrap servers, the role's
    /// defaults, then the user's properties.
    func makeConf(role defaults: [String: String], extra: [String: String] = [:]) throws -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw LogError("cannot allocate a librdkafka configuration (\(description))")
        }
        do {
            try set(conf, "bootstrap.servers", brokers, source: "brokers")
            for (key, value) in Self.common.merging(defaults, uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key })
            {
                try set(conf, key, value, source: "Loupe default")
            }
            for (key, value) in userProperties.sorted(by: { $0.key < $1.key }) {
                try set(conf, key, value, source: "property")
            }
            for (key, value) in extra.sorted(by: { $0.key < $1.key }) {
                try set(conf, key, value, source: "Loupe")
            }
        } catch {
            rd_kafka_conf_destroy(conf)
            throw error
        }
        return conf
    }

    private func set(_ conf: OpaquePointer, _ key: String, _ value: String, source: String) throws {
        var errorText = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(conf, key, value, &errorText, errorText.count)
        guard result == RD_KAFKA_CONF_OK else {
            let shown = Self.isSecret(key) ? "<redacted>" : "\"\(value)\""
            throw LogError(
                "invalid librdkafka \(source) \(key)=\(shown) for \(description): \(cText(errorText))")
        }
    }

    private static func isSecret(_ key: String) -> Bool {
        key.contains("password") || key.contains("secret") || key.hasSuffix(".key.pem")
    }
}
