import LoupeEvents

extension SyntheticWorld {
    /// The utility formula as the truth file states it.
    public static let utilityFormula =
        "affinity[face_shape][style] + dot(user.taste, item.taste) - user.price_sensitivity * ln(item.price / 100) + item.popularity"

    /// The user's true mean utility for each style (in `FrameStyle.allCases` order): the mean of
    /// U(user, i) over the catalog's items of that style, which by linearity is A[shape][style]
    /// plus the utility of the style's mean item. A style with no item in the catalog uses the
    /// mean item of the whole catalog.
    public func styleScores(user: Int, drifted: Bool = false) -> [Double] {
        let matrix = drifted ? (driftedAffinity ?? affinity) : affinity
        let shopper = users[user]
        return FrameStyle.allCases.map { style in
            let mean = styleMeans[style.index]
            var dot = 0.0
            for k in 0..<Self.tasteDimensions { dot += shopper.taste[k] * mean.taste[k] }
            return matrix[shopper.faceShape, style] + dot - shopper.priceSensitivity * mean.logRelativePrice + mean.popularity
        }
    }

    /// The three styles with the highest scores, best first (ties by style order).
    public static func bestStyles(_ scores: [Double], count: Int = 3) -> [FrameStyle] {
        let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        return order.prefix(count).map { FrameStyle.allCases[$0] }
    }

    /// The ground truth as JSON lines (without line breaks): the world, then every user, then
    /// every item. docs/synthetic-world.md documents the fields.
    public func forEachTruthLine(_ body: ([UInt8]) throws -> Void) rethrows {
        try body(worldTruthLine())
        for index in users.indices { try body(userTruthLine(index)) }
        for index in items.indices { try body(itemTruthLine(index)) }
    }

    private func worldTruthLine() -> [UInt8] {
        var writer = JSONWriter(capacity: 8_192)
        writer.beginObject()
        writer.key("kind"); writer.string("world")
        writer.key("seed"); writer.int(configuration.seed)
        writer.key("users"); writer.int(configuration.users)
        writer.key("items"); writer.int(configuration.items)
        writer.key("events"); writer.int(configuration.events)
        writer.key("drift_at")
        if let driftAt = configuration.driftAt { writer.int(driftAt) } else { writer.null() }
        writer.key("popularity_skew"); writer.double(configuration.popularitySkew)
        writer.key("noise"); writer.double(configuration.noise)
        writer.key("epoch_ms"); writer.int(Self.epochMilliseconds)
        writer.key("utility"); writer.string(Self.utilityFormula)
        writer.key("reference_price"); writer.double(Self.referencePrice)
        writer.key("taste_dimensions"); writer.int(Self.tasteDimensions)
        writer.key("styles"); writeStrings(FrameStyle.allCases.map(\.rawValue), to: &writer)
        writer.key("face_shapes"); writeStrings(FaceShape.allCases.map(\.rawValue), to: &writer)
        writer.key("face_shape_probabilities"); writeNumbers(FaceModel.shapeProbabilities, to: &writer)
        writer.key("affinity"); writeMatrix(affinity, to: &writer)
        writer.key("affinity_after_drift")
        if let driftedAffinity { writeMatrix(driftedAffinity, to: &writer) } else { writer.null() }
        writer.endObject()
        return writer.bytes
    }

    private func userTruthLine(_ index: Int) -> [UInt8] {
        let user = users[index]
        var writer = JSONWriter(capacity: 1_024)
        writer.beginObject()
        writer.key("kind"); writer.string("user")
        writer.key("user_id"); writer.string(user.id)
        writer.key("face_shape"); writer.string(user.faceShape.rawValue)
        writer.key("reported_face_shape")
        if let reported = user.reportedFaceShape { writer.string(reported.rawValue) } else { writer.null() }
        let scores = styleScores(user: index).map(tenThousandths)
        writer.key("style_scores"); writeNumbers(scores, to: &writer)
        writer.key("best_styles"); writeStrings(Self.bestStyles(scores).map(\.rawValue), to: &writer)
        if driftedAffinity != nil {
            let drifted = styleScores(user: index, drifted: true).map(tenThousandths)
            writer.key("style_scores_after_drift"); writeNumbers(drifted, to: &writer)
            writer.key("best_styles_after_drift"); writeStrings(Self.bestStyles(drifted).map(\.rawValue), to: &writer)
        }
        writer.key("taste"); writeNumbers(user.taste, to: &writer)
        writer.key("price_sensitivity"); writer.double(user.priceSensitivity)
        writer.key("activity"); writer.double(user.activity)
        writer.endObject()
        return writer.bytes
    }

    private func itemTruthLine(_ index: Int) -> [UInt8] {
        let item = items[index]
        var writer = JSONWriter(capacity: 512)
        writer.beginObject()
        writer.key("kind"); writer.string("item")
        writer.key("item_id"); writer.string(item.id)
        writer.key("style"); writer.string(item.style.rawValue)
        writer.key("taste"); writeNumbers(item.taste, to: &writer)
        writer.key("popularity"); writer.double(item.popularity)
        writer.key("price"); writer.double(item.price)
        writer.endObject()
        return writer.bytes
    }

    private func writeMatrix(_ matrix: AffinityMatrix, to writer: inout JSONWriter) {
        writer.beginArray()
        for shape in FaceShape.allCases { writeNumbers(Array(matrix.row(shape)), to: &writer) }
        writer.endArray()
    }

    private func writeNumbers(_ numbers: [Double], to writer: inout JSONWriter) {
        writer.beginArray()
        for number in numbers { writer.double(number) }
        writer.endArray()
    }

    private func writeStrings(_ strings: [String], to writer: inout JSONWriter) {
        writer.beginArray()
        for string in strings { writer.string(string) }
        writer.endArray()
    }
}

/// The catalog's mean item of one style, for the per-style scores.
struct StyleMean: Sendable {
    var taste: [Double]
    var logRelativePrice: Double
    var popularity: Double
    var count: Int
}
