/// xoshiro256** seeded through SplitMix64: a small, fast generator with independent streams,
/// whose output depends only on the seed, so that a generated world is the same on every
/// machine and every run. Its draws are `SeededGenerator`'s.
public struct SeededRandom: SeededGenerator, Sendable {
    @usableFromInline var s0: UInt64
    @usableFromInline var s1: UInt64
    @usableFromInline var s2: UInt64
    @usableFromInline var s3: UInt64
    public var spareNormal: Double?

    /// A generator for one independent stream of the world: `stream` separates the draws of the
    /// catalog, the users, the affinity and the activity, so that changing one of them (say,
    /// the number of users) leaves the others as they were.
    public init(seed: UInt64, stream: UInt64 = 0) {
        var mixer = SplitMix64(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        s0 = mixer.next()
        s1 = mixer.next()
        s2 = mixer.next()
        s3 = mixer.next()
    }

    /// A generator in the given state, for checking against the reference implementation.
    public init(state: (UInt64, UInt64, UInt64, UInt64)) {
        (s0, s1, s2, s3) = state
    }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = (s1 &* 5).rotatedLeft(by: 7) &* 9
        let shifted = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= shifted
        s3 = s3.rotatedLeft(by: 45)
        return result
    }
}

extension UInt64 {
    @inlinable
    func rotatedLeft(by count: UInt64) -> UInt64 {
        (self << count) | (self >> (64 - count))
    }
}
