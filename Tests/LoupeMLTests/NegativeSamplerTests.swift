import Glibc
import LoupeML
import Testing

@Suite struct NegativeSamplerTests {
    @Test func drawsFollowPopularityToTheThreeQuarters() {
        var sampler = NegativeSampler()
        let counts: [Double] = [1, 16, 0, 81, 4]
        for (item, count) in counts.enumerated() where count > 0 { sampler.observe(item, amount: count) }
        let weights = counts.map { pow($0, 0.75) }
        let total = weights.reduce(0, +)
        #expect(abs(Double(sampler.totalWeight) / 1024 - total) < 0.01)

        // Walking uniform numbers evenly over [0, 1) must hit each item in proportion.
        var hits = [Int](repeating: 0, count: counts.count)
        let draws = 100_000
        for step in 0..<draws {
            hits[sampler.draw(uniform: (Double(step) + 0.5) / Double(draws))!] += 1
        }
        #expect(hits[2] == 0, "an item never observed is never drawn")
        for item in counts.indices {
            #expect(abs(Double(hits[item]) / Double(draws) - weights[item] / total) < 1e-3, "item \(item)")
        }
    }

    /// What makes a restarted learner draw the same negatives as one that never stopped.
    @Test func incrementalUpdatesEqualABuildFromScratch() {
        var incremental = NegativeSampler()
        var rng = UInt64(12_345)
        var counts = [Double](repeating: 0, count: 50)
        for _ in 0..<2_000 {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let item = Int(rng >> 33) % 50
            incremental.observe(item)
            counts[item] += 1
        }
        var scratch = NegativeSampler()
        for (item, count) in counts.enumerated() where count > 0 { scratch.observe(item, amount: count) }
        #expect(incremental.totalWeight == scratch.totalWeight)
        for step in 0..<1_000 {
            let uniform = Double(step) / 1_000
            #expect(incremental.draw(uniform: uniform) == scratch.draw(uniform: uniform))
        }
    }

    @Test func emptySamplerDrawsNothing() {
        var sampler = NegativeSampler()
        #expect(sampler.draw(uniform: 0.5) == nil)
        sampler.ensureItem(3)
        #expect(sampler.draw(uniform: 0.5) == nil)
        sampler.observe(2)
        #expect(sampler.draw(uniform: 0) == 2 && sampler.draw(uniform: 0.99) == 2)
    }
}
