/// What `loupe generate` is asked for: the same configuration always gives the same world and
/// the same events, byte for byte.
public struct WorldConfiguration: Sendable, Equatable {
    public var seed: UInt64
    public var users: Int
    public var items: Int
    /// Total number of events, the catalog's `item_upsert`s included.
    public var events: Int
    /// When set, every choice made after this many events have been emitted uses the drifted
    /// affinity matrix.
    public var driftAt: Int?
    /// How strongly items differ in popularity: popularityᵢ = skew · (mean ln rank − ln rankᵢ).
    public var popularitySkew: Double
    /// The temperature of the view choice, softmax(U / noise): 1 as documented, higher values
    /// make choices noisier (closer to uniform), lower ones sharper.
    public var noise: Double

    public static let maximumUsers = 1_000_000
    public static let maximumItems = 200_000

    public init(
        seed: UInt64 = 42, users: Int = 2_000, items: Int = 500, events: Int = 100_000, driftAt: Int? = nil,
        popularitySkew: Double = 0.6, noise: Double = 1
    ) {
        self.seed = seed
        self.users = users
        self.items = items
        self.events = events
        self.driftAt = driftAt
        self.popularitySkew = popularitySkew
        self.noise = noise
    }

    /// Checks the counts against each other; the messages name the command-line options.
    public func validate() throws(WorldConfigurationError) {
        // The truth file states the seed as a JSON integer, which Loupe writes as a signed 64-bit number.
        guard seed <= UInt64(Int64.max) else {
            throw WorldConfigurationError("--seed must be between 0 and \(Int64.max); got \(seed)")
        }
        guard users > 0 else { throw WorldConfigurationError("--users must be positive; got \(users)") }
        guard users <= Self.maximumUsers else {
            throw WorldConfigurationError("--users must be at most \(Self.maximumUsers); got \(users)")
        }
        guard items > 0 else { throw WorldConfigurationError("--items must be positive; got \(items)") }
        guard items <= Self.maximumItems else {
            throw WorldConfigurationError("--items must be at most \(Self.maximumItems); got \(items)")
        }
        guard events >= items else {
            throw WorldConfigurationError(
                "--events (\(events)) must be at least --items (\(items)): "
                    + "the catalog's \(items) item_upsert events come first and count towards --events"
            )
        }
        guard popularitySkew.isFinite, (0...5).contains(popularitySkew) else {
            throw WorldConfigurationError("--popularity-skew must be between 0 and 5; got \(popularitySkew)")
        }
        guard noise.isFinite, noise > 0, noise <= 100 else {
            throw WorldConfigurationError("--noise must be greater than 0 and at most 100; got \(noise)")
        }
        if let driftAt {
            guard driftAt >= items, driftAt < events else {
                throw WorldConfigurationError(
                    "--drift-at must be between --items (\(items), the end of the catalog) "
                        + "and --events − 1 (\(events - 1)); got \(driftAt)"
                )
            }
        }
    }
}

public struct WorldConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
