/// What a user did with an item, as the history keeps it.
public enum HistoryKind: UInt8, Sendable, CaseIterable {
    case view = 0, click, tryOn, addToCart, purchase, like, dislike, `return`, rating
}

/// One interaction or feedback event in a user's history.
public struct HistoryEntry: Sendable, Equatable {
    public var itemId: String
    public var kind: HistoryKind
    /// The learning weight the event carried: positive = wanted, negative = not wanted.
    public var weight: Float
    /// Event time, epoch milliseconds.
    public var time: Int64

    public init(itemId: String, kind: HistoryKind, weight: Float, time: Int64) {
        self.itemId = itemId
        self.kind = kind
        self.weight = weight
        self.time = time
    }
}

/// A user's most recent interactions and feedback, oldest first (`user_history`, layout 1):
/// layout version (1 byte) ‖ entry count (UInt16) ‖ entries, each: kind (1 byte) ‖ weight
/// (Float32) ‖ time (Int64) ‖ item id length (UInt16) ‖ item id (UTF-8). Little-endian.
public struct UserHistory: Sendable, Equatable {
    public static let layoutVersion: UInt8 = 1
    public var entries: [HistoryEntry]

    public init(entries: [HistoryEntry] = []) {
        self.entries = entries
    }

    func encoded() throws(StoreError) -> [UInt8] {
        guard entries.count <= Int(UInt16.max) else {
            throw .invalidRecord(table: StoreTable.userHistory.rawValue, reason: "more than 65,535 entries")
        }
        var writer = ByteWriter(capacity: 3 + entries.count * 24)
        writer.append(Self.layoutVersion)
        writer.appendLittleEndian(UInt16(entries.count))
        for entry in entries {
            let id = Array(entry.itemId.utf8)
            guard StoreSnapshot.isPossibleKey(id.count) else {
                throw .invalidRecord(table: StoreTable.userHistory.rawValue, reason: "item id of \(id.count) bytes")
            }
            guard entry.weight.isFinite else {
                throw .invalidRecord(table: StoreTable.userHistory.rawValue, reason: "weight \(entry.weight)")
            }
            writer.append(entry.kind.rawValue)
            writer.append(entry.weight)
            writer.appendLittleEndian(entry.time)
            writer.appendLittleEndian(UInt16(id.count))
            writer.append(contentsOf: id)
        }
        return writer.bytes
    }

    init(decoding bytes: UnsafeRawBufferPointer, key: String) throws(StoreError) {
        func corrupt(_ reason: String) -> StoreError {
            .corruptRow(table: StoreTable.userHistory.rawValue, key: key, reason: reason)
        }
        guard bytes.count >= 3 else { throw corrupt("\(bytes.count) bytes is shorter than the header") }
        guard bytes[0] == Self.layoutVersion else {
            throw corrupt("unknown layout version \(bytes[0]) (this build reads \(Self.layoutVersion))")
        }
        let count = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 1, as: UInt16.self)))
        var offset = 3
        var entries: [HistoryEntry] = []
        entries.reserveCapacity(count)
        for index in 0..<count {
            guard offset + 15 <= bytes.count else { throw corrupt("entry \(index) is cut short") }
            guard let kind = HistoryKind(rawValue: bytes[offset]) else { throw corrupt("entry \(index) has unknown kind \(bytes[offset])") }
            let weight = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 1, as: UInt32.self)))
            let time = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 5, as: Int64.self))
            let length = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 13, as: UInt16.self)))
            offset += 15
            guard length > 0, offset + length <= bytes.count else { throw corrupt("entry \(index) has an item id of \(length) bytes past the end") }
            guard let itemId = String(validating: bytes[offset..<offset + length], as: UTF8.self) else {
                throw corrupt("entry \(index) has an item id that is not UTF-8")
            }
            offset += length
            entries.append(HistoryEntry(itemId: itemId, kind: kind, weight: weight, time: time))
        }
        guard offset == bytes.count else { throw corrupt("\(bytes.count - offset) bytes after the last entry") }
        self.entries = entries
    }
}

extension StoreSnapshot {
    /// The user's recent history (empty when none is stored).
    public func history(of userId: String) throws -> UserHistory {
        try value(.userHistory, userId).map { bytes throws(StoreError) in try UserHistory(decoding: bytes, key: userId) } ?? UserHistory()
    }

    /// The items the user bought (and did not return), in item id order.
    public func purchases(of userId: String) throws -> [String] {
        let prefix = Array(userId.utf8) + [0]
        guard Self.isPossibleKey(prefix.count + 1) else { return [] }
        let cursor = try transaction.cursor(tables.purchases)
        var items: [String] = []
        var entry = try cursor.seek(atOrAfter: prefix)
        while let current = entry, current.key.count > prefix.count, current.key.starts(with: prefix) {
            items.append(String(decoding: current.key[prefix.count...], as: UTF8.self))
            entry = try cursor.next()
        }
        return items
    }
}

extension StoreTransaction {
    public func putHistory(_ userId: String, _ history: UserHistory) throws {
        let bytes: [UInt8]
        do {
            bytes = try history.encoded()
        } catch .invalidRecord(let table, let reason) {
            throw StoreError.invalidWrite(table: table, key: userId, reason: reason)
        }
        try bytes.withUnsafeBytes { try put(.userHistory, userId, $0) }
    }

    /// Records that the user bought the item at `time`.
    public func putPurchase(user userId: String, item itemId: String, time: Int64) throws {
        let key = try Self.purchaseKey(userId, itemId)
        try withUnsafeBytes(of: time.littleEndian) { value in
            try key.withUnsafeBytes { try transaction.put(tables.purchases, $0, value) }
        }
    }

    /// Forgets a purchase (the item was returned); returns whether it was recorded.
    @discardableResult
    public func deletePurchase(user userId: String, item itemId: String) throws -> Bool {
        try transaction.delete(tables.purchases, try Self.purchaseKey(userId, itemId))
    }

    static func purchaseKey(_ userId: String, _ itemId: String) throws -> [UInt8] {
        let key = Array(userId.utf8) + [0] + Array(itemId.utf8)
        guard !userId.isEmpty, !itemId.isEmpty, !userId.utf8.contains(0), isPossibleKey(key.count) else {
            throw StoreError.invalidWrite(
                table: StoreTable.purchases.rawValue, key: "\(userId)/\(itemId)",
                reason: "user id ‖ 0 ‖ item id must be 1–\(StoreTable.maximumKeyLength) bytes, with no NUL in the user id")
        }
        return key
    }
}
