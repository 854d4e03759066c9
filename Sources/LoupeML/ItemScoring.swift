import CBLAS

/// Loupe's one inner-product scorer: query rows against every item row with BLAS — the exact
/// retrieval scan of serving (items transposed, one query or many at once), the model's own
/// scoring in evaluation (items as rows), and `dot` for one pair of short rows where a BLAS call
/// would cost more than the arithmetic.
///
/// The scan reads the item matrix *transposed*, `dimension × itemCount` row-major (one row per
/// embedding dimension, `ItemCatalog.embeddingsByDimension`), which OpenBLAS handles faster
/// than the item rows themselves: a matrix-vector product becomes `dimension` long streaming
/// passes instead of `itemCount` short dot products, and a matrix product packs it with a plain
/// copy instead of a transposing one (docs/serving.md has the times, single queries and
/// batches, at d = 64 and 128).
///
/// - Up to `matrixProductFromQueries − 1` queries: one `cblas_sgemv` each, streaming the matrix
///   as it is (a matrix product would first copy it).
/// - More: the matrix is taken in blocks of about `blockBytes` columns' worth, and each block is
///   multiplied with all the queries by one `cblas_sgemm`. The item matrix then comes from
///   memory once for all the queries instead of once for each, which is what makes coalescing
///   concurrent requests (`ScoringQueue`) pay. A count of queries that is not a multiple of
///   `queryMultiple` costs about as much as the next multiple (`loupe bench serve` shows it
///   in its batch-size table): callers that can, pad (`paddedQueryCount`).
///
/// `loupe bench serve` measures the time per query at several batch sizes (docs/benchmarks.md).
public enum ItemScoring {
    /// From this many queries, the blocked matrix product is used.
    public static let matrixProductFromQueries = 4
    /// The matrix product's cost grows in steps of this many queries.
    public static let queryMultiple = 4
    /// The size of one block of item columns in the matrix-product path.
    public static let blockBytes = 256 << 10

    /// Item columns per block at `dimension`.
    public static func blockColumns(dimension: Int) -> Int {
        max(64, blockBytes / (MemoryLayout<Float>.stride * max(dimension, 1)))
    }

    /// The query count to score when `count` queries are wanted and padding rows are free to
    /// add: unchanged on the matrix-vector path, else rounded up to a multiple of `queryMultiple`.
    public static func paddedQueryCount(_ count: Int) -> Int {
        count < matrixProductFromQueries ? count : (count + queryMultiple - 1) / queryMultiple * queryMultiple
    }

    /// For each query `q` (`dimension` Floats at `queries + q·dimension`), writes the inner
    /// product of it with every item into `scores + q·stride` (`itemCount` Floats). The matrix
    /// product writes each block's scores in place, so nothing is copied afterwards.
    /// - Parameters:
    ///   - itemsByDimension: the items transposed, `dimension × itemCount` Float32 row-major
    ///     (`transposed(_:count:dimension:)`).
    ///   - stride: at least `itemCount`.
    public static func score(
        itemsByDimension items: UnsafePointer<Float>, itemCount: Int, dimension: Int, queries: UnsafePointer<Float>,
        queryCount: Int, into scores: UnsafeMutablePointer<Float>, stride: Int
    ) {
        score(
            itemsByDimension: items, itemCount: itemCount, dimension: dimension, queries: queries, queryCount: queryCount,
            into: scores, stride: stride, columns: 0..<itemCount)
    }

    /// `score(…)` for the items (columns) in `columns` only: their scores are written, every
    /// other one is left as it is. Disjoint ranges may be scored on different threads at once.
    public static func score(
        itemsByDimension items: UnsafePointer<Float>, itemCount: Int, dimension: Int, queries: UnsafePointer<Float>,
        queryCount: Int, into scores: UnsafeMutablePointer<Float>, stride: Int, columns: Range<Int>
    ) {
        precondition(stride >= itemCount, "a stride of \(stride) for \(itemCount) items")
        precondition(columns.lowerBound >= 0 && columns.upperBound <= itemCount, "columns \(columns) of \(itemCount) items")
        guard !columns.isEmpty, dimension > 0, queryCount > 0 else { return }
        let d = Int32(dimension)
        let n = Int32(itemCount)
        if queryCount < matrixProductFromQueries {
            for query in 0..<queryCount {
                // scores[query][columns] = itemsᵀ-layout[·][columns] (d × columns)ᵀ · queries[query]
                cblas_sgemv(
                    CblasRowMajor, CblasTrans, d, Int32(columns.count), 1, items + columns.lowerBound, n,
                    queries + query * dimension, 1, 0, scores + query * stride + columns.lowerBound, 1)
            }
            return
        }
        let blockColumns = blockColumns(dimension: dimension)
        for start in Swift.stride(from: columns.lowerBound, to: columns.upperBound, by: blockColumns) {
            let width = min(blockColumns, columns.upperBound - start)
            // scores[·][start..<start + width] (queries × width) = queries (queries × d) · items[·][start..<start + width] (d × width)
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(queryCount), Int32(width), d, 1, queries, d,
                items + start, n, 0, scores + start, Int32(stride))
        }
    }

    /// For each item row `i` (`dimension` Floats at `rows + i·dimension`), `scores[i] = β·scores[i] +
    /// ⟨row i, query⟩`: one `cblas_sgemv` over the rows as they are stored (β = 1 adds the
    /// products to what `scores` holds, say the items' biases).
    public static func score(
        itemRows rows: UnsafePointer<Float>, itemCount: Int, dimension: Int, query: UnsafePointer<Float>,
        into scores: UnsafeMutablePointer<Float>, accumulating: Bool = false
    ) {
        guard itemCount > 0, dimension > 0 else { return }
        cblas_sgemv(
            CblasRowMajor, CblasNoTrans, Int32(itemCount), Int32(dimension), 1, rows, Int32(dimension), query, 1,
            accumulating ? 1 : 0, scores, 1)
    }

    /// The inner product of two rows of `count` values, for rows of tens of values. Summed in
    /// eight lanes, then the lanes in a fixed order, so a result is the same on every run and
    /// machine (the compiler cannot vectorise a plain running sum of floats by itself: that
    /// would reorder the additions).
    @inlinable @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        var lanes = SIMD8<Float>()
        var offset = 0
        while offset + 8 <= count {
            lanes += UnsafeRawPointer(a + offset).loadUnaligned(as: SIMD8<Float>.self)
                * UnsafeRawPointer(b + offset).loadUnaligned(as: SIMD8<Float>.self)
            offset += 8
        }
        var sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
        while offset < count {
            sum += a[offset] * b[offset]
            offset += 1
        }
        return sum
    }

    /// `itemCount` columns cut into at most `parts` consecutive ranges whose bounds (but the
    /// last) are multiples of the matrix product's block, for splitting one scan across threads.
    public static func parts(itemCount: Int, dimension: Int, parts: Int) -> [Range<Int>] {
        guard itemCount > 0 else { return [] }
        let block = blockColumns(dimension: dimension)
        let wanted = (itemCount + max(parts, 1) - 1) / max(parts, 1)
        let width = (wanted + block - 1) / block * block
        return Swift.stride(from: 0, to: itemCount, by: width).map { $0..<min($0 + width, itemCount) }
    }
}
