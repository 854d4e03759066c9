import LoupeRandomness
import LoupeEvents

/// Assigns each user a variant of the experiment: a stable hash of the salt and the user id,
/// mapped to [0, 1) and placed among the variants' cumulative shares, variants in name (byte) order.
///
/// The hash is FNV-1a 64 over `salt ‖ 0x00 ‖ user id` (UTF-8) followed by MurmurHash3's 64-bit
/// finaliser (FNV alone mixes the last bytes poorly into the high bits); its top 53 bits / 2⁵³
/// is the position. The same on every process and machine (unlike Swift's `Hasher`).
public struct VariantAssignment: Sendable {
    public let salt: String
    /// Variant names in byte order with their cumulative upper bounds.
    private let bounds: [(name: String, share: Double, upper: Double)]

    /// - Parameter variants: name → share; shares must be non-negative and add up to 1
    ///   (`InferenceSettings` checks this when it reads the configuration).
    public init(salt: String, variants: [String: Double]) {
        precondition(!variants.isEmpty, "an experiment needs at least one variant")
        self.salt = salt
        var total = 0.0
        var bounds: [(name: String, share: Double, upper: Double)] = []
        for (name, share) in variants.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            total += share
            bounds.append((name, share, total))
        }
        self.bounds = bounds
    }

    public func variant(of userId: String) -> String {
        let position = Self.position(salt: salt, userId: userId)
        for bound in bounds where position < bound.upper { return bound.name }
        // Shares that add up to slightly under 1 in floating point: the last variant takes the rest.
        return (bounds.last { $0.share > 0 } ?? bounds[bounds.count - 1]).name
    }

    /// The user's position in [0, 1).
    public static func position(salt: String, userId: String) -> Double {
        Double(hash(salt: salt, userId: userId) >> 11) / Double(UInt64(1) << 53)
    }

    public static func hash(salt: String, userId: String) -> UInt64 {
        var hasher = FNV1a()
        hasher.combine(salt.utf8)
        hasher.combine(0)
        hasher.combine(userId.utf8)
        var hash = hasher.value
        hash ^= hash >> 33
        hash = hash &* 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        hash = hash &* 0xc4ce_b9fe_1a85_ec53
        hash ^= hash >> 33
        return hash
    }
}
