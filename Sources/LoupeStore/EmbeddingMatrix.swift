#if canImport(Glibc)
import Glibc
#endif

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
        var id = id
        return id.withUTF8 { key in
            var low = 0
            var high = ids.count
            while low < high {
                let middle = (low + high) / 2
                if compare(ids[middle], key) < 0 { low = middle + 1 } else { high = middle }
            }
            return low < ids.count && compare(ids[low], key) == 0 ? low : nil
        }
    }

    /// Whether `a` comes before `b` in key order.
    public static func precedes(_ a: String, _ b: String) -> Bool {
        var b = b
        return b.withUTF8 { compare(a, $0) < 0 }
    }

    /// The sign of `a` against the bytes `b` in key order: a comparison of the common prefix's
    /// bytes (`memcmp`, on a native string's contiguous UTF-8), then of the lengths. The
    /// sequence comparison of the standard library (`lexicographicallyPrecedes`) goes through
    /// the generic collection path and cost several times as much in the serving pipeline's
    /// id lookups.
    @inline(__always)
    static func compare(_ a: String, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        var a = a
        return a.withUTF8 { a in
            let common = min(a.count, b.count)
            if common > 0 {
                let order = memcmp(a.baseAddress!, b.baseAddress!, common)
                if order != 0 { return Int(order) }
            }
            return a.count - b.count
        }
    }
}
