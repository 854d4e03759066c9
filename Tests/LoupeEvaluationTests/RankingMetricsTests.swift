import Foundation
import LoupeEvaluation
import LoupeRandomness
import Testing

/// The part of Fixtures/ranking.json (written by ops/fixtures/ranking_reference.py) that `Part`
/// describes; the file's keys are in snake case.
func rankingFixture<Part: Decodable>(_ part: Part.Type) -> Part {
    let url = Bundle.module.url(forResource: "ranking", withExtension: "json", subdirectory: "Fixtures")!
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return try! decoder.decode(part, from: Data(contentsOf: url))
}

/// `RankingMetrics` (HR@k, Recall@k, Precision@k, NDCG@k, MRR@k), `topK` and
/// `rank(of:among:scores:)` against Fixtures/ranking.json, which ops/fixtures/ranking_reference.py
/// computes with NumPy from the definitions of quality/movielens-100k.md (NDCG also with
/// scikit-learn's `ndcg_score`): 40 random lists at k = 10 and k = 5, and 20 float32 score vectors
/// each for top-k and rank, their scores drawn from seven values so that ties are frequent.
@Suite struct RankingMetricsTests {
    struct Fixture: Decodable {
        struct MetricsCase: Decodable {
            var list: [Int]
            var relevant: [Int]
            var k: Int
            var hitRate: Double
            var recall: Double
            var precision: Double
            var ndcg: Double
            var reciprocalRank: Double
        }
        struct TopKCase: Decodable {
            var scores: [Float]
            var candidates: [Int]
            var k: Int
            var top: [Int]
        }
        struct RankCase: Decodable {
            var scores: [Float]
            /// A sequence of item indices; an index may repeat, as sampled negatives do.
            var candidates: [Int]
            var score: Float
            var rank: Int
        }
        var metrics: [MetricsCase]
        var topK: [TopKCase]
        var rank: [RankCase]
    }

    static let fixture = rankingFixture(Fixture.self)
    static let tolerance = 1e-12

    @Test func metricsMatchTheReference() {
        for (index, expected) in Self.fixture.metrics.enumerated() {
            let measured = RankingMetrics(list: expected.list, relevant: Set(expected.relevant), k: expected.k)
            #expect(abs(measured.hitRate - expected.hitRate) <= Self.tolerance, "case \(index): HR@\(expected.k)")
            #expect(abs(measured.recall - expected.recall) <= Self.tolerance, "case \(index): Recall@\(expected.k)")
            #expect(abs(measured.precision - expected.precision) <= Self.tolerance, "case \(index): Precision@\(expected.k)")
            #expect(abs(measured.ndcg - expected.ndcg) <= Self.tolerance, "case \(index): NDCG@\(expected.k)")
            #expect(
                abs(measured.reciprocalRank - expected.reciprocalRank) <= Self.tolerance, "case \(index): MRR@\(expected.k)")
        }
    }

    @Test func topKBreaksTiesToTheLowerIndex() {
        for (index, expected) in Self.fixture.topK.enumerated() {
            let candidates = Set(expected.candidates)
            let selected = expected.scores.withUnsafeBufferPointer { scores in
                topK(scores, k: expected.k, candidate: { candidates.contains($0) })
            }
            #expect(selected == expected.top, "case \(index): k = \(expected.k)")
        }
    }

    @Test func rankCountsTiesAgainstTheItem() {
        for (index, expected) in Self.fixture.rank.enumerated() {
            let measured = expected.scores.withUnsafeBufferPointer { scores in
                rank(of: expected.score, among: expected.candidates, scores: scores)
            }
            #expect(measured == expected.rank, "case \(index): score \(expected.score)")
        }
    }
}

/// `SplitMix64`'s outputs against protocol C's definition in quality/movielens-100k.md: the
/// protocol's check values for seeds 0 and 42, and the first outputs of seeds 0, 42 and 2024 (the
/// protocol's sampling seed) that ops/fixtures/ranking_reference.py computes on Python integers.
@Suite struct SplitMix64ReferenceTests {
    struct Fixture: Decodable {
        struct Stream: Decodable {
            var seed: UInt64
            /// The first outputs, 16 hexadecimal digits each.
            var outputs: [String]
        }
        var splitmix64: [Stream]
    }

    @Test func protocolCheckValues() {
        var seedZero = SplitMix64(seed: 0)
        #expect(seedZero.next() == 0xE220_A839_7B1D_CDAF)
        var seedFortyTwo = SplitMix64(seed: 42)
        #expect(seedFortyTwo.next() == 0xBDD7_3226_2FEB_6E95)
    }

    @Test func outputsMatchTheReference() {
        for stream in rankingFixture(Fixture.self).splitmix64 {
            var generator = SplitMix64(seed: stream.seed)
            var outputs: [UInt64] = []
            for _ in stream.outputs { outputs.append(generator.next()) }
            #expect(outputs == stream.outputs.map { UInt64($0, radix: 16)! }, "seed \(stream.seed)")
        }
    }
}
