import Foundation
import LoupeLMDB

/// The write transaction: everything a snapshot reads (including this transaction's own
/// writes) plus the writes, which become visible to others atomically when `write` returns.
///
/// Write the log positions a batch consumed (`setPosition`) in the same transaction as the
/// state that batch produced: that is how a role applies each record exactly once.
public final class StoreTransaction: StoreSnapshot {
    // MARK: model metadata

    /// Fixes the dimension of every embedding row. Setting the same value again does nothing;
    /// a different value is an error, because every stored row has the old length.
    public func setDimension(_ dimension: Int) throws {
        guard dimension > 0, dimension <= 1 << 20 else {
            throw StoreError.invalidWrite(
                table: StoreTable.model.rawValue, key: ModelMetadataKey.dimension, reason: "\(dimension) is not in 1…1,048,576")
        }
        if let stored = try self.dimension {
            guard stored == dimension else { throw StoreError.dimensionConflict(stored: stored, requested: dimension) }
            return
        }
        try putString(.model, ModelMetadataKey.dimension, Array(String(dimension).utf8))
        cachedDimension = .some(dimension)
    }

    /// Stores JSON under `key` in the model table; `json` must be valid JSON. The dimension has
    /// its own setter (`setDimension`), which guards the rows' length.
    public func setModelMetadata(_ key: String, json: [UInt8]) throws {
        let table = StoreTable.model.rawValue
        guard key != ModelMetadataKey.dimension else {
            throw StoreError.invalidWrite(table: table, key: key, reason: "use setDimension")
        }
        guard (try? JSONSerialization.jsonObject(with: Data(json), options: .fragmentsAllowed)) != nil else {
            throw StoreError.invalidWrite(table: table, key: key, reason: "the value is not valid JSON")
        }
        try putString(.model, key, json)
    }

    /// Stores `value` as JSON under `key` in the model table.
    public func setModelMetadata<T: Encodable>(_ key: String, _ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try setModelMetadata(key, json: Array(try encoder.encode(value)))
    }

    // MARK: embeddings

    /// Stores the user's embedding row; it must have `dimension` finite values.
    public func putUserEmbedding(_ id: String, _ row: UnsafeBufferPointer<Float>) throws {
        try putEmbedding(.userEmbeddings, id, row)
    }

    public func putUserEmbedding(_ id: String, _ row: [Float]) throws {
        try row.withUnsafeBufferPointer { try putEmbedding(.userEmbeddings, id, $0) }
    }

    /// Stores the item's embedding row; it must have `dimension` finite values.
    public func putItemEmbedding(_ id: String, _ row: UnsafeBufferPointer<Float>) throws {
        try putEmbedding(.itemEmbeddings, id, row)
    }

    public func putItemEmbedding(_ id: String, _ row: [Float]) throws {
        try row.withUnsafeBufferPointer { try putEmbedding(.itemEmbeddings, id, $0) }
    }

    private func putEmbedding(_ table: StoreTable, _ id: String, _ row: UnsafeBufferPointer<Float>) throws {
        guard let dimension = try dimension else { throw StoreError.dimensionNotSet(table: table.rawValue, key: id) }
        guard row.count == dimension else {
            throw StoreError.dimensionMismatch(table: table.rawValue, key: id, expected: dimension, actual: row.count)
        }
        if let bad = row.firstIndex(where: { !$0.isFinite }) {
            throw StoreError.invalidWrite(
                table: table.rawValue, key: id, reason: "value \(bad) is \(row[bad]); rows must be finite")
        }
        try put(table, id, UnsafeRawBufferPointer(row))
    }

    // MARK: entity metadata

    public func putUser(_ id: String, _ record: UserRecord) throws {
        try putString(.users, id, try encoded(id) { () throws(StoreError) in try record.encoded() })
    }

    public func putItem(_ id: String, _ record: ItemRecord) throws {
        try putString(.items, id, try encoded(id) { () throws(StoreError) in try record.encoded() })
    }

    private func encoded(_ id: String, _ encode: () throws(StoreError) -> [UInt8]) throws(StoreError) -> [UInt8] {
        do {
            return try encode()
        } catch .invalidRecord(let table, let reason) {
            throw .invalidWrite(table: table, key: id, reason: reason)
        }
    }

    // MARK: positions

    /// Records the next offset to consume from a partition. Write it in the transaction that
    /// stores the state produced by the records before it.
    public func setPosition(_ position: StorePosition) throws {
        let key = try StorePosition.key(topic: position.topic, partition: position.partition)
        guard position.offset >= 0 else {
            throw StoreError.invalidWrite(
                table: StoreTable.positions.rawValue, key: position.description, reason: "offsets are not negative")
        }
        try withUnsafeBytes(of: position.offset.littleEndian) { value in
            try key.withUnsafeBytes { try transaction.put(tables.positions, $0, value) }
        }
    }

    // MARK: de-duplication

    /// Records that `eventId` was applied at event time `timestamp`. Use event time, not the
    /// wall clock, so that a replay makes the same decisions. Recording the same pair again
    /// changes nothing.
    public func recordSeen(_ eventId: String, at timestamp: Int64) throws {
        try Self.withSeenKey(eventId, timestamp) { key in
            guard let key else {
                throw StoreError.invalidWrite(
                    table: StoreTable.seenEventsByTime.rawValue, key: eventId,
                    reason: "event ids are 1–\(StoreTable.maximumKeyLength - 8) UTF-8 bytes")
            }
            try transaction.put(tables.seenEventsByTime, key, UnsafeRawBufferPointer(start: nil, count: 0))
        }
    }

    /// Forgets every event recorded before `cutoff` (event time, epoch ms, exclusive), oldest
    /// first, handing each to `removed` (the id's bytes are valid only inside it); returns how
    /// many.
    @discardableResult
    public func pruneSeenEvents(
        olderThan cutoff: Int64, removed: (Int64, UnsafeRawBufferPointer) throws -> Void = { _, _ in }
    ) throws -> Int {
        let cursor = try transaction.cursor(tables.seenEventsByTime)
        var count = 0
        var entry = try cursor.first()
        while let current = entry {
            let (time, eventId) = try Self.seenEntry(current.key)
            guard time < cutoff else { break }
            try removed(time, eventId)
            try cursor.deleteCurrent()
            count += 1
            entry = try cursor.next()
        }
        return count
    }

    // MARK: additional tables

    public func put(_ table: RawTable, _ key: [UInt8], _ value: [UInt8]) throws {
        guard Self.isPossibleKey(key.count) else {
            throw StoreError.invalidWrite(
                table: table.name, key: String(decoding: key, as: UTF8.self),
                reason: "keys are 1–\(StoreTable.maximumKeyLength) bytes")
        }
        try transaction.put(table.database, key, value)
    }

    /// Removes `key` from `table`; returns whether it was there.
    @discardableResult
    public func delete(_ table: RawTable, _ key: [UInt8]) throws -> Bool {
        guard Self.isPossibleKey(key.count) else { return false }
        return try transaction.delete(table.database, key)
    }

    // MARK: helpers

    private func putString(_ table: StoreTable, _ id: String, _ value: [UInt8]) throws {
        try value.withUnsafeBytes { try put(table, id, $0) }
    }

    func put(_ table: StoreTable, _ id: String, _ value: UnsafeRawBufferPointer) throws {
        var utf8 = id
        try utf8.withUTF8 { key in
            guard Self.isPossibleKey(key.count) else {
                throw StoreError.invalidWrite(
                    table: table.rawValue, key: id, reason: "ids are 1–\(StoreTable.maximumKeyLength) UTF-8 bytes")
            }
            try transaction.put(tables[table], UnsafeRawBufferPointer(key), value)
        }
    }
}
