import LoupeLMDB

/// Per-item numbers beside the embeddings: the bias of the personal score (`item_biases`,
/// Float32) and the popularity model's score (`item_popularity`, Float64), both little-endian.
extension StoreSnapshot {
    public func itemBias(_ id: String) throws -> Float? {
        try value(.itemBiases, id).map { bytes throws(StoreError) in try Self.scalar(bytes, Float.self, .itemBiases, id) }
    }

    public func itemPopularity(_ id: String) throws -> Double? {
        try value(.itemPopularity, id).map { bytes throws(StoreError) in try Self.scalar(bytes, Double.self, .itemPopularity, id) }
    }

    /// The biases of `ids` (which must be in key order, as `itemEmbeddingMatrix()` lists them),
    /// 0 where an item has none: one pass of a cursor.
    public func itemBiases(for ids: [String]) throws -> [Float] {
        var biases = [Float](repeating: 0, count: ids.count)
        try joinByKey(.itemBiases, ids) { row, bytes, id in biases[row] = try Self.scalar(bytes, Float.self, .itemBiases, id) }
        return biases
    }

    /// The popularity scores of `ids` (in key order); nil where an item has none.
    public func itemPopularity(for ids: [String]) throws -> [Double?] {
        var scores = [Double?](repeating: nil, count: ids.count)
        try joinByKey(.itemPopularity, ids) { row, bytes, id in scores[row] = try Self.scalar(bytes, Double.self, .itemPopularity, id) }
        return scores
    }

    /// Walks `table` and `ids` (both in key order) together, calling `body` for each id present.
    private func joinByKey(
        _ table: StoreTable, _ ids: [String], _ body: (Int, UnsafeRawBufferPointer, String) throws -> Void
    ) throws {
        var row = 0
        try forEachEntry(tables[table]) { key, value in
            let id = String(decoding: key, as: UTF8.self)
            while row < ids.count, KeyOrder.precedes(ids[row], id) { row += 1 }
            guard row < ids.count, ids[row] == id else { return }
            try body(row, value, id)
        }
    }

    static func scalar<T: BinaryFloatingPoint & BitPatternConvertible>(
        _ bytes: UnsafeRawBufferPointer, _ type: T.Type, _ table: StoreTable, _ id: String
    ) throws(StoreError) -> T {
        guard bytes.count == MemoryLayout<T.BitPattern>.size else {
            throw .corruptRow(table: table.rawValue, key: id, reason: "\(bytes.count) bytes; a value has \(MemoryLayout<T.BitPattern>.size)")
        }
        return T(bitPattern: T.BitPattern(littleEndian: bytes.loadUnaligned(as: T.BitPattern.self)))
    }
}

/// Float and Double, by their IEEE bit patterns.
public protocol BitPatternConvertible {
    associatedtype BitPattern: FixedWidthInteger
    init(bitPattern: BitPattern)
    var bitPattern: BitPattern { get }
}

extension Float: BitPatternConvertible {}
extension Double: BitPatternConvertible {}

extension StoreTransaction {
    /// Stores the item's bias (finite).
    public func putItemBias(_ id: String, _ bias: Float) throws {
        try putScalar(.itemBiases, id, bias)
    }

    /// Stores the item's popularity score (finite).
    public func putItemPopularity(_ id: String, _ score: Double) throws {
        try putScalar(.itemPopularity, id, score)
    }

    private func putScalar<T: BinaryFloatingPoint & BitPatternConvertible>(_ table: StoreTable, _ id: String, _ value: T) throws {
        guard value.isFinite else {
            throw StoreError.invalidWrite(table: table.rawValue, key: id, reason: "\(value) is not finite")
        }
        try withUnsafeBytes(of: value.bitPattern.littleEndian) { try put(table, id, $0) }
    }
}
