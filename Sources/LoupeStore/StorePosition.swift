import LoupeBytes

/// The next offset the learner will consume from one partition of a topic.
public struct StorePosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    /// The offset of the next record to consume (one past the last one applied).
    public var offset: Int64

    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    /// Key order: topic by bytes, then partition.
    public static func < (lhs: StorePosition, rhs: StorePosition) -> Bool {
        if lhs.topic != rhs.topic { return lhs.topic.utf8.lexicographicallyPrecedes(rhs.topic.utf8) }
        return lhs.partition < rhs.partition
    }

    public var description: String { "\(topic)[\(partition)]@\(offset)" }

    static let table = StoreTable.positions.rawValue

    /// topic ‖ 0x00 ‖ partition (big-endian), so keys sort by topic, then partition.
    static func key(topic: String, partition: Int32) throws(StoreError) -> [UInt8] {
        let name = "\(topic)[\(partition)]"
        guard !topic.isEmpty, !topic.utf8.contains(0) else {
            throw .invalidWrite(table: table, key: name, reason: "a topic name must be non-empty and contain no NUL")
        }
        guard partition >= 0 else { throw .invalidWrite(table: table, key: name, reason: "partitions are not negative") }
        guard topic.utf8.count + 5 <= StoreTable.maximumKeyLength else {
            throw .invalidWrite(table: table, key: name, reason: "the topic name is too long for a key")
        }
        var key = Array(topic.utf8)
        key.append(0)
        key.appendBigEndian(partition)
        return key
    }

    init(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws(StoreError) {
        let printable = String(decoding: key, as: UTF8.self)
        guard key.count >= 6, key[key.count - 5] == 0 else {
            throw .corruptRow(table: Self.table, key: printable, reason: "key is not topic ‖ 0x00 ‖ partition")
        }
        topic = String(decoding: key[..<(key.count - 5)], as: UTF8.self)
        partition = key.loadBigEndian(Int32.self, at: key.count - 4)
        guard value.count == 8 else {
            throw .corruptRow(table: Self.table, key: "\(topic)[\(partition)]", reason: "offset is \(value.count) bytes, not 8")
        }
        offset = value.loadLittleEndian(Int64.self, at: 0)
    }
}
