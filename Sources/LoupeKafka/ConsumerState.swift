import LoupeLog
import CRdKafka

/// What a `KafkaConsumer` knows about its partitions. librdkafka's rebalance callback updates
/// it; the callback runs inside `rd_kafka_consumer_poll` or `rd_kafka_consumer_close`, on the
/// consumer's own thread, so it needs no lock.
final class ConsumerState {
    let description: String
    var assigned: Set<TopicPartition> = []
    /// The next offset to return, for every assigned partition whose start is known.
    var positions: [TopicPartition: Int64] = [:]
    var fallback: StartPosition = .beginning
    var subscribed = false
    var explicitlyAssigned = false
    /// An error met where it could not be thrown (the rebalance callback, or after records
    /// were taken in a poll); the next poll throws it.
    var error: LogError?

    init(description: String) {
        self.description = description
    }

    /// Makes this state the target of the rebalance callback of the client made from `conf`.
    /// The state is passed unretained: it must outlive that client (the consumer destroys the
    /// client in `close`, before it lets go of the state).
    func handleRebalances(of conf: OpaquePointer) {
        rd_kafka_conf_set_rebalance_cb(conf, rebalanceCallback)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(self).toOpaque())
    }

    func takeError() -> LogError? {
        defer { error = nil }
        return error
    }

    func committed(_ rk: OpaquePointer, _ partitions: [TopicPartition], operation: String) throws
        -> [TopicPartition: Int64]
    {
        if partitions.isEmpty { return [:] }
        let list = KafkaPartitionList(
            Dictionary(partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) }, uniquingKeysWith: { first, _ in first })
        )
        let code = list.withUnsafeList { rd_kafka_committed(rk, $0, KafkaQueries.timeout) }
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else { throw LogError.kafka(operation, code, at: description) }
        var offsets: [TopicPartition: Int64] = [:]
        for entry in list.entries {
            guard entry.error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw LogError.kafka("\(operation) (\(entry.partition))", entry.error, at: description)
            }
            if entry.offset >= 0 { offsets[entry.partition] = entry.offset }
        }
        return offsets
    }

    /// A group rebalance: start new partitions at the group's committed offset, or at the
    /// fallback when there is none; forget revoked ones.
    func rebalance(
        _ rk: OpaquePointer, _ code: rd_kafka_resp_err_t, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
    ) {
        let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
        let partitions = list.map { KafkaPartitionList.entries(of: $0).map(\.partition) } ?? []
        switch code {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            setStartOffsets(rk, list, partitions)
            if cooperative {
                record(rd_kafka_incremental_assign(rk, list), "assign partitions")
            } else {
                record(rd_kafka_assign(rk, list), "assign partitions")
            }
            assigned.formUnion(partitions)
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            if cooperative {
                record(rd_kafka_incremental_unassign(rk, list), "revoke partitions")
            } else {
                record(rd_kafka_assign(rk, nil), "revoke partitions")
            }
            forget(cooperative ? partitions : Array(assigned))
        default:
            error = LogError.kafka("group rebalance", code, at: description)
            record(rd_kafka_assign(rk, nil), "drop partitions after a failed rebalance")
            forget(Array(assigned))
        }
    }

    /// Writes each new partition's start offset into librdkafka's assignment list.
    private func setStartOffsets(
        _ rk: OpaquePointer, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
        _ partitions: [TopicPartition]
    ) {
        guard let list else { return }
        let names = partitions.map(\.description).joined(separator: ", ")
        let operation = "start partitions assigned by group rebalance (\(names))"
        do {
            let offsets = try startOffsets(rk, partitions, operation: operation)
            for index in 0..<Int(list.pointee.cnt) {
                let element = list.pointee.elems[index]
                let partition = TopicPartition(String(cString: element.topic), element.partition)
                if let offset = offsets[partition] {
                    list.pointee.elems[index].offset = offset
                    positions[partition] = offset
                }
            }
        } catch {
            // The partitions must still be taken, or the group stalls: librdkafka then starts
            // them at the committed offset or auto.offset.reset, and poll reports the failure.
            self.error = error as? LogError ?? LogError("\(operation): \(error)")
        }
    }

    private func forget(_ partitions: [TopicPartition]) {
        for partition in partitions {
            positions[partition] = nil
            assigned.remove(partition)
        }
    }

    private func startOffsets(_ rk: OpaquePointer, _ partitions: [TopicPartition], operation: String) throws
        -> [TopicPartition: Int64]
    {
        let committed = try committed(rk, partitions, operation: operation)
        var starts: [TopicPartition: StartPosition] = [:]
        for partition in partitions {
            starts[partition] = committed[partition].map { .offset($0) } ?? fallback
        }
        return try KafkaQueries(rk, description: description).resolve(starts, operation: operation)
    }

    private func record(_ code: rd_kafka_resp_err_t, _ operation: String) {
        if code != RD_KAFKA_RESP_ERR_NO_ERROR, error == nil {
            error = LogError.kafka(operation, code, at: description)
        }
    }

    private func record(_ failure: OpaquePointer?, _ operation: String) {
        guard let failure else { return }
        let (code, text) = KafkaErrorText.consume(failure)
        if error == nil { error = LogError.kafka(operation, code, detail: text, at: description) }
    }
}

private func rebalanceCallback(
    _ rk: OpaquePointer?, _ code: rd_kafka_resp_err_t,
    _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
    _ opaque: UnsafeMutableRawPointer?
) {
    guard let rk, let opaque else { return }
    Unmanaged<ConsumerState>.fromOpaque(opaque).takeUnretainedValue().rebalance(rk, code, partitions)
}
