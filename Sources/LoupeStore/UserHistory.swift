import LoupeLMDB

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
        var writer = ByteWriter(capacity: 3 + entries.count * 24)
        try Self.writeHeader(count: entries.count, into: &writer)
        for entry in entries { try Self.append(entry, to: &writer) }
        return writer.bytes
    }

    init(decoding bytes: UnsafeRawBufferPointer, key: String) throws(StoreError) {
        var entries: [HistoryEntry] = []
        try Self.walk(bytes, key: key) { index, _, kind, weight, time, id throws(StoreError) in
            guard let itemId = String(validating: id, as: UTF8.self) else {
                throw Self.corrupt(key, "entry \(index) has an item id that is not UTF-8")
            }
            entries.append(HistoryEntry(itemId: itemId, kind: kind, weight: weight, time: time))
        }
        self.entries = entries
    }

    /// The encoding of the stored history `stored` (nil: none) with `entries` appended, keeping
    /// the newest `limit` entries: byte for byte what decoding, appending, trimming and
    /// encoding give, without making a `String` of each stored entry. Stored entries are
    /// checked as decoding checks them.
    static func appending(
        _ entries: ArraySlice<HistoryEntry>, to stored: UnsafeRawBufferPointer?, keepingNewest limit: Int, key: String
    ) throws(StoreError) -> [UInt8] {
        precondition(limit > 0, "a history keeps at least one entry")
        // How many entries to drop follows from the header's count (which the walk checks); the
        // offset at which the first kept stored entry starts is found while checking them all.
        let storedCount = stored.map { $0.count >= 3 ? Int(UInt16(littleEndian: $0.loadUnaligned(fromByteOffset: 1, as: UInt16.self))) : 0 } ?? 0
        let dropped = max(0, storedCount + entries.count - limit)
        let keptCount = storedCount + entries.count - dropped
        var storedKept = 0..<0
        if let stored {
            var start = stored.count
            try walk(stored, key: key) { index, offset, _, _, _, id throws(StoreError) in
                guard isValidUTF8(id) else { throw corrupt(key, "entry \(index) has an item id that is not UTF-8") }
                if index == dropped { start = offset }
            }
            storedKept = start..<stored.count
        }
        var writer = ByteWriter(capacity: 3 + storedKept.count + entries.count * 24)
        try writeHeader(count: keptCount, into: &writer)
        if let stored { writer.append(contentsOf: UnsafeRawBufferPointer(rebasing: stored[storedKept])) }
        for entry in entries.dropFirst(max(0, dropped - storedCount)) { try append(entry, to: &writer) }
        return writer.bytes
    }

    private static func writeHeader(count: Int, into writer: inout ByteWriter) throws(StoreError) {
        guard count <= Int(UInt16.max) else {
            throw .invalidRecord(table: StoreTable.userHistory.rawValue, reason: "more than 65,535 entries")
        }
        writer.append(layoutVersion)
        writer.appendLittleEndian(UInt16(count))
    }

    private static func append(_ entry: HistoryEntry, to writer: inout ByteWriter) throws(StoreError) {
        let count = entry.itemId.utf8.count
        guard StoreSnapshot.isPossibleKey(count) else {
            throw .invalidRecord(table: StoreTable.userHistory.rawValue, reason: "item id of \(count) bytes")
        }
        guard entry.weight.isFinite else {
            throw .invalidRecord(table: StoreTable.userHistory.rawValue, reason: "weight \(entry.weight)")
        }
        writer.append(entry.kind.rawValue)
        writer.append(entry.weight)
        writer.appendLittleEndian(entry.time)
        writer.appendLittleEndian(UInt16(count))
        writer.append(contentsOf: entry.itemId.utf8)
    }

    /// Checks the layout of an encoded history and calls `body` with each entry's index, the
    /// offset at which it starts, its fields and its item id's bytes (not yet checked as UTF-8);
    /// returns the entry count.
    @discardableResult
    private static func walk(
        _ bytes: UnsafeRawBufferPointer, key: String,
        _ body: (_ index: Int, _ start: Int, _ kind: HistoryKind, _ weight: Float, _ time: Int64, _ id: UnsafeRawBufferPointer)
            throws(StoreError) -> Void
    ) throws(StoreError) -> Int {
        guard bytes.count >= 3 else { throw corrupt(key, "\(bytes.count) bytes is shorter than the header") }
        guard bytes[0] == layoutVersion else {
            throw corrupt(key, "unknown layout version \(bytes[0]) (this build reads \(layoutVersion))")
        }
        let count = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 1, as: UInt16.self)))
        var offset = 3
        for index in 0..<count {
            let start = offset
            guard offset + 15 <= bytes.count else { throw corrupt(key, "entry \(index) is cut short") }
            guard let kind = HistoryKind(rawValue: bytes[offset]) else {
                throw corrupt(key, "entry \(index) has unknown kind \(bytes[offset])")
            }
            let weight = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 1, as: UInt32.self)))
            let time = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 5, as: Int64.self))
            let length = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 13, as: UInt16.self)))
            offset += 15
            guard length > 0, offset + length <= bytes.count else {
                throw corrupt(key, "entry \(index) has an item id of \(length) bytes past the end")
            }
            try body(index, start, kind, weight, time, UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length]))
            offset += length
        }
        guard offset == bytes.count else { throw corrupt(key, "\(bytes.count - offset) bytes after the last entry") }
        return count
    }

    private static func corrupt(_ key: String, _ reason: String) -> StoreError {
        .corruptRow(table: StoreTable.userHistory.rawValue, key: key, reason: reason)
    }

    /// Whether `bytes` are UTF-8; ASCII (every id Loupe generates) is decided without a copy.
    private static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.allSatisfy { $0 < 0x80 } || String(validating: bytes, as: UTF8.self) != nil
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

    /// Appends `entries` (oldest first) to the user's stored history and keeps the newest
    /// `limit`: the same row as `putHistory` of the stored history with `entries` appended and
    /// trimmed, without decoding the stored entries.
    public func appendHistory(_ userId: String, _ entries: ArraySlice<HistoryEntry>, keepingNewest limit: Int) throws {
        let stored = try value(.userHistory, userId)
        let bytes: [UInt8]
        do {
            bytes = try UserHistory.appending(entries, to: stored, keepingNewest: limit, key: userId)
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
