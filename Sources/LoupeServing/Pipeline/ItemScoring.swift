import CBLAS

/// Inner products of query rows with every row of an item matrix: the exact retrieval scan,
/// for one query or for many at once.
///
/// - Up to `matrixProductFromQueries − 1` queries: one `cblas_sgemv` each. A matrix-vector
///   product streams the item matrix as it is; a matrix product would first copy (pack) it.
/// - More: the matrix is taken in blocks of about `blockBytes` (so a block stays in the core's
///   L2 cache), and each block is multiplied with all the queries by one `cblas_sgemm`. The
///   item matrix then comes from memory once for all the queries instead of once for each,
///   which is what makes coalescing concurrent requests (`ScoringQueue`) pay.
///
/// `loupe bench serve` measures the time per query at several batch sizes (docs/benchmarks.md).
public enum ItemScoring {
    /// From this many queries, the blocked matrix product is used.
    public static let matrixProductFromQueries = 3
    /// The size of one block of item rows in the matrix-product path.
    public static let blockBytes = 256 << 10

    /// Item rows per block at `dimension`.
    public static func blockRows(dimension: Int) -> Int {
        max(64, blockBytes / (MemoryLayout<Float>.stride * max(dimension, 1)))
    }

    /// For each query `q` (`dimension` Floats at `queries + q·dimension`), writes the inner
    /// product of it with every item row into `scores + q·stride` (`itemCount` Floats). The
    /// matrix product writes each block's scores in place, so nothing is copied afterwards.
    /// - Parameters:
    ///   - items: `itemCount × dimension` Float32, row-major.
    ///   - stride: at least `itemCount`.
    public static func score(
        items: UnsafePointer<Float>, itemCount: Int, dimension: Int, queries: UnsafePointer<Float>, queryCount: Int,
        into scores: UnsafeMutablePointer<Float>, stride: Int
    ) {
        precondition(stride >= itemCount, "a stride of \(stride) for \(itemCount) items")
        guard itemCount > 0, dimension > 0, queryCount > 0 else { return }
        let d = Int32(dimension)
        if queryCount < matrixProductFromQueries {
            for query in 0..<queryCount {
                cblas_sgemv(
                    CblasRowMajor, CblasNoTrans, Int32(itemCount), d, 1, items, d, queries + query * dimension, 1, 0,
                    scores + query * stride, 1)
            }
            return
        }
        let blockRows = blockRows(dimension: dimension)
        for start in Swift.stride(from: 0, to: itemCount, by: blockRows) {
            let rows = min(blockRows, itemCount - start)
            // scores[·][start..<start + rows] (queries × rows) = queries (queries × d) · items[start..<start + rows]ᵀ
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(queryCount), Int32(rows), d, 1, queries, d,
                items + start * dimension, d, 0, scores + start, Int32(stride))
        }
    }
}
