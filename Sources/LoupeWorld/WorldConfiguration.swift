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

    public static let maximumUsers = 1_000_000
    public static let maximumItems = 200_000

    public init(seed: UInt64 = 42, users: Int = 2_000, items: Int = 500, events: Int = 100_000, driftAt: Int? = nil) {
        self.seed = seed
        self.users = users
        self.items = items
        self.events = events
        self.driftAt = driftAt
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
