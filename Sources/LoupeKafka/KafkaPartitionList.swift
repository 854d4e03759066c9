import LoupeLog
import CRdKafka

/// An owned `rd_kafka_topic_partition_list_t`, freed with this value.
final class KafkaPartitionList {
    private let pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>

    struct Entry {
        var partition: TopicPartition
        var offset: Int64
        var error: rd_kafka_resp_err_t
    }

    /// Partitions with an offset each (or a timestamp, for `offsets_for_times`), in sorted order.
    init(_ offsets: [TopicPartition: Int64]) {
        pointer = rd_kafka_topic_partition_list_new(Int32(offsets.count))
        for (partition, offset) in offsets.sorted(by: { $0.key < $1.key }) {
            rd_kafka_topic_partition_list_add(pointer, partition.topic, partition.partition).pointee.offset = offset
        }
    }

    /// Topics with no particular partition, for `rd_kafka_subscribe`.
    init(topics: [String]) {
        pointer = rd_kafka_topic_partition_list_new(Int32(topics.count))
        for topic in topics {
            rd_kafka_topic_partition_list_add(pointer, topic, KafkaPartitionList.unassigned)
        }
    }

    deinit {
        rd_kafka_topic_partition_list_destroy(pointer)
    }

    /// Lends the C list to librdkafka; the list lives at least until `body` returns (Swift may
    /// otherwise free it right after the last use of `self`, before the C call).
    func withUnsafeList<Result>(_ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws -> Result)
        rethrows -> Result
    {
        try withExtendedLifetime(self) { try body(pointer) }
    }

    var entries: [Entry] { withUnsafeList { Self.entries(of: $0) } }

    /// The entries of a list that librdkafka owns (as in a rebalance callback).
    static func entries(of list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [Entry] {
        UnsafeBufferPointer(start: list.pointee.elems, count: Int(list.pointee.cnt)).map { element in
            Entry(
                partition: TopicPartition(String(cString: element.topic), element.partition),
                offset: element.offset,
                error: element.err)
        }
    }

    /// `RD_KAFKA_PARTITION_UA`, which Swift does not import (a cast macro).
    static let unassigned: Int32 = -1
}
