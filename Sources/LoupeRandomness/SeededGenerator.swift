/// The seeded generators' draws, one implementation each: uniform numbers, indices without
/// bias, Bernoulli trials, normal deviates (one sampler, Marsaglia's polar method), log-normal
/// and exponential deviates, weighted indices and shuffles — the same numbers on every machine
/// (`StableMath` instead of the C library's `log` and `exp`).
///
/// Two engines conform: `SplitMix64` (one word of state: the learner's per-event draws, the
/// benchmarks' data) and `SeededRandom` (xoshiro256** with independent streams: the generated
/// world). The system generator is never used: it is seeded from the operating system and
/// differs between platforms.
public protocol SeededGenerator: RandomNumberGenerator {
    /// The second normal deviate of the last polar-method draw, returned by the next `normal()`.
    var spareNormal: Double? { get set }
}

extension SeededGenerator {
    /// Uniform in [0, 1), with 53 random bits.
    @inlinable
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in [lower, upper).
    @inlinable
    public mutating func uniform(_ lower: Double, _ upper: Double) -> Double {
        lower + (upper - lower) * uniform()
    }

    /// Uniform in 0..<count, without modulo bias (Lemire's method).
    @inlinable
    public mutating func index(_ count: Int) -> Int {
        precondition(count > 0, "cannot draw from an empty range")
        let bound = UInt64(count)
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold {
                product = next().multipliedFullWidth(by: bound)
            }
        }
        return Int(product.high)
    }

    @inlinable
    public mutating func bernoulli(_ probability: Double) -> Bool {
        uniform() < probability
    }

    /// A standard normal deviate (Marsaglia's polar method, which needs only `log` and a square
    /// root, both computed reproducibly).
    @inlinable
    public mutating func normal() -> Double {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        while true {
            let u = 2 * uniform() - 1
            let v = 2 * uniform() - 1
            let s = u * u + v * v
            if s > 0, s < 1 {
                let factor = (-2 * StableMath.log(s) / s).squareRoot()
                spareNormal = v * factor
                return u * factor
            }
        }
    }

    @inlinable
    public mutating func normal(mean: Double, deviation: Double) -> Double {
        mean + deviation * normal()
    }

    /// exp(N(log median, deviation²)).
    @inlinable
    public mutating func logNormal(median: Double, deviation: Double) -> Double {
        median * StableMath.exp(deviation * normal())
    }

    /// An exponential deviate with the given mean.
    @inlinable
    public mutating func exponential(mean: Double) -> Double {
        -mean * StableMath.log(1 - uniform())
    }

    /// An index drawn with probability proportional to `weights` (linear scan: for short lists).
    @inlinable
    public mutating func weightedIndex(_ weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        var target = uniform() * total
        for (index, weight) in weights.enumerated() {
            target -= weight
            if target < 0 { return index }
        }
        return weights.count - 1
    }

    /// Fisher–Yates.
    @inlinable
    public mutating func shuffle<T>(_ elements: inout [T]) {
        guard elements.count > 1 else { return }
        for position in stride(from: elements.count - 1, to: 0, by: -1) {
            elements.swapAt(position, index(position + 1))
        }
    }
}
