import LoupeRandomness
import LoupeEvents

/// A deterministic eyewear shop: a catalog, shoppers with faces and tastes, a planted
/// face-shape × style affinity, and a choice model over them. `events()` plays it out.
///
/// The true utility of user u for item i is
///
///     U(u, i) = A[shape_u][style_i] + ⟨taste_u, taste_i⟩ − priceSensitivity_u · ln(price_i / 100) + popularity_i
///
/// where A is `affinity`, or `driftedAffinity` for choices made after `configuration.driftAt`
/// events. docs/synthetic-world.md describes every distribution.
public struct SyntheticWorld: Sendable {
    public let configuration: WorldConfiguration
    public let affinity: AffinityMatrix
    /// The matrix after drift; nil without `driftAt`.
    public let driftedAffinity: AffinityMatrix?
    public let users: [WorldUser]
    public let items: [WorldItem]
    /// Row-major `featureDimensions × tasteDimensions`: features = W · taste + noise.
    public let featureProjection: [Double]

    public static let tasteDimensions = 8
    public static let featureDimensions = 16
    /// Standard deviation of each taste coordinate, users and items alike.
    public static let tasteDeviation = 0.55
    /// Standard deviation of the noise added to each item feature.
    public static let featureNoise = 0.3
    /// Prices enter the utility as ln(price / referencePrice).
    public static let referencePrice = 100.0
    /// Fixed start of simulated time: 2026-01-01T00:00:00Z, in epoch milliseconds.
    public static let epochMilliseconds: Int64 = 1_767_225_600_000

    /// Independent random streams, so that, for example, the catalog does not depend on --users.
    enum Stream: UInt64 {
        case affinity = 1, drift, catalog, users, activity
    }

    // The utility's inputs as flat arrays, for the simulation's inner loop.
    let userShape: [Int]
    let userTaste: [Double]
    let userPriceSensitivity: [Double]
    let itemStyle: [Int]
    let itemTaste: [Double]
    let itemLogRelativePrice: [Double]
    let itemPopularity: [Double]
    /// Per style, the catalog's mean item (for `styleScores`).
    let styleMeans: [StyleMean]

    public init(_ configuration: WorldConfiguration) throws(WorldConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        let seed = configuration.seed

        var affinityRandom = SeededRandom(seed: seed, stream: Stream.affinity.rawValue)
        let affinity = AffinityMatrix.planted(&affinityRandom)
        self.affinity = affinity
        if configuration.driftAt != nil {
            var driftRandom = SeededRandom(seed: seed, stream: Stream.drift.rawValue)
            driftedAffinity = affinity.drifted(&driftRandom)
        } else {
            driftedAffinity = nil
        }

        var catalogRandom = SeededRandom(seed: seed, stream: Stream.catalog.rawValue)
        let (items, projection) = Self.drawCatalog(count: configuration.items, skew: configuration.popularitySkew, &catalogRandom)
        self.items = items
        featureProjection = projection

        var userRandom = SeededRandom(seed: seed, stream: Stream.users.rawValue)
        users = (0..<configuration.users).map { index in Self.drawUser(index, &userRandom) }

        userShape = users.map(\.faceShape.index)
        userTaste = users.flatMap(\.taste)
        userPriceSensitivity = users.map(\.priceSensitivity)
        itemStyle = items.map(\.style.index)
        itemTaste = items.flatMap(\.taste)
        itemLogRelativePrice = items.map { StableMath.log($0.price / Self.referencePrice) }
        itemPopularity = items.map(\.popularity)
        styleMeans = Self.styleMeans(items: items, logRelativePrices: itemLogRelativePrice)
    }

    /// The stream of events, catalog first, in timestamp order.
    public func events() -> WorldEventStream {
        WorldEventStream(self)
    }

    /// The true utility of a user (index into `users`) for an item (index into `items`).
    public func utility(user: Int, item: Int, drifted: Bool = false) -> Double {
        let matrix = drifted ? (driftedAffinity ?? affinity) : affinity
        return utility(user: user, item: item, affinity: matrix.values)
    }

    @inline(__always)
    func utility(user: Int, item: Int, affinity: [Double]) -> Double {
        let d = Self.tasteDimensions
        var dot = 0.0
        for k in 0..<d { dot += userTaste[user * d + k] * itemTaste[item * d + k] }
        return affinity[userShape[user] * AffinityMatrix.styleCount + itemStyle[item]] + dot
            - userPriceSensitivity[user] * itemLogRelativePrice[item] + itemPopularity[item]
    }

    /// U(user, items[j]) into utilities[j]: `utility(user:item:affinity:)` for many items,
    /// without bounds checks in the inner loop.
    func utilities(user: Int, items: [Int], affinity: [Double], into utilities: inout [Double]) {
        let d = Self.tasteDimensions
        let row = userShape[user] * AffinityMatrix.styleCount
        let sensitivity = userPriceSensitivity[user]
        userTaste.withUnsafeBufferPointer { userTaste in
            itemTaste.withUnsafeBufferPointer { itemTaste in
                let userVector = userTaste.baseAddress! + user * d
                for position in 0..<items.count {
                    let item = items[position]
                    let itemVector = itemTaste.baseAddress! + item * d
                    var dot = 0.0
                    for k in 0..<d { dot += userVector[k] * itemVector[k] }
                    utilities[position] = affinity[row + itemStyle[item]] + dot
                        - sensitivity * itemLogRelativePrice[item] + itemPopularity[item]
                }
            }
        }
    }

    /// `item-000123`: 1-based, at least six digits.
    public static func itemId(_ index: Int) -> String { "item-" + zeroPadded(index + 1) }
    /// `user-000042`: 1-based, at least six digits.
    public static func userId(_ index: Int) -> String { "user-" + zeroPadded(index + 1) }

    static func zeroPadded(_ number: Int, width: Int = 6) -> String {
        let digits = String(number)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// popularityᵢ = skew · (mean of ln rank − ln rankᵢ), ranks a random permutation.
    private static func drawCatalog(count: Int, skew: Double, _ random: inout SeededRandom) -> ([WorldItem], [Double]) {
        let scale = 1 / (Double(tasteDimensions).squareRoot() * tasteDeviation)
        let projection = (0..<featureDimensions * tasteDimensions).map { _ in random.normal() * scale }
        let styleWeights = FrameModel.drawStyleWeights(&random)
        var ranks = Array(1...count)
        random.shuffle(&ranks)
        let meanLogRank = ranks.reduce(0.0) { $0 + StableMath.log(Double($1)) } / Double(count)
        let items = (0..<count).map { index in
            let style = FrameStyle.allCases[random.weightedIndex(styleWeights)]
            let taste = (0..<tasteDimensions).map { _ in tenThousandths(random.normal() * tasteDeviation) }
            let features = (0..<featureDimensions).map { row in
                var value = random.normal() * featureNoise
                for k in 0..<tasteDimensions { value += projection[row * tasteDimensions + k] * taste[k] }
                return tenThousandths(value)
            }
            let attributes = FrameModel.drawItem(style: style, features: features, &random)
            let popularity = tenThousandths(skew * (meanLogRank - StableMath.log(Double(ranks[index]))))
            return WorldItem(id: itemId(index), attributes: attributes, taste: taste, popularity: popularity)
        }
        return (items, projection)
    }

    private static func styleMeans(items: [WorldItem], logRelativePrices: [Double]) -> [StyleMean] {
        let empty = StyleMean(taste: Array(repeating: 0, count: tasteDimensions), logRelativePrice: 0, popularity: 0, count: 0)
        var sums = Array(repeating: empty, count: AffinityMatrix.styleCount)
        var catalog = empty
        func add(_ index: Int, to mean: inout StyleMean) {
            for k in 0..<tasteDimensions { mean.taste[k] += items[index].taste[k] }
            mean.logRelativePrice += logRelativePrices[index]
            mean.popularity += items[index].popularity
            mean.count += 1
        }
        for index in items.indices {
            add(index, to: &sums[items[index].style.index])
            add(index, to: &catalog)
        }
        return sums.map { sum in
            let source = sum.count > 0 ? sum : catalog
            let count = Double(source.count)
            return StyleMean(
                taste: source.taste.map { $0 / count }, logRelativePrice: source.logRelativePrice / count,
                popularity: source.popularity / count, count: sum.count)
        }
    }

    private static func drawUser(_ index: Int, _ random: inout SeededRandom) -> WorldUser {
        let shape = FaceModel.drawShape(&random)
        let measurements = FaceModel.drawMeasurements(for: shape, &random)
        let determined = !random.bernoulli(FaceModel.undeterminedProbability)
        let confidence = FaceModel.drawConfidence(determined: determined, &random)
        let taste = (0..<tasteDimensions).map { _ in tenThousandths(random.normal() * tasteDeviation) }
        let priceSensitivity = thousandths(random.logNormal(median: 0.6, deviation: 0.4))
        let activity = thousandths(max(0.001, random.logNormal(median: 1, deviation: 1)))
        let habits = ShoppingHabits.draw(&random)
        return WorldUser(
            id: userId(index), faceShape: shape, reportedFaceShape: determined ? shape : nil,
            measurements: measurements, confidence: confidence, taste: taste, priceSensitivity: priceSensitivity,
            activity: activity, habits: habits)
    }
}

func tenThousandths(_ value: Double) -> Double {
    (value * 10_000).rounded() / 10_000
}
