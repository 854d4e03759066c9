import LoupeLog
import CRdKafka

/// One librdkafka client instance (`rd_kafka_t`), destroyed when released.
///
/// `@unchecked Sendable`: the only state is an immutable pointer, librdkafka documents its
/// client API as thread-safe, and the handle is destroyed only in `deinit`, when no thread can
/// use it any more. (Producers and consumers close early by dropping their client.)
final class KafkaClient: @unchecked Sendable {
    let pointer: OpaquePointer
    let configuration: KafkaConfiguration

    /// Takes ownership of `conf` (librdkafka keeps it on success, Loupe frees it on failure).
    init(_ type: rd_kafka_type_t, conf: OpaquePointer, configuration: KafkaConfiguration) throws {
        self.configuration = configuration
        var errorText = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            let role = type == RD_KAFKA_PRODUCER ? "producer" : "consumer"
            throw LogError(
                "cannot create a Kafka \(role) for \(configuration.description): \(configuration.redacting(cText(errorText)))")
        }
        pointer = handle
    }

    deinit {
        rd_kafka_destroy(pointer)
    }

    var description: String { configuration.description }

    var queries: KafkaQueries { KafkaQueries(pointer, description: description) }
}

/// A C string that librdkafka wrote into a buffer.
func cText(_ buffer: [CChar]) -> String {
    buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}
