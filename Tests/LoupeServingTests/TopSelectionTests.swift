import Testing

@testable import LoupeHTTP
@testable import LoupeServing

/// The threshold path of `TopSelection` (large limits, with a workspace) gives exactly what the
/// heap gives: same rows, same order, ties to the lower row.
@Suite struct TopSelectionTests {
    /// Scores with many ties (a few distinct values) or all distinct, and a mask.
    static func scores(count: Int, distinct: Int?, seed: UInt64) -> (values: [Float], mask: [UInt8]) {
        var state = seed
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let values = (0..<count).map { _ in
            distinct.map { Float(next() % UInt64($0)) } ?? Float(Int64(next() % 2_000_001) - 1_000_000) / 1_000
        }
        let mask = (0..<count).map { _ in UInt8(next() % 5 == 0 ? 0 : 1) }
        return (values, mask)
    }

    static func select(_ values: [Float], mask: [UInt8]?, limit: Int, workspace: Bool) -> [Int32] {
        var rows = [Int32](repeating: -1, count: limit)
        var best = [Float](repeating: 0, count: limit)
        var candidates = [TopSelection.Candidate](repeating: TopSelection.Candidate(score: 0, row: 0), count: values.count)
        let selected = values.withUnsafeBufferPointer { values in
            rows.withUnsafeMutableBufferPointer { rows in
                best.withUnsafeMutableBufferPointer { best in
                    candidates.withUnsafeMutableBufferPointer { candidates in
                        func run(_ mask: UnsafeBufferPointer<UInt8>?) -> Int {
                            workspace
                                ? TopSelection.select(values, mask: mask, limit: limit, rows: rows, scores: best, workspace: candidates)
                                : TopSelection.select(values, mask: mask, limit: limit, rows: rows, scores: best)
                        }
                        guard let mask else { return run(nil) }
                        return mask.withUnsafeBufferPointer { run($0) }
                    }
                }
            }
        }
        return Array(rows[0..<selected])
    }

    @Test(arguments: [nil, 3, 1_000] as [Int?])
    func thresholdPathMatchesTheHeap(distinct: Int?) {
        for (count, limit, seed) in [(20_000, 1_000, 1 as UInt64), (50_003, 1_000, 6), (5_000, 200, 2), (3_000, 2_900, 3), (500, 1_000, 4), (64, 64, 5), (1_029, 64, 7)] {
            let (values, mask) = Self.scores(count: count, distinct: distinct, seed: seed)
            for mask in [nil, mask] as [[UInt8]?] {
                let heap = Self.select(values, mask: mask, limit: limit, workspace: false)
                let threshold = Self.select(values, mask: mask, limit: limit, workspace: true)
                #expect(threshold == heap, "n \(count), limit \(limit), distinct \(distinct.map(String.init) ?? "all"), mask \(mask != nil)")
            }
        }
    }

    /// A candidate's packed key keeps its score and row, and orders as the heap does: higher
    /// score first, equal scores (−0 and +0 among them) to the lower row.
    @Test func candidateKeysOrderAsScoresThenRows() {
        let scores: [Float] = [-.greatestFiniteMagnitude, -1e30, -2.5, -1, -.leastNonzeroMagnitude, -0.0, 0, .leastNonzeroMagnitude, 1e-30, 0.5, 1, 3e38]
        let rows: [Int32] = [0, 1, 7, 49_999, Int32.max]
        var candidates: [(Float, Int32)] = []
        for score in scores { for row in rows { candidates.append((score, row)) } }
        for (score, row) in candidates {
            let candidate = TopSelection.Candidate(score: score, row: row)
            #expect(candidate.score == score && candidate.row == row)
        }
        for a in candidates {
            for b in candidates {
                let expected = a.0 > b.0 || (a.0 == b.0 && a.1 < b.1)
                #expect((TopSelection.Candidate(score: a.0, row: a.1) > TopSelection.Candidate(score: b.0, row: b.1)) == expected)
            }
        }
        // Zeros of both signs tie: the lower rows come first, whatever the sign.
        let values: [Float] = (0..<200).map { $0 % 2 == 0 ? -0.0 : 0.0 }
        #expect(Self.select(values, mask: nil, limit: 100, workspace: true) == Array(0..<100))
    }

    /// The quicksort orders as the standard library's sort does, at every length around its
    /// insertion-sort cut-off and beyond, with many equal scores.
    @Test func sortDescendingMatchesTheStandardSort() {
        for count in [0, 1, 2, 3, 15, 16, 17, 31, 100, 1_000, 4_097] {
            let (values, _) = Self.scores(count: count, distinct: count % 2 == 0 ? 7 : nil, seed: UInt64(count))
            var candidates = values.enumerated().map { TopSelection.Candidate(score: $1, row: Int32($0)) }
            let expected = candidates.sorted(by: >)
            candidates.withUnsafeMutableBufferPointer { TopSelection.sortDescending($0) }
            #expect(candidates.map(\.row) == expected.map(\.row), "\(count) candidates")
        }
    }

    @Test func restrictiveMaskFallsBackAndStillReturnsEveryEligibleRow() {
        var (values, _) = Self.scores(count: 10_000, distinct: nil, seed: 9)
        values[7] = 5_000
        var mask = [UInt8](repeating: 0, count: values.count)
        for row in stride(from: 3, to: values.count, by: 97) { mask[row] = 1 }
        mask[7] = 1
        let rows = Self.select(values, mask: mask, limit: 1_000, workspace: true)
        #expect(rows.count == mask.filter { $0 != 0 }.count)
        #expect(rows.first == 7)
        #expect(rows == Self.select(values, mask: mask, limit: 1_000, workspace: false))
    }
}
