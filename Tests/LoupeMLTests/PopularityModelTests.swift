import LoupeML
import Testing

/// Popularity as a model: counts of wanted observations, optionally fading with a half-life in
/// event time, the same list for every user.
@Suite struct PopularityModelTests {
    static func observation(_ item: Int, weight: Float = 1, at time: Int64 = 0) -> Observation {
        Observation(user: 0, item: item, weight: weight, time: time, seed: 0)
    }

    @Test func countsEachWantedObservationOnce() {
        var model = PopularityModel()
        model.addUser()
        for _ in 0..<3 { model.addItem() }
        for item in [2, 0, 2, 2] { model.learn(Self.observation(item, weight: 0.5)) }
        model.learn(Self.observation(1, weight: -1))  // not wanted: not counted
        #expect(model.scores(user: 0) == [1, 0, 3])
        #expect(model.name == "popularity" && model.itemCount == 3 && model.userCount == 1)
    }

    @Test func aHalfLifeAgoCountsHalf() {
        let day: Int64 = 86_400_000
        var model = PopularityModel(halfLifeMilliseconds: day)
        for _ in 0..<2 { model.addItem() }
        model.learn(Self.observation(0, at: 0))
        model.learn(Self.observation(1, at: day))
        let scores = model.scores(user: 0)
        #expect(abs(scores[1] / scores[0] - 2) < 1e-6, "one half-life later counts twice as much: \(scores)")
        // An older item needs more observations to stay ahead.
        model.learn(Self.observation(0, at: 0))
        model.learn(Self.observation(0, at: 0))
        let later = model.scores(user: 0)
        #expect(later[0] > later[1])
    }

    /// Far apart in time, the values are rescaled to a later reference instead of overflowing,
    /// and the order is kept.
    @Test func longSpansRescaleWithoutChangingTheOrder() {
        let hour: Int64 = 3_600_000
        var model = PopularityModel(halfLifeMilliseconds: hour)
        for _ in 0..<3 { model.addItem() }
        model.learn(Self.observation(0, at: 0))
        model.learn(Self.observation(1, at: 30 * hour))
        model.learn(Self.observation(2, at: 200 * hour))  // 2^200 would overflow a Float score
        let scores = model.scores(user: 0)
        #expect(scores.allSatisfy { $0.isFinite })
        #expect(scores[2] > scores[1] && scores[1] >= scores[0])
        #expect(model.reference == 200 * hour)
    }

    @Test func withoutAHalfLifeTimeDoesNotMatter() {
        var model = PopularityModel(halfLifeMilliseconds: 0)
        for _ in 0..<2 { model.addItem() }
        model.learn(Self.observation(0, at: 0))
        model.learn(Self.observation(1, at: 1_000_000_000))
        #expect(model.scores(user: 0) == [1, 1])
        #expect(model.halfLifeMilliseconds == nil)
    }
}

/// The sampler of popularity-proportional negatives and the per-user sets of wanted items.
@Suite struct SamplingStructureTests {
    @Test func drawsFollowTheWeights() {
        var sampler = WeightedSampler()
        let weights: [Int64] = [1, 16, 0, 81, 4]
        for (item, weight) in weights.enumerated() { sampler.setWeight(item, weight) }
        #expect(sampler.totalWeight == 102)
        var hits = [Int](repeating: 0, count: weights.count)
        let draws = 102_000
        for step in 0..<draws { hits[sampler.draw(uniform: (Double(step) + 0.5) / Double(draws))!] += 1 }
        for (item, weight) in weights.enumerated() {
            #expect(hits[item] == Int(weight) * 1_000, "item \(item): \(hits[item]) draws")
        }
        #expect(WeightedSampler().draw(uniform: 0.5) == nil)
    }

    /// What makes a restored model draw as one that never stopped.
    @Test func weightsSetInAnyOrderDrawAlike() {
        var stepwise = WeightedSampler()
        var random: UInt64 = 99
        var final = [Int64](repeating: 0, count: 40)
        for _ in 0..<500 {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let item = Int(random >> 40) % 40
            final[item] = Int64(random >> 58)
            stepwise.setWeight(item, final[item])
        }
        var rebuilt = WeightedSampler()
        for (item, weight) in final.enumerated().reversed() { rebuilt.setWeight(item, weight) }
        #expect(stepwise.totalWeight == rebuilt.totalWeight)
        for step in 0..<1_000 { #expect(stepwise.draw(uniform: Double(step) / 1_000) == rebuilt.draw(uniform: Double(step) / 1_000)) }
    }

    @Test func wantedItemsAreKeptPerUserInOrder() {
        var wanted = WantedItems()
        wanted.addUser()
        wanted.addUser()
        let inserted = [
            wanted.insert(user: 1, item: 7), wanted.insert(user: 1, item: 3), wanted.insert(user: 1, item: 7),
            wanted.insert(user: 0, item: 7),
        ]
        #expect(inserted == [true, true, false, true])
        #expect(wanted.items(of: 1) == [3, 7] && wanted.items(of: 0) == [7])
        #expect(wanted.contains(user: 1, item: 3) && !wanted.contains(user: 0, item: 3))
        #expect(wanted.count == 3)
    }
}
