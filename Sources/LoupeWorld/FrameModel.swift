import LoupeRandomness
import LoupeEvents

/// How the world draws a frame: dimensions typical of its style, a log-normal price, a
/// material and a colour that suit the style.
public enum FrameModel {
    /// Typical dimensions of a style, in millimetres.
    public struct Dimensions: Sendable {
        public var frameWidth: Double
        public var lensHeight: Double
        public var bridge: Double
        public var templeLength: Double
        /// Whether the style is usually made of metal (else acetate and the like).
        public var metal: Bool
    }

    /// Per style, in `FrameStyle.allCases` order.
    public static let dimensions: [Dimensions] = [
        Dimensions(frameWidth: 140, lensHeight: 50, bridge: 15, templeLength: 140, metal: true),  // aviator
        Dimensions(frameWidth: 142, lensHeight: 42, bridge: 18, templeLength: 145, metal: false),  // wayfarer
        Dimensions(frameWidth: 130, lensHeight: 44, bridge: 20, templeLength: 140, metal: true),  // round
        Dimensions(frameWidth: 140, lensHeight: 42, bridge: 16, templeLength: 140, metal: false),  // cat_eye
        Dimensions(frameWidth: 138, lensHeight: 35, bridge: 17, templeLength: 140, metal: false),  // rectangle
        Dimensions(frameWidth: 140, lensHeight: 46, bridge: 18, templeLength: 145, metal: false),  // square
        Dimensions(frameWidth: 134, lensHeight: 37, bridge: 18, templeLength: 140, metal: false),  // oval
        Dimensions(frameWidth: 140, lensHeight: 42, bridge: 19, templeLength: 145, metal: false),  // browline
        Dimensions(frameWidth: 140, lensHeight: 41, bridge: 20, templeLength: 145, metal: true),  // clubmaster
        Dimensions(frameWidth: 138, lensHeight: 44, bridge: 18, templeLength: 142, metal: false),  // geometric
        Dimensions(frameWidth: 136, lensHeight: 45, bridge: 19, templeLength: 142, metal: true),  // hexagonal
        Dimensions(frameWidth: 136, lensHeight: 46, bridge: 19, templeLength: 142, metal: true),  // octagonal
        Dimensions(frameWidth: 150, lensHeight: 54, bridge: 16, templeLength: 145, metal: false),  // oversized
        Dimensions(frameWidth: 135, lensHeight: 36, bridge: 17, templeLength: 140, metal: true),  // rimless
        Dimensions(frameWidth: 138, lensHeight: 38, bridge: 17, templeLength: 142, metal: true),  // semi_rimless
        Dimensions(frameWidth: 146, lensHeight: 52, bridge: 15, templeLength: 140, metal: false),  // butterfly
        Dimensions(frameWidth: 148, lensHeight: 58, bridge: 14, templeLength: 130, metal: false),  // shield
        Dimensions(frameWidth: 145, lensHeight: 48, bridge: 16, templeLength: 125, metal: false),  // wraparound
        Dimensions(frameWidth: 142, lensHeight: 50, bridge: 16, templeLength: 140, metal: true),  // pilot
        Dimensions(frameWidth: 134, lensHeight: 46, bridge: 20, templeLength: 145, metal: false),  // panto
    ]

    public static let metalMaterials = ["metal", "titanium", "stainless_steel"]
    public static let metalMaterialWeights = [0.5, 0.3, 0.2]
    public static let plasticMaterials = ["acetate", "tr90", "bio_acetate", "wood"]
    public static let plasticMaterialWeights = [0.6, 0.25, 0.1, 0.05]
    public static let metalColors = ["gold", "silver", "gunmetal", "black", "rose_gold", "bronze"]
    public static let plasticColors = ["black", "tortoise", "havana", "clear", "navy", "burgundy", "green", "grey"]

    /// Median price in EUR and the standard deviation of log price.
    public static let medianPrice = 110.0
    public static let logPriceDeviation = 0.5

    /// Relative frequency of each style in the catalog: 0.5–1.5, drawn from the seed.
    static func drawStyleWeights(_ random: inout SeededRandom) -> [Double] {
        FrameStyle.allCases.map { _ in random.uniform(0.5, 1.5) }
    }

    static func drawItem(style: FrameStyle, features: [Double], _ random: inout SeededRandom) -> CatalogItem {
        let typical = dimensions[style.index]
        let width = clamp((typical.frameWidth + random.normal(mean: 0, deviation: 3)).rounded(), 120, 165)
        let lens = clamp((typical.lensHeight + random.normal(mean: 0, deviation: 2)).rounded(), 28, 65)
        let bridge = clamp((typical.bridge + random.normal(mean: 0, deviation: 1.2)).rounded(), 12, 24)
        let temple = clamp(typical.templeLength + 5 * Double(random.index(3) - 1), 120, 155)
        // Whole euros minus a cent: 129.99. Dividing integer cents keeps the decimal short.
        let euros = max(20, random.logNormal(median: medianPrice, deviation: logPriceDeviation).rounded())
        let price = (euros * 100 - 1) / 100
        let material: String
        let color: String
        // 15% of frames break with their style's usual material.
        let metal = random.bernoulli(0.15) ? !typical.metal : typical.metal
        if metal {
            material = metalMaterials[random.weightedIndex(metalMaterialWeights)]
            color = metalColors[random.index(metalColors.count)]
        } else {
            material = plasticMaterials[random.weightedIndex(plasticMaterialWeights)]
            color = plasticColors[random.index(plasticColors.count)]
        }
        return CatalogItem(
            style: style, frameWidthMM: width, lensHeightMM: lens, bridgeMM: bridge, templeLengthMM: temple,
            price: price, currency: "EUR", material: material, color: color, features: features)
    }
}
