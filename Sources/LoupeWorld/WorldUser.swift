import LoupeRandomness
import LoupeEvents

/// A shopper of the synthetic world: what the events show of them and what they hide.
public struct WorldUser: Sendable, Equatable {
    public var id: String
    /// The true face shape, which drives preferences.
    public var faceShape: FaceShape
    /// What the face analysis reports: the true shape, or nil for the 5% it cannot determine.
    public var reportedFaceShape: FaceShape?
    public var measurements: FaceMeasurements
    public var confidence: Double
    /// The latent taste vector (`SyntheticWorld.tasteDimensions` numbers).
    public var taste: [Double]
    /// How strongly log price lowers utility.
    public var priceSensitivity: Double
    /// Relative visit frequency (log-normal, median 1).
    public var activity: Double
    public var habits: Habits

    /// Where and when this shopper usually shops.
    public struct Habits: Sendable, Equatable {
        public var device: Device
        public var channel: String
        public var locale: String
        /// Offset of the shopper's local time from UTC (no daylight saving time).
        public var utcOffsetHours: Int
        /// The local hour around which this shopper's visits cluster.
        public var preferredHour: Double
    }
}

/// The global distributions user habits are drawn from.
public enum ShoppingHabits {
    public static let devices: [Device] = [.mobile, .desktop, .tablet, .other]
    public static let deviceWeights = [0.55, 0.30, 0.10, 0.05]
    public static let channels = ["web", "app", "search", "social", "email", "store"]
    public static let channelWeights = [0.35, 0.20, 0.20, 0.12, 0.08, 0.05]
    /// Locales with their UTC offsets and shares: European eyewear retail, prices in EUR.
    public static let locales: [(tag: String, utcOffsetHours: Int, weight: Double)] = [
        ("en-GB", 0, 0.18), ("de-DE", 1, 0.18), ("fr-FR", 1, 0.16), ("es-ES", 1, 0.10), ("it-IT", 1, 0.10),
        ("nl-NL", 1, 0.06), ("pt-PT", 0, 0.04), ("pl-PL", 1, 0.04), ("sv-SE", 1, 0.03), ("en-IE", 0, 0.03),
        ("de-AT", 1, 0.03), ("fi-FI", 2, 0.02), ("el-GR", 2, 0.02), ("en-US", -5, 0.01),
    ]
    /// Visit-time clusters: morning, lunch, evening, late night.
    public static let hourPeaks = [8.0, 12.5, 20.5, 23.0]
    public static let hourPeakWeights = [0.20, 0.25, 0.45, 0.10]
    /// A session uses the shopper's usual device with this probability, else one drawn globally.
    public static let usualDeviceProbability = 0.8
    public static let usualChannelProbability = 0.7

    static func draw(_ random: inout SeededRandom) -> WorldUser.Habits {
        let locale = locales[random.weightedIndex(locales.map(\.weight))]
        var hour = hourPeaks[random.weightedIndex(hourPeakWeights)] + random.normal(mean: 0, deviation: 1)
        hour = (hour + 24).truncatingRemainder(dividingBy: 24)
        return WorldUser.Habits(
            device: devices[random.weightedIndex(deviceWeights)],
            channel: channels[random.weightedIndex(channelWeights)],
            locale: locale.tag, utcOffsetHours: locale.utcOffsetHours, preferredHour: tenths(hour))
    }

    /// How likely the shopper is to visit at a local hour: 0.15 at the far side of the clock,
    /// 1 at the preferred hour (a Gaussian bump of 2.5 h on a circular clock).
    static func hourWeight(_ habits: WorldUser.Habits, localHour: Int) -> Double {
        var distance = abs(Double(localHour) + 0.5 - habits.preferredHour)
        distance = min(distance, 24 - distance)
        return 0.15 + 0.85 * StableMath.exp(-distance * distance / (2 * 2.5 * 2.5))
    }
}
