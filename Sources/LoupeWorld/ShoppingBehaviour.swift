import LoupeRandomness
/// The constants of the activity model: how often shoppers come, how sessions unfold and how
/// utility turns into clicks, purchases and feedback. docs/synthetic-world.md gives the model
/// around them.
public enum ShoppingBehaviour {
    /// Sessions per user per simulated day, on average over all users.
    public static let visitsPerUserPerDay = 0.25
    /// A session's view choices are a softmax over utility among this many items drawn uniformly.
    public static let candidateCount = 24
    /// After a view that ended without a purchase, the shopper views another item with this
    /// probability, else ends the session.
    public static let continueProbability = 0.72
    public static let continueAfterPurchaseProbability = 0.25
    /// The share of sessions that start from a recommendation slate (and so have a request id).
    public static let recommendedSessionProbability = 0.35
    /// In such a session, the share of views that come from the slate.
    public static let recommendedViewProbability = 0.6

    /// A funnel step happens with probability sigmoid(intercept + slope · U).
    public struct Logistic: Sendable {
        public var intercept: Double
        public var slope: Double

        public func probability(_ utility: Double) -> Double {
            StableMath.sigmoid(intercept + slope * utility)
        }
    }

    public static let click = Logistic(intercept: -2.5, slope: 1.0)
    public static let tryOn = Logistic(intercept: -2.5, slope: 0.8)
    public static let addToCart = Logistic(intercept: -2.9, slope: 0.8)
    public static let purchase = Logistic(intercept: -2.4, slope: 0.8)
    /// After a click.
    public static let like = Logistic(intercept: -3.7, slope: 0.9)
    /// After a view that was not clicked.
    public static let dislike = Logistic(intercept: -2.0, slope: -0.9)

    /// Purchases are rated (when not returned) with this probability, 1–10 days later.
    public static let ratingProbability = 0.5
    /// stars = clamp(round(ratingCentre + ratingSlope · (U − ratingReferenceUtility) + N(0, ratingNoise²)), 1, 5).
    public static let ratingCentre = 3.9
    public static let ratingSlope = 0.9
    public static let ratingReferenceUtility = 3.9
    public static let ratingNoise = 0.8

    /// A purchase is returned (3–14 days later) with probability
    /// returnBase + returnFitWeight · sigmoid((|frame width − cheekbone width| − returnMismatchMM) / returnMismatchScaleMM).
    public static let returnBase = 0.03
    public static let returnFitWeight = 0.5
    public static let returnMismatchMM = 12.0
    public static let returnMismatchScaleMM = 3.0

    /// Median gaps between a session's events, in seconds, and the log-normal spread around them.
    public static let gapDeviation = 0.6
    public static let secondsToFirstView = 8.0
    public static let secondsBetweenViews = 25.0
    public static let secondsToClick = 6.0
    public static let secondsToOpinion = 4.0
    public static let secondsToTryOn = 20.0
    public static let secondsToAddToCart = 40.0
    public static let secondsToPurchase = 120.0
    public static let secondsToEnd = 30.0

    static func returnProbability(frameWidthMM: Double, cheekboneWidthMM: Double) -> Double {
        let mismatch = abs(frameWidthMM - cheekboneWidthMM)
        return returnBase + returnFitWeight * StableMath.sigmoid((mismatch - returnMismatchMM) / returnMismatchScaleMM)
    }

    static func stars(utility: Double, _ random: inout SeededRandom) -> Int {
        let raw = ratingCentre + ratingSlope * (utility - ratingReferenceUtility) + random.normal() * ratingNoise
        return Int(clamp(raw.rounded(), 1, 5))
    }
}
