/// Embedding rows loaded into one contiguous row-major Float32 matrix, for BLAS: row `i` is
/// `values[i * dimension ..< (i + 1) * dimension]` and belongs to `ids[i]`.
public struct EmbeddingMatrix: Sendable {
    /// Ids in key (UTF-8 byte) order, the order of the rows.
    public let ids: [String]
    public let dimension: Int
    /// `ids.count × dimension` values, row-major.
    public let values: [Float]

    public var rowCount: Int { ids.count }

    public func row(_ index: Int) -> ArraySlice<Float> {
        values[index * dimension..<(index + 1) * dimension]
    }

    /// The row of `id`, by binary search over the sorted ids.
    public func rowIndex(of id: String) -> Int? {
        KeyOrder.index(of: id, in: ids)
    }
}

/// The store's key order: ids compare by their UTF-8 bytes, as LMDB compares keys.
public enum KeyOrder {
    /// The position of `id` in `ids`, which are sorted in key order (as read from a table), by
    /// binary search; nil when it is not there.
    public static func index(of id: String, in ids: [String]) -> Int? {
        var low = 0
        var high = ids.count
        while low < high {
            let middle = (low + high) / 2
            if ids[middle].utf8.lexicographicallyPrecedes(id.utf8) { low = middle + 1 } else { high = middle }
        }
        return low < ids.count && ids[low] == id ? low : nil
    }
}
