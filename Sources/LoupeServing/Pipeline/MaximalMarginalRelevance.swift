import CBLAS

/// Diversification by maximal marginal relevance over item embeddings.
///
/// With relevance scores s over a candidate set C, r(i) = (s(i) − min s) / (max s − min s)
/// (r = 1 for all when every score is equal) and cosine similarity cos(i, j) of item
/// embeddings, picks k items one at a time; with S the items picked so far, the next is
///
///     argmax over i ∈ C \ S of  λ · r(i) − (1 − λ) · max over j ∈ S of cos(i, j)
///
/// where the max over an empty S is 0 (so the first pick is the most relevant). Ties go to the
/// higher score, then to the lower catalog row. λ = 1 is ranking by score alone.
enum MaximalMarginalRelevance {
    /// Positions (into `rows`) of the picked candidates, in pick order.
    /// - Parameters:
    ///   - rows: catalog rows of the candidates.
    ///   - scores: their relevance scores.
    ///   - workspace: `gathered` holds rows.count × dimension, the others rows.count each.
    static func select(
        rows: UnsafeBufferPointer<Int32>, scores: UnsafeBufferPointer<Float>, k: Int, lambda: Float, catalog: ItemCatalog,
        workspace: MMRWorkspace
    ) -> [Int] {
        let count = rows.count
        let steps = min(k, count)
        guard steps > 0 else { return [] }
        let dimension = catalog.dimension
        var low = Float.infinity
        var high = -Float.infinity
        for index in 0..<count {
            low = min(low, scores[index])
            high = max(high, scores[index])
        }
        let span = high - low
        let gathered = workspace.gathered
        let similarities = workspace.similarities
        let penalties = workspace.penalties
        let picked = workspace.picked
        // The candidates' rows are scattered over the matrix: copy each whole (a memory copy
        // overlaps the cache misses of many rows), then scale the contiguous copy in place.
        catalog.embeddings.withUnsafeBufferPointer { items in
            catalog.inverseNorms.withUnsafeBufferPointer { inverseNorms in
                let source = items.baseAddress!
                let target = gathered.baseAddress!
                for index in 0..<count {
                    (target + index * dimension).update(from: source + Int(rows[index]) * dimension, count: dimension)
                }
                for index in 0..<count {
                    let scale = inverseNorms[Int(rows[index])]
                    let row = target + index * dimension
                    for offset in 0..<dimension { row[offset] *= scale }
                }
            }
        }
        let relevance = workspace.relevance
        for index in 0..<count {
            relevance[index] = span > 0 ? (scores[index] - low) / span : 1
            penalties[index] = 0
            picked[index] = 0
        }
        var order: [Int] = []
        order.reserveCapacity(steps)
        for step in 0..<steps {
            var best = -1
            var bestValue = -Float.infinity
            for index in 0..<count where picked[index] == 0 {
                let value = lambda * relevance[index] - (1 - lambda) * penalties[index]
                if best < 0 || value > bestValue
                    || (value == bestValue
                        && (scores[index] > scores[best] || (scores[index] == scores[best] && rows[index] < rows[best])))
                {
                    best = index
                    bestValue = value
                }
            }
            picked[best] = 1
            order.append(best)
            guard step + 1 < steps else { break }
            // similarities = gathered (count × d) · gathered[best]
            cblas_sgemv(
                CblasRowMajor, CblasNoTrans, Int32(count), Int32(dimension), 1, UnsafePointer(gathered.baseAddress),
                Int32(dimension),
                gathered.baseAddress! + best * dimension, 1, 0, similarities.baseAddress, 1)
            for index in 0..<count {
                penalties[index] = step == 0 ? similarities[index] : max(penalties[index], similarities[index])
            }
        }
        return order
    }
}

/// Working memory of `MaximalMarginalRelevance.select` for up to `capacity` candidates.
struct MMRWorkspace {
    let gathered: UnsafeMutableBufferPointer<Float>
    let similarities: UnsafeMutableBufferPointer<Float>
    let relevance: UnsafeMutableBufferPointer<Float>
    let penalties: UnsafeMutableBufferPointer<Float>
    let picked: UnsafeMutableBufferPointer<UInt8>
}
