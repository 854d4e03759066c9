import LoupeML
/// Diversification by maximal marginal relevance over item embeddings.
///
/// With relevance scores s over a candidate set C, r(i) = (s(i) − min s) / (max s − min s)
/// (r = 1 for all when every score is equal) and cosine similarity cos(i, j) of item
/// embeddings (taken into [−1, 1]), picks k items one at a time; with S the items picked so
/// far, the next is
///
///     argmax over i ∈ C \ S of  λ · r(i) − (1 − λ) · max over j ∈ S of cos(i, j)
///
/// where the max over an empty S is 0 (so the first pick is the most relevant). Ties go to the
/// higher score, then to the lower catalog row. λ = 1 is ranking by score alone.
///
/// Lazily: a candidate's penalty (its max cosine) only grows as picks are added, so a penalty
/// computed against the first picks gives an upper bound of its value for later steps, and a
/// candidate not compared with any pick yet is bounded by the penalty −1. Every candidate is
/// compared with the first pick; after that, the candidates wait in a max-heap by their bound,
/// and a step compares with the new picks only the heap's top until the top has met every pick
/// — usually a few candidates (the lazy greedy algorithm). The result is the exhaustive
/// algorithm's.
enum MaximalMarginalRelevance {
    /// Positions (into `rows`) of the picked candidates, in pick order.
    /// - Parameters:
    ///   - rows: catalog rows of the candidates.
    ///   - scores: their relevance scores.
    ///   - items: the catalog's embeddings, `dimension` values per row; `inverseNorms` one per row.
    ///   - workspace: buffers of at least rows.count entries (`gathered`: rows.count × dimension).
    static func select(
        rows: UnsafeBufferPointer<Int32>, scores: UnsafeBufferPointer<Float>, k: Int, lambda: Float,
        items: UnsafeBufferPointer<Float>, inverseNorms: UnsafeBufferPointer<Float>, dimension: Int, workspace: MMRWorkspace
    ) -> [Int] {
        let count = rows.count
        let steps = min(k, count)
        guard steps > 0 else { return [] }
        var low = Float.infinity
        var high = -Float.infinity
        for index in 0..<count {
            low = min(low, scores[index])
            high = max(high, scores[index])
        }
        let span = high - low
        let relevance = workspace.relevance
        let penalties = workspace.penalties
        let compared = workspace.compared
        for index in 0..<count {
            relevance[index] = span > 0 ? (scores[index] - low) / span : 1
            penalties[index] = -1
            compared[index] = 0
        }
        /// The value of candidate `index` for its penalty so far: exact once it has been
        /// compared with every pick, an upper bound before.
        func value(_ index: Int) -> Float { lambda * relevance[index] - (1 - lambda) * penalties[index] }
        /// Whether (value `a` of candidate `i`) ranks above (value `b` of candidate `j`).
        func beats(_ a: Float, _ i: Int, _ b: Float, _ j: Int) -> Bool {
            a > b || (a == b && (scores[i] > scores[j] || (scores[i] == scores[j] && rows[i] < rows[j])))
        }

        // Picks so far, as positions into `rows`, in pick order (plain memory: nothing in the
        // loops below retains or releases).
        let picks = workspace.picks
        // The first pick: the most relevant (every penalty is the empty max, 0).
        var first = 0
        for index in 1..<count where beats(lambda * relevance[index], index, lambda * relevance[first], first) { first = index }
        guard steps > 1 else { return [first] }
        compared[first] = -1
        picks[0] = Int32(first)
        var pickCount = 1

        // The candidates' rows, copied next to each other: the copies' loads (of rows scattered
        // over the matrix) are few instructions each, so the processor overlaps many of them,
        // and every comparison after that reads memory that is in cache.
        let gathered = workspace.gathered.baseAddress!
        let scales = workspace.scales
        for index in 0..<count {
            let row = Int(rows[index])
            (gathered + index * dimension).update(from: items.baseAddress! + row * dimension, count: dimension)
            scales[index] = inverseNorms[row]
        }
        /// Compares candidate `index` with the picks it has not met yet.
        @inline(__always) func catchUp(_ index: Int) {
            let vector = gathered + index * dimension
            let scale = scales[index]
            var penalty = penalties[index]
            for place in Int(compared[index])..<pickCount {
                let other = Int(picks[place])
                let cosine = ItemScoring.dot(vector, gathered + other * dimension, dimension) * scale * scales[other]
                penalty = max(penalty, min(1, max(-1, cosine)))
            }
            penalties[index] = penalty
            compared[index] = Int32(pickCount)
        }
        // Nearly every candidate's bound beats the best value of the second step: compare all of
        // them with the first pick.
        for index in 0..<count where compared[index] >= 0 { catchUp(index) }

        // Then lazily: a max-heap of the candidates ordered by their value for the picks they
        // have met (`beats`). The top's value bounds every other candidate's, so once the top
        // has met every pick it is the next pick; until then it catches up and sinks to its
        // place. A step so touches only the few candidates that could still win it.
        let heap = workspace.queue
        var size = 0
        for index in 0..<count where compared[index] >= 0 {
            heap[size] = Int32(index)
            size += 1
        }
        func siftDown(_ start: Int) {
            var parent = start
            let entry = heap[parent]
            let entryValue = value(Int(entry))
            while true {
                var child = 2 * parent + 1
                guard child < size else { break }
                var childValue = value(Int(heap[child]))
                if child + 1 < size {
                    let rightValue = value(Int(heap[child + 1]))
                    if beats(rightValue, Int(heap[child + 1]), childValue, Int(heap[child])) {
                        child += 1
                        childValue = rightValue
                    }
                }
                guard beats(childValue, Int(heap[child]), entryValue, Int(entry)) else { break }
                heap[parent] = heap[child]
                parent = child
            }
            heap[parent] = entry
        }
        for start in stride(from: size / 2 - 1, through: 0, by: -1) { siftDown(start) }
        while pickCount < steps {
            let top = Int(heap[0])
            if Int(compared[top]) == pickCount {
                size -= 1
                heap[0] = heap[size]
                if size > 0 { siftDown(0) }
                compared[top] = -1
                picks[pickCount] = Int32(top)
                pickCount += 1
            } else {
                catchUp(top)
                siftDown(0)
            }
        }
        return (0..<pickCount).map { Int(picks[$0]) }
    }

}

/// Working memory of `MaximalMarginalRelevance.select` for up to `capacity` candidates.
struct MMRWorkspace {
    /// The candidates' rows, contiguous, and their inverse norms.
    let gathered: UnsafeMutableBufferPointer<Float>
    let scales: UnsafeMutableBufferPointer<Float>
    let relevance: UnsafeMutableBufferPointer<Float>
    /// Per candidate: the largest cosine with the picks it was compared with (−1: none).
    let penalties: UnsafeMutableBufferPointer<Float>
    /// Per candidate: how many of the first picks it was compared with; −1 once picked.
    let compared: UnsafeMutableBufferPointer<Int32>
    /// The picks in order, as positions into the candidates.
    let picks: UnsafeMutableBufferPointer<Int32>
    /// The candidates not picked yet, as a heap.
    let queue: UnsafeMutableBufferPointer<Int32>
}
