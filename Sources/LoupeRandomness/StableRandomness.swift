/// 64-bit FNV-1a: a hash of bytes that is the same in every process, on every machine and in
/// every Swift version (unlike `Hasher`, which is seeded per process). For seeds and stable
/// assignments derived from ids, never for hash tables facing untrusted input.
public struct FNV1a: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func combine(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
    }

    public mutating func combine(_ bytes: some Sequence<UInt8>) {
        for byte in bytes { combine(byte) }
    }

    /// The hash of a string's UTF-8 bytes.
    public static func hash(_ text: String) -> UInt64 {
        var hasher = FNV1a()
        hasher.combine(text.utf8)
        return hasher.value
    }
}

/// SplitMix64 (Steele, Lea and Flood): a small, fast generator whose sequence depends only on
/// its seed — the same on every machine — for the seeded randomness of deterministic folds,
/// generators, benchmarks and tests. It turns any seed, 0 included, into well-mixed words.
public struct SplitMix64: SeededGenerator, Sendable {
    public var state: UInt64
    public var spareNormal: Double?

    public init(seed: UInt64) {
        state = seed
    }

    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
