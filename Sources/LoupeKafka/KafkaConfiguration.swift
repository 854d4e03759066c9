import LoupeLog
import CRdKafka
import LoupeConfig

/// The librdkafka properties of one client: Loupe's defaults for its role, overridden by the
/// properties the user passed through (SASL, TLS, tuning).
///
/// No message shows the value of a secret property (`SecretSettings`) or of one librdkafka does
/// not know (it may be a misspelt secret); librdkafka's own messages have such values removed.
struct KafkaConfiguration: Sendable, CustomStringConvertible {
    let brokers: String
    @Redacted var userProperties: [String: String]
    /// Where each user property is set (`file:line:column`), for error messages.
    let origins: [String: String]

    init(brokers: String, userProperties: [String: String], origins: [String: String] = [:]) {
        self.brokers = brokers
        self.userProperties = userProperties
        self.origins = origins
    }

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
            let origin = origins[key].map { " (\($0))" } ?? ""
            let problem = redacting(SecretSettings.redacting([value], in: cText(errorText)))
            if result == RD_KAFKA_CONF_UNKNOWN || SecretSettings.isSecret(name: key) {
                throw LogError(
                    "invalid librdkafka \(source) \(key)\(origin) for \(description): \(problem) "
                        + "(the value is not shown: it may be a secret)")
            }
            throw LogError("invalid librdkafka \(source) \(key)=\"\(value)\"\(origin) for \(description): \(problem)")
        }
    }

    /// `text` (a message of librdkafka's) without the values of secret user properties.
    func redacting(_ text: String) -> String {
        SecretSettings.redacting(userProperties.filter { SecretSettings.isSecret(name: $0.key) }.values, in: text)
    }
}
