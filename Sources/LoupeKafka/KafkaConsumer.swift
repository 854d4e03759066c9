import LoupeLog
import CRdKafka
import Foundation

/// A librdkafka high-level consumer that reads explicitly assigned partitions, or a group
/// subscription; offsets are committed only by `commit()`.
///
/// Every start position is resolved to an exact offset before librdkafka starts fetching, so
/// `position(_:)` is exact from the moment a partition is assigned.
final class KafkaConsumer: LogConsumer {
    private var client: KafkaClient?
    private let state: ConsumerState
    private let group: String?
    private var topicNames: [OpaquePointer: String] = [:]

    init(configuration: KafkaConfiguration, group: String?) throws {
        self.group = group
        state = ConsumerState(description: configuration.description)
        // librdkafka's consumer needs a group id even for assigned partitions; without a group,
        // a throwaway one (never joined unless subscribe is called, never committed to).
        let groupID = group ?? "loupe-ungrouped-\(UUID().uuidString)"
        let conf = try configuration.makeConf(role: KafkaConfiguration.consumer, extra: ["group.id": groupID])
        state.handleRebalances(of: conf)
        let client = try KafkaClient(RD_KAFKA_CONSUMER, conf: conf, configuration: configuration)
        rd_kafka_poll_set_consumer(client.pointer)
        self.client = client
    }

    deinit {
        close()
    }

    private var description: String { state.description }

    func assign(_ positions: [TopicPartition: StartPosition]) throws {
        let operation = "assign " + positions.keys.sorted().map(\.description).joined(separator: ", ")
        let client = try open(operation)
        guard !state.subscribed else {
            throw LogError("\(operation): this consumer is subscribed to a group; use a new consumer (\(description))")
        }
        let offsets = try client.queries.resolve(positions, operation: operation)
        let code = KafkaPartitionList(offsets).withUnsafeList { rd_kafka_assign(client.pointer, $0) }
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else { throw LogError.kafka(operation, code, at: description) }
        state.positions = offsets
        state.assigned = Set(offsets.keys)
        state.explicitlyAssigned = !offsets.isEmpty
    }

    func subscribe(_ topics: [String], fallback: StartPosition) throws {
        let operation = "subscribe to " + topics.joined(separator: ", ")
        let client = try open(operation)
        guard !state.explicitlyAssigned else {
            throw LogError("\(operation): this consumer has assigned partitions; use a new consumer (\(description))")
        }
        let code = KafkaPartitionList(topics: topics).withUnsafeList { rd_kafka_subscribe(client.pointer, $0) }
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else { throw LogError.kafka(operation, code, at: description) }
        state.fallback = fallback
        state.subscribed = true
    }

    func assignment() -> [TopicPartition] {
        state.assigned.sorted()
    }

    func seek(_ partition: TopicPartition, to position: StartPosition) throws {
        let operation = "seek \(partition) to \(position)"
        let client = try open(operation)
        guard state.assigned.contains(partition) else {
            throw LogError("\(operation): the partition is not assigned to this consumer (\(description))")
        }
        let offset = try client.queries.resolve([partition: position], operation: operation)[partition]!
        let list = KafkaPartitionList([partition: offset])
        if let error = list.withUnsafeList({ rd_kafka_seek_partitions(client.pointer, $0, KafkaQueries.timeout) }) {
            let (code, text) = KafkaErrorText.consume(error)
            throw LogError.kafka(operation, code, detail: text, at: description)
        }
        if let failed = list.entries.first(where: { $0.error != RD_KAFKA_RESP_ERR_NO_ERROR }) {
            throw LogError.kafka(operation, failed.error, at: description)
        }
        state.positions[partition] = offset
    }

    func position(_ partition: TopicPartition) -> Int64? {
        state.positions[partition]
    }

    func pause(_ partitions: [TopicPartition]) throws {
        let operation = "pause " + partitions.sorted().map(\.description).joined(separator: ", ")
        try pauseOrResume(partitions, operation: operation, rd_kafka_pause_partitions)
    }

    /// librdkafka drops what it had fetched for a paused partition, so after resuming, each
    /// partition is sought to the position this consumer has returned up to.
    func resume(_ partitions: [TopicPartition]) throws {
        let operation = "resume " + partitions.sorted().map(\.description).joined(separator: ", ")
        try pauseOrResume(partitions, operation: operation, rd_kafka_resume_partitions)
        for partition in partitions {
            if let position = state.positions[partition] { try seek(partition, to: .offset(position)) }
        }
    }

    private func pauseOrResume(
        _ partitions: [TopicPartition], operation: String,
        _ call: (OpaquePointer?, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) -> rd_kafka_resp_err_t
    ) throws {
        let client = try open(operation)
        for partition in partitions where !state.assigned.contains(partition) {
            throw LogError("\(operation): \(partition) is not assigned to this consumer (\(description))")
        }
        let list = KafkaPartitionList(Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) }))
        let code = list.withUnsafeList { call(client.pointer, $0) }
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else { throw LogError.kafka(operation, code, at: description) }
    }

    func poll(maxRecords: Int, timeout: Duration) throws -> [LogRecord] {
        let client = try open("poll")
        if let error = state.takeError() { throw error }
        let deadline = ContinuousClock.now + timeout
        var records: [LogRecord] = []
        while records.count < maxRecords {
            // Waits only for the first record; after that, takes what is already here.
            let wait = records.isEmpty ? milliseconds(until: deadline) : 0
            guard let message = rd_kafka_consumer_poll(client.pointer, wait) else {
                if !records.isEmpty || ContinuousClock.now >= deadline { break }
                continue
            }
            defer { rd_kafka_message_destroy(message) }
            let code = message.pointee.err
            if code != RD_KAFKA_RESP_ERR_NO_ERROR {
                if Self.isTransient(code) { continue }
                let error = consumeError(message, client: client)
                // Records already taken advanced the positions: return them, throw next time.
                if records.isEmpty { throw error }
                state.error = error
                break
            }
            let record = self.record(message)
            state.positions[record.topicPartition] = record.offset + 1
            records.append(record)
        }
        if records.isEmpty, let error = state.takeError() { throw error }
        return records
    }

    func commit() throws {
        let operation = "commit"
        let client = try open(operation)
        guard let group else { throw LogError("commit needs a consumer group (\(description))") }
        let positions = state.positions
        if positions.isEmpty { return }
        let code = KafkaPartitionList(positions).withUnsafeList { rd_kafka_commit(client.pointer, $0, 0) }
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw LogError.kafka("commit positions of group \(group)", code, at: description)
        }
    }

    func committed(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64] {
        let client = try open("read committed positions")
        guard let group else { throw LogError("committed positions need a consumer group (\(description))") }
        let operation = "read committed positions of group \(group)"
        return try state.committed(client.pointer, partitions, operation: operation)
    }

    func close() {
        guard let client else { return }
        // Leaves the group (revoking through the rebalance callback) before the handle goes.
        _ = rd_kafka_consumer_close(client.pointer)
        self.client = nil
        state.positions = [:]
        state.assigned = []
    }

    private func open(_ operation: String) throws -> KafkaClient {
        guard let client else { throw LogError("\(operation): the consumer is closed (\(description))") }
        return client
    }

    private func record(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> LogRecord {
        let m = message.pointee
        return LogRecord(
            topic: topicName(m.rkt),
            partition: m.partition,
            offset: m.offset,
            timestamp: rd_kafka_message_timestamp(message, nil),
            key: m.key.map { [UInt8](UnsafeRawBufferPointer(start: $0, count: m.key_len)) },
            value: m.payload.map { [UInt8](UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? [])
    }

    /// Topic names by librdkafka topic handle, to avoid a string copy per record.
    private func topicName(_ rkt: OpaquePointer?) -> String {
        guard let rkt else { return "" }
        let cName = rd_kafka_topic_name(rkt)!
        if let name = topicNames[rkt], name.withCString({ strcmp($0, cName) == 0 }) { return name }
        let name = String(cString: cName)
        topicNames[rkt] = name
        return name
    }

    private func consumeError(_ message: UnsafeMutablePointer<rd_kafka_message_t>, client: KafkaClient) -> LogError {
        let m = message.pointee
        var place = ""
        if let rkt = m.rkt {
            place = m.partition >= 0 ? " \(topicName(rkt))/\(m.partition)" : " \(topicName(rkt))"
        }
        var detail = String(cString: rd_kafka_message_errstr(message))
        if m.err == RD_KAFKA_RESP_ERR__FATAL {
            // The consumer cannot go on; librdkafka keeps the underlying reason separately.
            var reason = [CChar](repeating: 0, count: 512)
            let code = rd_kafka_fatal_error(client.pointer, &reason, reason.count)
            detail += ": \(cText(reason)) [\(KafkaErrorText.name(code))]"
        }
        return LogError.kafka("consume\(place)", m.err, detail: detail, at: description)
    }

    /// Errors that librdkafka recovers from by itself (reconnecting, finding a new leader or
    /// coordinator), and partition-EOF notices: none of them is a record or a reason to stop.
    private static func isTransient(_ code: rd_kafka_resp_err_t) -> Bool {
        [
            RD_KAFKA_RESP_ERR__PARTITION_EOF, RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
            RD_KAFKA_RESP_ERR__RESOLVE, RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__MAX_POLL_EXCEEDED,
            RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION,
            RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RD_KAFKA_RESP_ERR_NOT_COORDINATOR, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
            RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS,
        ].contains(code)
    }
}

/// Whole milliseconds from now until `deadline` (rounded up, 0 once past it).
private func milliseconds(until deadline: ContinuousClock.Instant) -> Int32 {
    let left = ContinuousClock.now.duration(to: deadline)
    if left <= .zero { return 0 }
    let (seconds, attoseconds) = left.components
    let millis = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
    return Int32(clamping: millis)
}
