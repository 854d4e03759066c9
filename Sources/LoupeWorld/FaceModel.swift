import LoupeRandomness
import LoupeEvents

/// How the world draws a shopper's face: the shape, then five measurements whose proportions
/// are those the shape is named for.
///
/// Each shape has a typical cheekbone width and typical ratios of the face length, forehead
/// width and jaw width to the cheekbone width; a face draws each from a normal distribution
/// around those values.
public enum FaceModel {
    /// Population shares, in `FaceShape.allCases` order: oval, round, square, heart, oblong, diamond.
    public static let shapeProbabilities: [Double] = [0.30, 0.18, 0.15, 0.15, 0.12, 0.10]

    /// The share of analyses that cannot decide on a shape (reported `face_shape: null`).
    public static let undeterminedProbability = 0.05

    /// Mean and standard deviation of one measurement or ratio.
    public struct Spread: Sendable {
        public var mean: Double
        public var deviation: Double
    }

    public struct Proportions: Sendable {
        public var cheekboneWidthMM: Spread
        public var lengthToCheekbone: Spread
        public var foreheadToCheekbone: Spread
        public var jawToCheekbone: Spread
    }

    /// Per shape, in `FaceShape.allCases` order.
    public static let proportions: [Proportions] = [
        // oval: length ≈ 1.5 × cheekbones, jaw a little narrower than the forehead.
        Proportions(cheekboneWidthMM: .init(mean: 138, deviation: 5), lengthToCheekbone: .init(mean: 1.50, deviation: 0.04),
                    foreheadToCheekbone: .init(mean: 0.93, deviation: 0.025), jawToCheekbone: .init(mean: 0.82, deviation: 0.025)),
        // round: wide, length close to the cheekbone width, soft jaw.
        Proportions(cheekboneWidthMM: .init(mean: 148, deviation: 5), lengthToCheekbone: .init(mean: 1.15, deviation: 0.035),
                    foreheadToCheekbone: .init(mean: 0.91, deviation: 0.025), jawToCheekbone: .init(mean: 0.87, deviation: 0.025)),
        // square: forehead ≈ cheekbones ≈ jaw, strong jaw, short face.
        Proportions(cheekboneWidthMM: .init(mean: 145, deviation: 5), lengthToCheekbone: .init(mean: 1.22, deviation: 0.035),
                    foreheadToCheekbone: .init(mean: 0.98, deviation: 0.015), jawToCheekbone: .init(mean: 0.97, deviation: 0.015)),
        // heart: forehead wide, jaw narrow.
        Proportions(cheekboneWidthMM: .init(mean: 136, deviation: 5), lengthToCheekbone: .init(mean: 1.40, deviation: 0.04),
                    foreheadToCheekbone: .init(mean: 0.99, deviation: 0.02), jawToCheekbone: .init(mean: 0.72, deviation: 0.025)),
        // oblong: much longer than wide, sides nearly straight.
        Proportions(cheekboneWidthMM: .init(mean: 130, deviation: 5), lengthToCheekbone: .init(mean: 1.72, deviation: 0.05),
                    foreheadToCheekbone: .init(mean: 0.94, deviation: 0.025), jawToCheekbone: .init(mean: 0.89, deviation: 0.025)),
        // diamond: cheekbones widest, forehead and jaw narrow.
        Proportions(cheekboneWidthMM: .init(mean: 140, deviation: 5), lengthToCheekbone: .init(mean: 1.42, deviation: 0.04),
                    foreheadToCheekbone: .init(mean: 0.80, deviation: 0.025), jawToCheekbone: .init(mean: 0.74, deviation: 0.025)),
    ]

    public static func drawShape(_ random: inout SeededRandom) -> FaceShape {
        FaceShape.allCases[random.weightedIndex(shapeProbabilities)]
    }

    /// Measurements rounded to 0.1 mm, as an analysis reports them.
    public static func drawMeasurements(for shape: FaceShape, _ random: inout SeededRandom) -> FaceMeasurements {
        let p = proportions[shape.index]
        func draw(_ spread: Spread) -> Double { random.normal(mean: spread.mean, deviation: spread.deviation) }
        let cheekbone = clamp(draw(p.cheekboneWidthMM), 118, 162)
        let length = clamp(cheekbone * draw(p.lengthToCheekbone), 160, 235)
        let forehead = clamp(cheekbone * draw(p.foreheadToCheekbone), 95, 162)
        let jaw = clamp(cheekbone * draw(p.jawToCheekbone), 90, 162)
        // Wider faces have slightly wider-set eyes.
        let pupillary = clamp(63 + 0.15 * (cheekbone - 140) + random.normal(mean: 0, deviation: 3), 54, 74)
        return FaceMeasurements(
            faceLengthMM: tenths(length), foreheadWidthMM: tenths(forehead), cheekboneWidthMM: tenths(cheekbone),
            jawWidthMM: tenths(jaw), pupillaryDistanceMM: tenths(pupillary))
    }

    /// The analysis' confidence: 0.6–0.99, mostly high; lower when no shape was determined.
    public static func drawConfidence(determined: Bool, _ random: inout SeededRandom) -> Double {
        let confidence = determined ? 0.6 + 0.39 * random.uniform().squareRoot() : random.uniform(0.6, 0.75)
        return hundredths(confidence)
    }

    /// A rule-based reading of the measurements, the inverse of the proportions above; it
    /// documents what makes each shape and lets tests check the measurements carry the shape.
    public static func classify(_ measurements: FaceMeasurements) -> FaceShape {
        let cheekbone = measurements.cheekboneWidthMM
        let length = measurements.faceLengthMM / cheekbone
        let forehead = measurements.foreheadWidthMM / cheekbone
        let jaw = measurements.jawWidthMM / cheekbone
        if length >= 1.61 { return .oblong }
        if length < 1.31 { return jaw >= 0.92 && forehead >= 0.945 ? .square : .round }
        if forehead < 0.865 { return .diamond }
        if jaw < 0.77 { return .heart }
        return .oval
    }
}

func clamp(_ value: Double, _ lower: Double, _ upper: Double) -> Double {
    min(upper, max(lower, value))
}

func tenths(_ value: Double) -> Double {
    (value * 10).rounded() / 10
}

func hundredths(_ value: Double) -> Double {
    (value * 100).rounded() / 100
}
