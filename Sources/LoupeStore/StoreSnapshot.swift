import Foundation
import LoupeEvents
import LoupeLMDB

/// A consistent view of the store: one LMDB read transaction (or, as the base class of
/// `StoreTransaction`, the write transaction, whose reads see its own writes).
///
/// Valid only inside the `read`/`write` closure that received it; do not keep it or any buffer
/// it hands out. Reads of a missing key return nil; an id that could never be a key (empty, or
/// longer than `StoreTable.maximumKeyLength` bytes) is simply missing.
public class StoreSnapshot {
    let transaction: LMDBTransaction
    let tables: BuiltInTables
    /// The view (model) this snapshot reads.
    let store: StateStore
    /// The dimension as read in this transaction (.some(nil): read, and not set).
    var cachedDimension: Int??

    init(_ transaction: LMDBTransaction, _ tables: BuiltInTables, store: StateStore) {
        self.transaction = transaction
        self.tables = tables
        self.store = store
    }

    /// The model this snapshot reads.
    public var model: ModelKey { store.model }

    /// Another model's tables in this same snapshot (one commit of the whole store): open the
    /// view with `StateStore.opening(_:)` before the transaction. Read-only, even inside a
    /// write: a role writes its own model only.
    public func view(of other: StateStore) throws -> StoreSnapshot {
        guard other.environment === store.environment else {
            throw StoreError.invalidWrite(
                table: "(snapshot)", key: other.model.description, reason: "\(other.path) is another store than \(store.path)")
        }
        return StoreSnapshot(transaction, other.tables, store: other)
    }

    // MARK: model metadata

    /// The dimension of every embedding row of this model, from its metadata; nil until its role
    /// sets it.
    public var dimension: Int? {
        get throws {
            if let cachedDimension { return cachedDimension }
            let dimension = try value(.model, ModelMetadataKey.dimension).map { bytes throws(StoreError) in
                try Self.parseDimension(bytes)
            }
            cachedDimension = .some(dimension)
            return dimension
        }
    }

    /// The JSON stored under `key` in the model table.
    public func modelMetadata(_ key: String) throws -> [UInt8]? {
        try value(.model, key).map(Array.init)
    }

    /// The model metadata under `key`, decoded from JSON.
    public func modelMetadata<T: Decodable>(_ key: String, as type: T.Type) throws -> T? {
        guard let json = try value(.model, key) else { return nil }
        return try JSONDecoder().decode(type, from: Data(json))
    }

    /// Every model metadata entry (key → JSON text), in key order.
    public func allModelMetadata() throws -> [(key: String, json: String)] {
        var entries: [(key: String, json: String)] = []
        try forEachEntry(tables.model) { key, value in
            entries.append((String(decoding: key, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        return entries
    }

    static func parseDimension(_ json: UnsafeRawBufferPointer) throws(StoreError) -> Int {
        let text = String(decoding: json, as: UTF8.self)
        guard let dimension = Int(text), dimension > 0 else {
            throw .corruptRow(
                table: StoreTable.model.rawValue, key: ModelMetadataKey.dimension, reason: "\"\(text)\" is not a positive integer"
            )
        }
        return dimension
    }

    // MARK: entity metadata

    public func user(_ id: String) throws -> UserRecord? {
        try value(.users, id).map { bytes throws(StoreError) in try UserRecord(decoding: bytes, key: id) }
    }

    public func item(_ id: String) throws -> ItemRecord? {
        try value(.items, id).map { bytes throws(StoreError) in try ItemRecord(decoding: bytes, key: id) }
    }

    /// Every user in id (byte) order.
    public func forEachUser(_ body: (String, UserRecord) throws -> Void) throws {
        try forEachEntry(tables.users) { key, value in
            let id = String(decoding: key, as: UTF8.self)
            try body(id, try UserRecord(decoding: value, key: id))
        }
    }

    /// Every item in id (byte) order.
    public func forEachItem(_ body: (String, ItemRecord) throws -> Void) throws {
        try forEachEntry(tables.items) { key, value in
            let id = String(decoding: key, as: UTF8.self)
            try body(id, try ItemRecord(decoding: value, key: id))
        }
    }

    /// Entries in a built-in table.
    public func count(_ table: StoreTable) throws -> Int {
        try transaction.count(tables[table])
    }

    // MARK: positions

    /// The learner's positions, ordered by topic (bytes), then partition.
    public func positions() throws -> [StorePosition] {
        var positions: [StorePosition] = []
        try forEachEntry(tables.positions) { key, value in positions.append(try StorePosition(key: key, value: value)) }
        return positions
    }

    /// The next offset to consume from `topic`'s `partition`, or nil if none was recorded.
    public func position(topic: String, partition: Int32) throws -> Int64? {
        guard let key = try? StorePosition.key(topic: topic, partition: partition),
            let value = try transaction.get(tables.positions, key)
        else { return nil }
        return try key.withUnsafeBytes { key throws(StoreError) in try StorePosition(key: key, value: value).offset }
    }

    // MARK: de-duplication

    /// Whether `recordSeen(eventId, at: timestamp)` recorded this event id at this event time
    /// (and it has not been pruned since).
    public func hasSeen(_ eventId: String, at timestamp: Int64) throws -> Bool {
        try Self.withSeenKey(eventId, timestamp) { key in
            guard let key else { return false }
            return try transaction.get(tables.seenEventsByTime, key) != nil
        }
    }

    /// Every recorded event id with its event time, in time order (ids of equal times in byte
    /// order). The id's bytes are valid only inside `body`.
    public func forEachSeenEvent(_ body: (Int64, UnsafeRawBufferPointer) throws -> Void) throws {
        try forEachEntry(tables.seenEventsByTime) { key, _ in
            let (time, eventId) = try Self.seenEntry(key)
            try body(time, eventId)
        }
    }

    /// A `seen_events_by_time` key: the time as a UInt64 with its sign bit flipped, big-endian
    /// (so keys sort by time, negative times first), then the event id's UTF-8 bytes. `body`
    /// gets nil for an id that cannot be part of a key (empty, or too long).
    static func withSeenKey<R>(_ eventId: String, _ timestamp: Int64, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        var eventId = eventId
        return try eventId.withUTF8 { id in
            guard !id.isEmpty, isPossibleKey(8 + id.count) else { return try body(nil) }
            return try withUnsafeTemporaryAllocation(byteCount: 8 + id.count, alignment: 8) { key in
                key.storeBytes(of: (UInt64(bitPattern: timestamp) ^ (1 << 63)).bigEndian, as: UInt64.self)
                UnsafeMutableRawBufferPointer(rebasing: key[8...]).copyMemory(from: UnsafeRawBufferPointer(id))
                return try body(UnsafeRawBufferPointer(key))
            }
        }
    }

    /// The time and the event id of a `seen_events_by_time` key.
    static func seenEntry(_ key: UnsafeRawBufferPointer) throws(StoreError) -> (time: Int64, eventId: UnsafeRawBufferPointer) {
        guard key.count > 8 else {
            throw .corruptRow(
                table: StoreTable.seenEventsByTime.rawValue, key: String(decoding: key, as: UTF8.self),
                reason: "the key is \(key.count) bytes: a time (8) and an event id")
        }
        let flipped = UInt64(bigEndian: key.loadUnaligned(as: UInt64.self))
        return (Int64(bitPattern: flipped ^ (1 << 63)), UnsafeRawBufferPointer(rebasing: key[8...]))
    }

    // MARK: additional tables

    /// A copy of the value under `key` in `table`.
    public func get(_ table: RawTable, _ key: [UInt8]) throws -> [UInt8]? {
        try withValue(table, key) { Array($0) }
    }

    /// Calls `body` with the value under `key` in place (zero-copy, valid only inside `body`).
    public func withValue<R>(_ table: RawTable, _ key: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        guard Self.isPossibleKey(key.count), let value = try transaction.get(table.database, key) else { return nil }
        return try body(value)
    }

    public func count(_ table: RawTable) throws -> Int {
        try transaction.count(table.database)
    }

    /// A cursor over `table` in key order; valid only inside this transaction.
    public func cursor(_ table: RawTable) throws -> TableCursor {
        TableCursor(try transaction.cursor(table.database))
    }

    // MARK: helpers

    static func isPossibleKey(_ count: Int) -> Bool {
        (1...StoreTable.maximumKeyLength).contains(count)
    }

    /// The value under string key `id` in place, or nil.
    func value(_ table: StoreTable, _ id: String) throws -> UnsafeRawBufferPointer? {
        var id = id
        return try id.withUTF8 { key in
            guard Self.isPossibleKey(key.count) else { return nil }
            return try transaction.get(tables[table], UnsafeRawBufferPointer(key))
        }
    }

    func forEachEntry(_ database: LMDBDatabase, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void) throws {
        let cursor = try transaction.cursor(database)
        var entry = try cursor.first()
        while let current = entry {
            try body(current.key, current.value)
            entry = try cursor.next()
        }
    }
}

/// Well-known keys of the `model` table.
public enum ModelMetadataKey {
    /// The embedding dimension (a JSON integer); set with `StoreTransaction.setDimension`.
    public static let dimension = "dimension"
    public static let algorithm = "algorithm"
    public static let modelVersion = "model_version"
    /// Epoch milliseconds (a JSON integer).
    public static let createdAt = "created_at"
}

/// A position in an additional table, ordered by key bytes.
public struct TableCursor {
    public typealias Entry = (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)
    private let cursor: LMDBCursor

    init(_ cursor: LMDBCursor) {
        self.cursor = cursor
    }

    public func first() throws -> Entry? { try cursor.first() }
    public func last() throws -> Entry? { try cursor.last() }
    public func next() throws -> Entry? { try cursor.next() }
    public func previous() throws -> Entry? { try cursor.previous() }
    /// The first entry whose key is greater than or equal to `key`.
    public func seek(atOrAfter key: [UInt8]) throws -> Entry? {
        key.isEmpty ? try cursor.first() : try cursor.seek(atOrAfter: key)
    }
}
