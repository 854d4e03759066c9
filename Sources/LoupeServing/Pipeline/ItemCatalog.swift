import LoupeML
import LoupeStore

/// The item side of one snapshot, loaded once when the snapshot opens: every item with an
/// embedding, in id (byte) order, as parallel arrays indexed by row.
///
/// An item is *servable* (may appear in a list) when it has an embedding, a catalog record with
/// a known style (that is, the catalog described it; items seen only in interactions lack it),
/// and is not deleted.
public struct ItemCatalog: Sendable {
    /// Item ids in byte order: row `r` is `ids[r]`.
    public let ids: [String]
    public let dimension: Int
    /// `count × dimension` Float32, row-major, contiguous: the rows that MMR, the history query
    /// and `similar` read one by one.
    public let embeddings: [Float]
    /// The same values transposed, `dimension × count` row-major: the layout of the retrieval
    /// scan (`ItemScoring`). A second copy of the matrix, for a faster scan.
    public let embeddingsByDimension: [Float]
    /// 1 / ‖row‖ (0 for a zero row), for cosine similarity.
    public let inverseNorms: [Float]
    /// Price per row; NaN when unknown.
    public let prices: [Double]
    /// Style index per row; -1 when unknown.
    public let styles: [Int8]
    /// The personal score's item bias per row (0 when the store has none).
    public let biases: [Float]
    /// Interactions counted per row.
    public let interactionCounts: [UInt64]
    /// The popularity model's score per row (`item_popularity`; the interaction count where
    /// the store has none): what the popular list and cold starts rank by.
    public let popularity: [Float]
    /// 1 when the row is servable, else 0.
    let servable: [UInt8]
    /// Servable rows, most popular first (ties: lower row first).
    let popularOrder: [Int32]
    let largestPopularity: Float

    public var count: Int { ids.count }

    /// The row of `id`, by binary search over the sorted ids.
    public func row(of id: String) -> Int? {
        KeyOrder.index(of: id, in: ids)
    }

    public func isServable(_ row: Int) -> Bool { servable[row] != 0 }

    /// Loads the catalog from `snapshot`: the embedding matrix, joined by id with the item records.
    init(_ snapshot: StoreSnapshot) throws {
        let matrix = try snapshot.itemEmbeddingMatrix()
        let count = matrix.rowCount
        let dimension = matrix.dimension
        var prices = [Double](repeating: .nan, count: count)
        var styles = [Int8](repeating: -1, count: count)
        var counts = [UInt64](repeating: 0, count: count)
        var servable = [UInt8](repeating: 0, count: count)
        // Both tables are in key order, so one merge pass joins them.
        var row = 0
        try snapshot.forEachItem { id, record in
            while row < count, KeyOrder.precedes(matrix.ids[row], id) { row += 1 }
            guard row < count, matrix.ids[row] == id else { return }
            prices[row] = record.price
            styles[row] = Int8(record.styleIndex ?? -1)
            counts[row] = record.interactionCount
            servable[row] = record.styleIndex != nil && !record.deleted ? 1 : 0
        }
        var inverseNorms = [Float](repeating: 0, count: count)
        matrix.values.withUnsafeBufferPointer { values in
            for row in 0..<count {
                let start = values.baseAddress! + row * dimension
                let sum = ItemScoring.dot(start, start, dimension)
                inverseNorms[row] = sum > 0 ? 1 / sum.squareRoot() : 0
            }
        }
        let stored = try snapshot.itemPopularity(for: matrix.ids)
        let popularity = (0..<count).map { Float(stored[$0] ?? Double(counts[$0])) }
        var popular = (0..<count).filter { servable[$0] != 0 }.map { Int32($0) }
        popular.sort { popularity[Int($0)] != popularity[Int($1)] ? popularity[Int($0)] > popularity[Int($1)] : $0 < $1 }

        ids = matrix.ids
        self.dimension = dimension
        embeddings = matrix.values
        embeddingsByDimension = matrix.values.withUnsafeBufferPointer {
            ItemScoring.transposed($0, count: count, dimension: dimension)
        }
        self.inverseNorms = inverseNorms
        self.prices = prices
        self.styles = styles
        biases = try snapshot.itemBiases(for: matrix.ids)
        interactionCounts = counts
        self.popularity = popularity
        self.servable = servable
        popularOrder = popular
        largestPopularity = popularity.max() ?? 0
    }
}
