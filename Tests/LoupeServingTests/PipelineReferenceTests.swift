import Foundation
import LoupeStore
import Testing

@testable import LoupeHTTP
@testable import LoupeServing

/// Comparisons with Tests/LoupeServingTests/Fixtures/serving.json, written by
/// ops/fixtures/serving_reference.py (NumPy and scikit-learn).
@Suite struct PipelineReferenceTests {
    struct Fixture: Decodable {
        struct Recommendation: Decodable {
            var userId: String
            var vector: [Float]
            var top: [Int]
            var topScores: [Double]
            var mmr: [String: [Int]]
        }
        struct Similar: Decodable {
            var item: Int
            var top: [Int]
            var scores: [Double]
        }
        struct Assignment: Decodable {
            var userId: String
            var hash: String
            var position: Double
            var variant: String
        }
        struct Variants: Decodable {
            var salt: String
            var shares: [String: Double]
            var assignments: [Assignment]
        }
        var dimension: Int
        var itemIds: [String]
        var items: [[Float]]
        var deleted: [Int]
        var pool: Int
        var k: Int
        var recommendations: [Recommendation]
        var similar: [Similar]
        var variants: Variants
    }

    static let fixture: Fixture = {
        let url = Bundle.module.url(forResource: "serving", withExtension: "json", subdirectory: "Fixtures")!
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try! decoder.decode(Fixture.self, from: Data(contentsOf: url))
    }()

    func store() throws -> StateStore {
        let fixture = Self.fixture
        let deleted = Set(fixture.deleted)
        let items = fixture.items.indices.map { index in
            ServingStores.Item(id: fixture.itemIds[index], vector: fixture.items[index], deleted: deleted.contains(index))
        }
        let users = fixture.recommendations.map { ($0.userId, Optional($0.vector), Optional(UserRecord(version: 1))) }
        return try ServingStores.store(dimension: fixture.dimension, items: items, users: users)
    }

    @Test func exactTopNByInnerProduct() throws {
        let fixture = Self.fixture
        let recommender = try Recommender(store: try store(), settings: ServingStores.settings(pool: fixture.pool, lambda: 1))
        for expected in fixture.recommendations {
            let list = try recommender.recommend(RecommendationRequest(userId: expected.userId, k: fixture.pool))
            #expect(list.items.map(\.itemId) == expected.top.map { fixture.itemIds[$0] })
            for (item, score) in zip(list.items, expected.topScores) { #expect(abs(Double(item.score) - score) < 1e-5) }
        }
    }

    @Test func heapSelectionMatchesTheReference() {
        let fixture = Self.fixture
        let values = fixture.recommendations[0].vector
        var scores = fixture.items.map { row in zip(row, values).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
        var mask = [UInt8](repeating: 1, count: scores.count)
        for index in fixture.deleted { mask[index] = 0 }
        var rows = [Int32](repeating: 0, count: fixture.pool)
        var best = [Float](repeating: 0, count: fixture.pool)
        let selected = scores.withUnsafeMutableBufferPointer { scores in
            mask.withUnsafeBufferPointer { mask in
                rows.withUnsafeMutableBufferPointer { rows in
                    best.withUnsafeMutableBufferPointer { best in
                        TopSelection.select(
                            UnsafeBufferPointer(scores), mask: mask, limit: fixture.pool, rows: rows, scores: best)
                    }
                }
            }
        }
        #expect(selected == fixture.pool)
        #expect(rows.map(Int.init) == fixture.recommendations[0].top)
    }

    @Test(arguments: ["0.7", "0.3", "1.0"])
    func maximalMarginalRelevanceSequence(lambda: String) throws {
        let fixture = Self.fixture
        let recommender = try Recommender(
            store: try store(), settings: ServingStores.settings(pool: fixture.pool, lambda: Double(lambda)!))
        for expected in fixture.recommendations {
            let list = try recommender.recommend(RecommendationRequest(userId: expected.userId, k: fixture.k))
            #expect(
                list.items.map(\.itemId) == expected.mmr[lambda]!.map { fixture.itemIds[$0] }, "\(expected.userId) λ \(lambda)")
        }
    }

    @Test func cosineSimilarItems() throws {
        let fixture = Self.fixture
        let recommender = try Recommender(store: try store(), settings: ServingStores.settings())
        for expected in fixture.similar {
            let similar = try recommender.similar(to: fixture.itemIds[expected.item], k: fixture.k)
            #expect(similar.items.map(\.itemId) == expected.top.map { fixture.itemIds[$0] })
            for (item, score) in zip(similar.items, expected.scores) { #expect(abs(Double(item.score) - score) < 1e-5) }
        }
    }

    @Test func variantAssignmentsAreStable() {
        let variants = Self.fixture.variants
        let assignment = VariantAssignment(salt: variants.salt, variants: variants.shares)
        for expected in variants.assignments {
            #expect(
                String(VariantAssignment.hash(salt: variants.salt, userId: expected.userId), radix: 16).leftPadded(16)
                    == expected.hash)
            #expect(VariantAssignment.position(salt: variants.salt, userId: expected.userId) == expected.position)
            #expect(assignment.variant(of: expected.userId) == expected.variant, "\(expected.userId)")
        }
        #expect(Set(variants.assignments.map(\.variant)).count == variants.shares.count)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
