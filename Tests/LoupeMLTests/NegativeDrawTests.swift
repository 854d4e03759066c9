import Testing

@testable import LoupeML

/// Which items the online model contrasts a wanted item with: never the item itself, never one
/// the user wanted, never one nobody wanted yet or that was deleted; the same for the same seed.
@Suite struct NegativeDrawTests {
    /// Six items; user 0 wanted items 0 and 1, user 1 wanted items 2, 3 and 4 (item 5: nobody).
    static func model(uniformShare: Double = 1) -> OnlineRankingModel {
        var settings = OnlineRankingSettings()
        settings.dimension = 4
        settings.negativeSamples = 50
        settings.uniformNegativeShare = uniformShare
        var model = OnlineRankingModel(settings: settings)
        for user in 0..<2 { model.addUser(group: nil, seed: UInt64(user)) }
        for item in 0..<6 { model.addItem(group: nil, seed: UInt64(10 + item)) }
        for (user, item) in [(0, 0), (0, 1), (1, 2), (1, 3), (1, 4), (1, 4), (1, 4)] {
            model.learn(Observation(user: user, item: item, weight: 1, time: 0, seed: UInt64(100 + item)))
        }
        return model
    }

    static func negatives(_ model: OnlineRankingModel, user: Int, item: Int, seed: UInt64) -> [Int] {
        var drawn: [Int] = []
        model.drawNegatives(Observation(user: user, item: item, weight: 1, time: 0, seed: seed), into: &drawn)
        return drawn
    }

    @Test func neverTheItemTheUsersOwnOrAnUnwantedOne() {
        let model = Self.model()
        for seed in 0..<20 as Range<UInt64> {
            let drawn = Self.negatives(model, user: 0, item: 2, seed: seed)
            #expect(!drawn.isEmpty)
            #expect(drawn.allSatisfy { [3, 4].contains($0) }, "drawn \(drawn)")
        }
        #expect(Self.negatives(model, user: 0, item: 2, seed: 7) == Self.negatives(model, user: 0, item: 2, seed: 7))
    }

    @Test func deletedItemsAreNeverDrawn() {
        var model = Self.model()
        model.setItemActive(4, false)
        for seed in 0..<20 as Range<UInt64> {
            #expect(Self.negatives(model, user: 0, item: 2, seed: seed).allSatisfy { $0 == 3 })
        }
    }

    /// With no uniform share, negatives follow popularity^0.75: item 4, wanted three times, comes
    /// up about 3^0.75 ≈ 2.3 times as often as item 3, wanted once.
    @Test func thePopularShareFollowsPopularity() {
        let model = Self.model(uniformShare: 0)
        var counts: [Int: Int] = [:]
        for seed in 0..<200 as Range<UInt64> {
            for item in Self.negatives(model, user: 0, item: 2, seed: seed) { counts[item, default: 0] += 1 }
        }
        let ratio = Double(counts[4] ?? 0) / Double(max(counts[3] ?? 0, 1))
        #expect(Set(counts.keys) == [3, 4])
        #expect(ratio > 1.9 && ratio < 2.7, "item 4 / item 3 draws: \(ratio)")
    }
}
