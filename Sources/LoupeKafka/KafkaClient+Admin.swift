import LoupeLog
import CRdKafka

extension KafkaClient {
    /// Creates topics; the broker's answer for each, by name.
    func createTopics(_ specs: [TopicSpec]) throws -> [String: (code: rd_kafka_resp_err_t, text: String)] {
        if specs.isEmpty { return [:] }
        var newTopics: [OpaquePointer?] = []
        defer {
            for topic in newTopics { rd_kafka_NewTopic_destroy(topic) }
        }
        for spec in specs {
            var errorText = [CChar](repeating: 0, count: 512)
            guard
                let topic = rd_kafka_NewTopic_new(
                    spec.name, Int32(spec.partitions), Int32(spec.replicationFactor), &errorText, errorText.count)
            else {
                throw LogError("cannot define topic \(spec.name) for \(description): \(cText(errorText))")
            }
            newTopics.append(topic)
            for (key, value) in spec.config.sorted(by: { $0.key < $1.key }) {
                let code = rd_kafka_NewTopic_set_config(topic, key, value)
                guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw LogError.kafka("set \(key)=\(value) on topic \(spec.name)", code, at: description)
                }
            }
        }
        let operation = "create topics " + specs.map(\.name).joined(separator: ", ")
        return try adminRequest(RD_KAFKA_ADMIN_OP_CREATETOPICS, operation: operation) { options, queue in
            newTopics.withUnsafeMutableBufferPointer { topics in
                rd_kafka_CreateTopics(pointer, topics.baseAddress, topics.count, options, queue)
            }
        } read: { event in
            var count = 0
            let results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count)
            var answers: [String: (code: rd_kafka_resp_err_t, text: String)] = [:]
            for result in UnsafeBufferPointer(start: results, count: count).compactMap({ $0 }) {
                let code = rd_kafka_topic_result_error(result)
                let text = rd_kafka_topic_result_error_string(result).map { String(cString: $0) }
                answers[String(cString: rd_kafka_topic_result_name(result))] = (
                    code, text ?? KafkaErrorText.describe(code)
                )
            }
            return answers
        }
    }

    /// Topic configuration that matters to Loupe: whatever was set on the topic, plus the
    /// effective retention and cleanup policy.
    func describeConfigs(_ topics: [String]) throws -> [String: [String: String]] {
        if topics.isEmpty { return [:] }
        var resources: [OpaquePointer?] = topics.map { rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, $0) }
        defer {
            for resource in resources { rd_kafka_ConfigResource_destroy(resource) }
        }
        return try adminRequest(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, operation: "describe topic configs") {
            options, queue in
            resources.withUnsafeMutableBufferPointer { resources in
                rd_kafka_DescribeConfigs(pointer, resources.baseAddress, resources.count, options, queue)
            }
        } read: { event in
            var count = 0
            let results = rd_kafka_DescribeConfigs_result_resources(
                rd_kafka_event_DescribeConfigs_result(event), &count)
            var configs: [String: [String: String]] = [:]
            for resource in UnsafeBufferPointer(start: results, count: count).compactMap({ $0 }) {
                let name = String(cString: rd_kafka_ConfigResource_name(resource))
                let code = rd_kafka_ConfigResource_error(resource)
                guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    let text = rd_kafka_ConfigResource_error_string(resource).map { String(cString: $0) }
                    throw LogError.kafka("describe config of topic \(name)", code, detail: text, at: description)
                }
                var entryCount = 0
                let entries = rd_kafka_ConfigResource_configs(resource, &entryCount)
                var config: [String: String] = [:]
                for entry in UnsafeBufferPointer(start: entries, count: entryCount).compactMap({ $0 }) {
                    let key = String(cString: rd_kafka_ConfigEntry_name(entry))
                    let isSet = rd_kafka_ConfigEntry_source(entry) == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG
                    guard isSet || Self.reportedConfigs.contains(key), let value = rd_kafka_ConfigEntry_value(entry)
                    else {
                        continue
                    }
                    config[key] = String(cString: value)
                }
                configs[name] = config
            }
            return configs
        }
    }

    private static let reportedConfigs: Set<String> = ["retention.ms", "cleanup.policy"]

    /// Sends an admin request with a reply queue of its own and waits for its single result.
    private func adminRequest<Result>(
        _ kind: rd_kafka_admin_op_t,
        operation: String,
        send: (_ options: OpaquePointer, _ queue: OpaquePointer) -> Void,
        read: (_ event: OpaquePointer) throws -> Result
    ) throws -> Result {
        guard let queue = rd_kafka_queue_new(pointer) else {
            throw LogError("\(operation): cannot allocate a librdkafka queue (\(description))")
        }
        defer { rd_kafka_queue_destroy(queue) }
        guard let options = rd_kafka_AdminOptions_new(pointer, kind) else {
            throw LogError("\(operation): cannot allocate librdkafka admin options (\(description))")
        }
        defer { rd_kafka_AdminOptions_destroy(options) }
        var errorText = [CChar](repeating: 0, count: 512)
        var code = rd_kafka_AdminOptions_set_request_timeout(options, KafkaQueries.timeout, &errorText, errorText.count)
        if code == RD_KAFKA_RESP_ERR_NO_ERROR, kind == RD_KAFKA_ADMIN_OP_CREATETOPICS {
            // The broker answers once the topics exist (or this time is up), not merely accepted.
            code = rd_kafka_AdminOptions_set_operation_timeout(
                options, KafkaQueries.timeout, &errorText, errorText.count)
        }
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw LogError.kafka(operation, code, detail: cText(errorText), at: description)
        }
        send(options, queue)
        guard let event = rd_kafka_queue_poll(queue, KafkaQueries.timeout + 5_000) else {
            throw LogError("\(operation): no answer within \(KafkaQueries.timeout / 1000 + 5) s (\(description))")
        }
        defer { rd_kafka_event_destroy(event) }
        let eventCode = rd_kafka_event_error(event)
        guard eventCode == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let text = rd_kafka_event_error_string(event).map { String(cString: $0) }
            throw LogError.kafka(operation, eventCode, detail: text, at: description)
        }
        return try read(event)
    }
}
