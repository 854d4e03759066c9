import LoupeServing
import LoupeEvents
import LoupeStore

/// The JSON bodies of successful responses (docs/openapi.yaml has their schemas).
struct RecommendationsBody: Encodable {
    struct Item: Encodable {
        var itemId: String
        var score: Float
        var reason: String
        /// 0-based rank in the list (as in impressions).
        var position: Int

        enum CodingKeys: String, CodingKey {
            case itemId = "item_id"
            case score, reason, position
        }
    }

    var requestId: String
    var userId: String
    var variant: String
    var modelId: String
    var modelVersion: String
    /// The store commit the list was computed from.
    var snapshot: Int
    var positions: [String: [Int64]]
    /// How many updates of the user the state includes (0: unknown user).
    var userVersion: UInt64
    var coldStart: Bool
    var cached: Bool
    var items: [Item]

    enum CodingKeys: String, CodingKey {
        case requestId = "request_id"
        case userId = "user_id"
        case variant
        case modelId = "model_id"
        case modelVersion = "model_version"
        case snapshot
        case positions
        case userVersion = "user_version"
        case coldStart = "cold_start"
        case cached, items
    }

    static func items(_ items: [RecommendedItem]) -> [Item] {
        items.enumerated().map { Item(itemId: $1.itemId, score: $1.score, reason: $1.reason.rawValue, position: $0) }
    }

    /// Topic → next offset per partition (index = partition); a partition the state has no
    /// position for has consumed nothing, so its next offset is 0.
    static func positions(_ positions: [StorePosition]) -> [String: [Int64]] {
        var byTopic: [String: [Int64]] = [:]
        for position in positions where position.partition >= 0 {
            var offsets = byTopic[position.topic] ?? []
            let partition = Int(position.partition)
            if offsets.count <= partition { offsets.append(contentsOf: repeatElement(0, count: partition + 1 - offsets.count)) }
            offsets[partition] = position.offset
            byTopic[position.topic] = offsets
        }
        return byTopic
    }
}

extension RecommendationsBody: DirectJSONBody {
    /// Keys in sorted order, as the encoder writes them.
    func writeJSON(to writer: inout JSONBodyWriter) throws(JSONBodyWriter.InvalidValue) {
        writer.raw("{\"cached\":")
        writer.bool(cached)
        writer.raw(",\"cold_start\":")
        writer.bool(coldStart)
        writer.raw(",\"items\":")
        try Item.write(items, to: &writer)
        writer.raw(",\"model_id\":")
        writer.string(modelId)
        writer.raw(",\"model_version\":")
        writer.string(modelVersion)
        writer.raw(",\"positions\":")
        Self.write(positions, to: &writer)
        writer.raw(",\"request_id\":")
        writer.string(requestId)
        writer.raw(",\"snapshot\":")
        writer.integer(snapshot)
        writer.raw(",\"user_id\":")
        writer.string(userId)
        writer.raw(",\"user_version\":")
        writer.integer(userVersion)
        writer.raw(",\"variant\":")
        writer.string(variant)
        writer.raw("}")
    }

    static func write(_ positions: [String: [Int64]], to writer: inout JSONBodyWriter) {
        writer.raw("{")
        for (index, topic) in positions.keys.sorted().enumerated() {
            if index > 0 { writer.raw(",") }
            writer.string(topic)
            writer.raw(":[")
            for (position, offset) in positions[topic]!.enumerated() {
                if position > 0 { writer.raw(",") }
                writer.integer(offset)
            }
            writer.raw("]")
        }
        writer.raw("}")
    }
}

extension RecommendationsBody.Item {
    static func write(_ items: [Self], to writer: inout JSONBodyWriter) throws(JSONBodyWriter.InvalidValue) {
        writer.raw("[")
        for (index, item) in items.enumerated() {
            writer.raw(index == 0 ? "{\"item_id\":" : ",{\"item_id\":")
            writer.string(item.itemId)
            writer.raw(",\"position\":")
            writer.integer(item.position)
            writer.raw(",\"reason\":")
            writer.string(item.reason)
            writer.raw(",\"score\":")
            try writer.number(item.score)
            writer.raw("}")
        }
        writer.raw("]")
    }
}

struct SimilarBody: Encodable {
    var requestId: String
    var itemId: String
    var modelId: String
    var modelVersion: String
    var snapshot: Int
    var positions: [String: [Int64]]
    var items: [RecommendationsBody.Item]

    enum CodingKeys: String, CodingKey {
        case requestId = "request_id"
        case itemId = "item_id"
        case modelId = "model_id"
        case modelVersion = "model_version"
        case snapshot, positions, items
    }
}

/// `POST /v1/events`: 202 when every event was accepted; with `error` and `rejections`, the 400
/// of a batch in which some were rejected (the accepted ones are written all the same).
struct EventsBody: Encodable {
    struct Rejection: Encodable {
        /// 0-based index of the event in the batch (blank lines not counted).
        var index: Int
        /// 1-based line of the body, for application/x-ndjson.
        var line: Int?
        var code: String
        var field: String?
        var message: String
    }

    var error: ErrorBody.Detail?
    var requestId: String
    var accepted: Int
    var rejected: Int
    var acceptedByTopic: [String: Int]
    var rejections: [Rejection]?

    enum CodingKeys: String, CodingKey {
        case error
        case requestId = "request_id"
        case accepted, rejected
        case acceptedByTopic = "accepted_by_topic"
        case rejections
    }
}

struct ReadinessBody: Encodable {
    /// One served model.
    struct Model: Encodable {
        var modelId: String
        var modelVersion: String
        var ready: Bool
        var reason: String?
        var snapshot: Int?
        var itemCount: Int
        /// nil when the model has no snapshot.
        var snapshotAgeSeconds: Double?

        init(_ status: ModelStatus) {
            modelId = status.model.id
            modelVersion = status.model.version
            ready = status.ready
            reason = status.reason
            snapshot = status.snapshot
            itemCount = status.itemCount
            snapshotAgeSeconds = status.ready && status.snapshotAgeSeconds.isFinite ? status.snapshotAgeSeconds : nil
        }

        enum CodingKeys: String, CodingKey {
            case modelId = "model_id"
            case modelVersion = "model_version"
            case ready, reason, snapshot
            case itemCount = "item_count"
            case snapshotAgeSeconds = "snapshot_age_seconds"
        }
    }

    var ready: Bool
    var checks: [String: String]
    var reasons: [String]
    /// Every model a variant serves.
    var models: [Model]
}

struct HealthBody: Encodable {
    var status = "alive"
}
