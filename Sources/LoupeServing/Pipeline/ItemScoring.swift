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

    /// The workspace (in Floats) `score` needs for `queries` queries at `dimension`.
    public static func workspaceCount(queries: Int, dimension: Int) -> Int {
        queries < matrixProductFromQueries ? 0 : queries * blockRows(dimension: dimension)
    }

    /// For each query `q` (`dimension` Floats at `queries + q·dimension`), writes the inner
    /// product of it with every item row into `outputs[q][0..<itemCount]`.
    /// - Parameters:
    ///   - items: `itemCount × dimension` Float32, row-major.
    ///   - workspace: at least `workspaceCount(queries:dimension:)` Floats.
    public static func score(
        items: UnsafePointer<Float>, itemCount: Int, dimension: Int, queries: UnsafePointer<Float>, queryCount: Int,
        outputs: UnsafeBufferPointer<UnsafeMutablePointer<Float>>, workspace: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(outputs.count >= queryCount, "\(outputs.count) outputs for \(queryCount) queries")
        guard itemCount > 0, dimension > 0, queryCount > 0 else { return }
        let d = Int32(dimension)
        if queryCount < matrixProductFromQueries {
            for query in 0..<queryCount {
                cblas_sgemv(
                    CblasRowMajor, CblasNoTrans, Int32(itemCount), d, 1, items, d, queries + query * dimension, 1, 0,
                    outputs[query], 1)
            }
            return
        }
        let blockRows = blockRows(dimension: dimension)
        precondition(workspace.count >= queryCount * blockRows, "the scoring workspace is too small")
        let block = workspace.baseAddress!
        for start in stride(from: 0, to: itemCount, by: blockRows) {
            let rows = min(blockRows, itemCount - start)
            // block (queries × rows) = queries (queries × d) · items[start..<start + rows]ᵀ
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(queryCount), Int32(rows), d, 1, queries, d,
                items + start * dimension, d, 0, block, Int32(rows))
            for query in 0..<queryCount {
                (outputs[query] + start).update(from: block + query * rows, count: rows)
            }
        }
    }
}
