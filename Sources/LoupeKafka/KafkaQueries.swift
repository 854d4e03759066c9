import LoupeLog
import CRdKafka

/// Synchronous metadata and offset requests on a client that someone else owns and keeps alive
/// while these run; a rebalance callback, which only gets the raw handle, uses them too.
struct KafkaQueries {
    let rk: OpaquePointer
    /// The broker list, for error messages.
    let description: String

    init(_ rk: OpaquePointer, description: String) {
        self.rk = rk
        self.description = description
    }

    /// Milliseconds librdkafka waits for a broker's answer to a request Loupe makes directly.
    static let timeout: Int32 = 30_000

    /// The partition count of every topic in the cluster. Asks for all topics: a metadata
    /// request naming a missing topic can create it on some brokers.
    func partitionCounts() throws -> [String: Int] {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let code = rd_kafka_metadata(rk, 1, nil, &metadata, Self.timeout)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw LogError.kafka("read cluster metadata", code, at: description)
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        var counts: [String: Int] = [:]
        let topics = UnsafeBufferPointer(start: metadata.pointee.topics, count: Int(metadata.pointee.topic_cnt))
        for topic in topics where topic.err == RD_KAFKA_RESP_ERR_NO_ERROR {
            counts[String(cString: topic.topic)] = Int(topic.partition_cnt)
        }
        return counts
    }

    /// Low and high watermarks of one partition, from its leader.
    func watermarks(_ partition: TopicPartition) throws -> Watermarks {
        var low: Int64 = 0
        var high: Int64 = 0
        let code = rd_kafka_query_watermark_offsets(rk, partition.topic, partition.partition, &low, &high, Self.timeout)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw missing([partition], code, operation: "read watermarks")
                ?? LogError.kafka("read watermarks of \(partition)", code, at: description)
        }
        return Watermarks(low: low, high: high)
    }

    /// Low and high watermarks of many partitions, with two batched ListOffsets requests
    /// (one per leader each) instead of two per partition.
    func watermarks(_ partitions: [TopicPartition], operation: String) throws -> [TopicPartition: Watermarks] {
        let lows = try listOffsets(
            Dictionary(partitions.map { ($0, Self.earliest) }) { first, _ in first }, operation: operation)
        let highs = try listOffsets(
            Dictionary(partitions.map { ($0, Self.latest) }) { first, _ in first }, operation: operation)
        var result: [TopicPartition: Watermarks] = [:]
        for partition in partitions {
            guard let low = lows[partition], let high = highs[partition] else {
                throw LogError("\(operation): no offsets returned for \(partition) (\(description))")
            }
            result[partition] = Watermarks(low: low, high: high)
        }
        return result
    }

    /// For each partition, the ListOffsets answer for a timestamp: the offset of the first record
    /// at or after it, `-1` when there is none. The special timestamps `earliest` and `latest`
    /// ask for the low and high watermark.
    func listOffsets(_ timestamps: [TopicPartition: Int64], operation: String) throws -> [TopicPartition: Int64] {
        if timestamps.isEmpty { return [:] }
        let list = KafkaPartitionList(timestamps)
        let code = list.withUnsafeList { rd_kafka_offsets_for_times(rk, $0, Self.timeout) }
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw missing(Array(timestamps.keys), code, operation: operation)
                ?? LogError.kafka(operation, code, at: description)
        }
        var offsets: [TopicPartition: Int64] = [:]
        for entry in list.entries {
            guard entry.error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw missing([entry.partition], entry.error, operation: operation)
                    ?? LogError.kafka("\(operation) (\(entry.partition))", entry.error, at: description)
            }
            offsets[entry.partition] = entry.offset
        }
        return offsets
    }

    /// The exact offset each start position means now, so a consumer knows its position before
    /// the first record arrives: `.offset` is clamped to the retained range, and `.timestamp`
    /// past the last record means the end.
    func resolve(_ starts: [TopicPartition: StartPosition], operation: String) throws -> [TopicPartition: Int64] {
        if starts.isEmpty { return [:] }
        let marks = try watermarks(Array(starts.keys), operation: operation)
        var times: [TopicPartition: Int64] = [:]
        for case (let partition, .timestamp(let time)) in starts {
            times[partition] = time
        }
        let found = try listOffsets(times, operation: operation)
        var offsets: [TopicPartition: Int64] = [:]
        for (partition, start) in starts {
            let range = marks[partition]!
            switch start {
            case .beginning: offsets[partition] = range.low
            case .end: offsets[partition] = range.high
            case .offset(let offset): offsets[partition] = min(max(offset, range.low), range.high)
            case .timestamp:
                let offset = found[partition] ?? -1
                offsets[partition] = offset >= 0 ? min(max(offset, range.low), range.high) : range.high
            }
        }
        return offsets
    }

    /// librdkafka says "Unknown partition" for a missing topic as well as a missing partition;
    /// the cluster metadata tells which, and where.
    private func missing(_ partitions: [TopicPartition], _ code: rd_kafka_resp_err_t, operation: String) -> LogError? {
        let unknown = [
            RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC,
            RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
        ]
        guard unknown.contains(code), let counts = try? partitionCounts() else { return nil }
        for partition in partitions.sorted() {
            guard let count = counts[partition.topic] else {
                return LogError("\(operation) failed (\(description)): topic \(partition.topic) does not exist")
            }
            if partition.partition < 0 || Int(partition.partition) >= count {
                return LogError(
                    "\(operation) failed (\(description)): topic \(partition.topic) has no partition \(partition.partition) (it has \(count))"
                )
            }
        }
        return nil
    }

    static let earliest = Int64(RD_KAFKA_OFFSET_BEGINNING)
    static let latest = Int64(RD_KAFKA_OFFSET_END)
}
