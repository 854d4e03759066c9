import Testing

@testable import LoupeHTTP
@testable import LoupeServing

/// The lazy maximal-marginal-relevance selection against the exhaustive algorithm written out
/// plainly (every candidate's value recomputed at every step). The rows have small integer
/// entries, so every inner product is exact in Float and both compute the same cosines to the
/// bit; scores from a few values and repeated rows make ties in values, scores and cosines.
@Suite struct MaximalMarginalRelevanceTests {
    static func exhaustive(
        rows: [Int32], scores: [Float], k: Int, lambda: Float, items: [Float], inverseNorms: [Float], dimension: Int
    ) -> [Int] {
        let low = scores.min()!
        let span = scores.max()! - low
        let relevance = scores.map { span > 0 ? ($0 - low) / span : 1 }
        func cosine(_ i: Int, _ j: Int) -> Float {
            let a = Int(rows[i])
            let b = Int(rows[j])
            var dot: Float = 0
            for offset in 0..<dimension { dot += items[a * dimension + offset] * items[b * dimension + offset] }
            return min(1, max(-1, dot * inverseNorms[a] * inverseNorms[b]))
        }
        var order: [Int] = []
        while order.count < min(k, rows.count) {
            var best = -1
            var bestValue: Float = 0
            for index in rows.indices where !order.contains(index) {
                let penalty = order.isEmpty ? 0 : order.map { cosine(index, $0) }.max()!
                let value = lambda * relevance[index] - (1 - lambda) * penalty
                if best < 0 || value > bestValue
                    || (value == bestValue
                        && (scores[index] > scores[best] || (scores[index] == scores[best] && rows[index] < rows[best])))
                {
                    best = index
                    bestValue = value
                }
            }
            order.append(best)
        }
        return order
    }

    @Test(arguments: [0.0, 0.3, 0.5, 0.7, 1.0] as [Float])
    func equalsTheExhaustiveAlgorithm(lambda: Float) {
        var state: UInt64 = 0x5EED &+ UInt64(lambda * 10)
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33) % bound
        }
        for trial in 0..<60 {
            let dimension = [3, 8, 13, 64][trial % 4]
            let catalogSize = 40 + next(200)
            // A few distinct rows, repeated, with entries in −2…2 (one all-zero row: norm 0).
            let distinct = 2 + next(20)
            let patterns = (0..<distinct).map { pattern in
                (0..<dimension).map { _ in pattern == 0 ? Float(0) : Float(next(5) - 2) }
            }
            let items = (0..<catalogSize).flatMap { _ in patterns[next(distinct)] }
            let inverseNorms = (0..<catalogSize).map { row -> Float in
                let norm = (0..<dimension).reduce(Float(0)) { $0 + items[row * dimension + $1] * items[row * dimension + $1] }.squareRoot()
                return norm > 0 ? 1 / norm : 0
            }
            let count = 1 + next(min(catalogSize, 120))
            var pool = Array(0..<Int32(catalogSize))
            for index in pool.indices.reversed() { pool.swapAt(index, next(index + 1)) }
            let rows = Array(pool.prefix(count))
            let levels = 1 + next(6)
            let scores = rows.map { _ in Float(next(levels)) / 4 }
            let k = 1 + next(25)
            let workspace = MMRWorkspace(
                gathered: .allocate(capacity: count * dimension), scales: .allocate(capacity: count), relevance: .allocate(capacity: count), penalties: .allocate(capacity: count), compared: .allocate(capacity: count),
                picks: .allocate(capacity: count), queue: .allocate(capacity: count))
            defer {
                workspace.queue.deallocate()
                workspace.relevance.deallocate()
                workspace.penalties.deallocate()
                workspace.compared.deallocate()
                workspace.picks.deallocate()
                workspace.gathered.deallocate()
                workspace.scales.deallocate()
            }
            let lazy = rows.withUnsafeBufferPointer { rowBuffer in
                scores.withUnsafeBufferPointer { scoreBuffer in
                    items.withUnsafeBufferPointer { itemBuffer in
                        inverseNorms.withUnsafeBufferPointer { normBuffer in
                            MaximalMarginalRelevance.select(
                                rows: rowBuffer, scores: scoreBuffer, k: k, lambda: lambda, items: itemBuffer,
                                inverseNorms: normBuffer, dimension: dimension, workspace: workspace)
                        }
                    }
                }
            }
            let expected = Self.exhaustive(
                rows: rows, scores: scores, k: k, lambda: lambda, items: items, inverseNorms: inverseNorms, dimension: dimension)
            #expect(lazy == expected, "trial \(trial): \(count) candidates, k \(k), d \(dimension)")
        }
    }
}
