import LoupeLog
import LoupeBytes
import LoupeLMDB

/// How the embedded log lays out its tables in LMDB (documented in docs/architecture.md).
///
/// - `topics`: topic name → stored topic (id, spec) as JSON.
/// - `partitions`: topic id ‖ partition → next offset ‖ largest timestamp so far.
/// - `records`: topic id ‖ partition ‖ offset → timestamp ‖ key length (−1: no key) ‖ key ‖ value.
/// - `times`: topic id ‖ partition ‖ running maximum timestamp ‖ offset → nothing; one entry per
///   record that raised the partition's maximum timestamp, so that "first record at or after t"
///   is one cursor seek.
/// - `groups`: group ‖ 0x00 ‖ topic id ‖ partition → committed offset.
/// - `meta`: settings of the log itself (next topic id, last cleaner run).
///
/// Integers in keys are big-endian so that LMDB's bytewise order is numeric order; timestamps
/// in keys have their sign bit flipped for the same reason. Values are little-endian.
enum EmbeddedLayout {
    struct Tables {
        let topics: LMDBDatabase
        let partitions: LMDBDatabase
        let records: LMDBDatabase
        let times: LMDBDatabase
        let groups: LMDBDatabase
        let meta: LMDBDatabase

        init(_ environment: LMDBEnvironment) throws {
            topics = try environment.database("topics")
            partitions = try environment.database("partitions")
            records = try environment.database("records")
            times = try environment.database("times")
            groups = try environment.database("groups")
            meta = try environment.database("meta")
        }
    }

    /// topic id ‖ partition: the prefix of every key about one partition.
    static func partitionKey(topic: UInt32, partition: Int32) -> [UInt8] {
        var key = [UInt8]()
        key.reserveCapacity(16)
        key.appendBigEndian(topic)
        key.appendBigEndian(UInt32(bitPattern: partition))
        return key
    }

    static func recordKey(topic: UInt32, partition: Int32, offset: Int64) -> [UInt8] {
        var key = partitionKey(topic: topic, partition: partition)
        key.appendBigEndian(UInt64(offset))
        return key
    }

    static func timeKey(topic: UInt32, partition: Int32, timestamp: Int64, offset: Int64) -> [UInt8] {
        var key = partitionKey(topic: topic, partition: partition)
        key.appendBigEndian(UInt64(bitPattern: timestamp) ^ (1 << 63))
        key.appendBigEndian(UInt64(offset))
        return key
    }

    static func groupKey(group: String, topic: UInt32, partition: Int32) -> [UInt8] {
        var key = Array(group.utf8)
        key.append(0)
        key.append(contentsOf: partitionKey(topic: topic, partition: partition))
        return key
    }

    /// The state of one partition: the offset the next record gets and the largest timestamp.
    struct PartitionState {
        var nextOffset: Int64
        var maxTimestamp: Int64

        init(nextOffset: Int64 = 0, maxTimestamp: Int64 = .min) {
            self.nextOffset = nextOffset
            self.maxTimestamp = maxTimestamp
        }

        init(_ buffer: UnsafeRawBufferPointer) {
            nextOffset = buffer.loadLittleEndian(Int64.self, at: 0)
            maxTimestamp = buffer.loadLittleEndian(Int64.self, at: 8)
        }

        var encoded: [UInt8] {
            var bytes = [UInt8]()
            bytes.reserveCapacity(16)
            bytes.appendLittleEndian(nextOffset)
            bytes.appendLittleEndian(maxTimestamp)
            return bytes
        }
    }

    static func encodeRecord(timestamp: Int64, key: [UInt8]?, value: [UInt8], into bytes: inout [UInt8]) {
        bytes.removeAll(keepingCapacity: true)
        bytes.reserveCapacity(12 + (key?.count ?? 0) + value.count)
        bytes.appendLittleEndian(timestamp)
        bytes.appendLittleEndian(Int32(key.map { $0.count } ?? -1))
        if let key { bytes.append(contentsOf: key) }
        bytes.append(contentsOf: value)
    }

    static func decodeRecord(_ buffer: UnsafeRawBufferPointer) -> (timestamp: Int64, key: [UInt8]?, value: [UInt8]) {
        let timestamp = buffer.loadLittleEndian(Int64.self, at: 0)
        let keyLength = Int(buffer.loadLittleEndian(Int32.self, at: 8))
        var position = 12
        var key: [UInt8]?
        if keyLength >= 0 {
            key = Array(UnsafeRawBufferPointer(rebasing: buffer[position..<position + keyLength]))
            position += keyLength
        }
        return (timestamp, key, Array(UnsafeRawBufferPointer(rebasing: buffer[position...])))
    }

    static func recordTimestamp(_ buffer: UnsafeRawBufferPointer) -> Int64 {
        buffer.loadLittleEndian(Int64.self, at: 0)
    }

    /// The key bytes of a stored record, for compaction.
    static func recordKeyBytes(_ buffer: UnsafeRawBufferPointer) -> [UInt8]? {
        let keyLength = Int(buffer.loadLittleEndian(Int32.self, at: 8))
        return keyLength >= 0 ? Array(UnsafeRawBufferPointer(rebasing: buffer[12..<12 + keyLength])) : nil
    }
}

/// A topic as the embedded log stores it.
struct StoredTopic: Codable, Sendable {
    var id: UInt32
    var spec: TopicSpec
}
