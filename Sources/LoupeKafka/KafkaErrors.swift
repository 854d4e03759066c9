import LoupeLog
import CRdKafka

extension LogError {
    /// An error from librdkafka, with what Loupe was doing and where.
    static func kafka(_ operation: String, _ code: rd_kafka_resp_err_t, detail: String? = nil, at log: String)
        -> LogError
    {
        let text = detail ?? KafkaErrorText.describe(code)
        return LogError("\(operation) failed (\(log)): \(text) [\(KafkaErrorText.name(code))]")
    }
}

/// librdkafka's names and descriptions of its error codes.
enum KafkaErrorText {
    static func describe(_ code: rd_kafka_resp_err_t) -> String {
        String(cString: rd_kafka_err2str(code))
    }

    static func name(_ code: rd_kafka_resp_err_t) -> String {
        String(cString: rd_kafka_err2name(code))
    }

    /// Reads, then frees, an `rd_kafka_error_t`.
    static func consume(_ error: OpaquePointer) -> (code: rd_kafka_resp_err_t, text: String) {
        defer { rd_kafka_error_destroy(error) }
        return (rd_kafka_error_code(error), String(cString: rd_kafka_error_string(error)))
    }
}
