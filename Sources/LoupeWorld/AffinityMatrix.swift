import LoupeRandomness
import LoupeEvents

/// The planted face-shape × style affinity: how much a shopper with a given face shape likes a
/// frame style, before taste, price and popularity.
public struct AffinityMatrix: Sendable, Equatable {
    /// Row-major: `values[shape.index * styleCount + style.index]`.
    public private(set) var values: [Double]

    public static let shapeCount = FaceShape.allCases.count
    public static let styleCount = FrameStyle.allCases.count

    public init(values: [Double]) {
        precondition(values.count == Self.shapeCount * Self.styleCount, "an affinity matrix has 6 × 20 values")
        self.values = values
    }

    public subscript(shape: FaceShape, style: FrameStyle) -> Double {
        values[shape.index * Self.styleCount + style.index]
    }

    public func row(_ shape: FaceShape) -> ArraySlice<Double> {
        values[shape.index * Self.styleCount..<(shape.index + 1) * Self.styleCount]
    }

    /// The styles of a row from most to least liked (ties by style order).
    public func ranking(_ shape: FaceShape) -> [FrameStyle] {
        FrameStyle.allCases.sorted { left, right in
            let a = self[shape, left]
            let b = self[shape, right]
            return a != b ? a > b : left.index < right.index
        }
    }

    /// Styles that suit or do not suit each face shape, after common optician advice: angular
    /// frames balance round faces, round frames soften square ones, deep frames shorten oblong
    /// ones, bottom-heavy or light frames balance heart shapes, and so on.
    public static let favoured: [FaceShape: [FrameStyle]] = [
        .oval: [.wayfarer, .aviator, .geometric, .panto],
        .round: [.rectangle, .square, .wayfarer, .geometric, .browline, .hexagonal],
        .square: [.round, .oval, .catEye, .aviator, .rimless],
        .heart: [.aviator, .rimless, .semiRimless, .oval, .pilot],
        .oblong: [.oversized, .square, .wayfarer, .butterfly, .panto],
        .diamond: [.catEye, .oval, .rimless, .browline, .clubmaster],
    ]

    public static let disfavoured: [FaceShape: [FrameStyle]] = [
        .oval: [.shield, .wraparound],
        .round: [.round, .oval, .butterfly],
        .square: [.square, .rectangle, .geometric, .octagonal],
        .heart: [.browline, .clubmaster, .butterfly, .oversized, .catEye],
        .oblong: [.rimless, .rectangle, .semiRimless, .wraparound],
        .diamond: [.rectangle, .hexagonal, .wayfarer],
    ]

    /// The matrix before drift: favoured styles get 1.0 + U(0, 0.4), disfavoured ones
    /// −1.0 − U(0, 0.4), every other cell N(0, 0.35²) clipped to ±0.7, so that the advice above
    /// is always the strongest signal and the rest is random.
    static func planted(_ random: inout SeededRandom) -> AffinityMatrix {
        var values: [Double] = []
        values.reserveCapacity(shapeCount * styleCount)
        for shape in FaceShape.allCases {
            for style in FrameStyle.allCases {
                if favoured[shape]!.contains(style) {
                    values.append(1.0 + random.uniform(0, 0.4))
                } else if disfavoured[shape]!.contains(style) {
                    values.append(-1.0 - random.uniform(0, 0.4))
                } else {
                    values.append(clamp(random.normal(mean: 0, deviation: 0.35), -0.7, 0.7))
                }
            }
        }
        return AffinityMatrix(values: values.map(thousandths))
    }

    /// The matrix after drift: each row keeps its values but deals them to other styles. Per
    /// face shape, the five previously most-liked styles receive five of the row's ten lowest
    /// values (drawn at random), and the other fifteen styles receive the remaining fifteen
    /// values in random order. Fashion has moved on; how strongly shape matters has not.
    func drifted(_ random: inout SeededRandom) -> AffinityMatrix {
        var result = values
        for shape in FaceShape.allCases {
            let ranked = ranking(shape)
            let sortedValues = ranked.map { self[shape, $0] }
            var lowest = Array(sortedValues[10...])
            random.shuffle(&lowest)
            var remaining = Array(sortedValues[..<10]) + lowest[5...]
            random.shuffle(&remaining)
            let newValues = Array(lowest[..<5]) + remaining
            for (style, value) in zip(ranked, newValues) {
                result[shape.index * Self.styleCount + style.index] = value
            }
        }
        return AffinityMatrix(values: result)
    }
}

func thousandths(_ value: Double) -> Double {
    (value * 1000).rounded() / 1000
}
