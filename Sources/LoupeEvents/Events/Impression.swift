/// One served recommendation list: topic `impressions`, key `user_id`.
public struct Impression: Sendable, Equatable {
    public struct Item: Sendable, Equatable {
        public var itemId: String
        public var score: Double
        /// 0-based rank in the served list.
        public var position: Int

        public init(itemId: String, score: Double, position: Int) {
            self.itemId = itemId
            self.score = score
            self.position = position
        }
    }

    public var eventId: String
    public var timestamp: Int64
    public var requestId: String
    public var userId: String
    public var items: [Item]
    /// The model that served the list (absent in impressions written before models had ids).
    public var modelId: String?
    public var modelVersion: String
    public var variant: String

    public static let maximumItems = 1000

    public init(
        eventId: String, timestamp: Int64, requestId: String, userId: String, items: [Item], modelId: String? = nil,
        modelVersion: String, variant: String
    ) {
        self.eventId = eventId
        self.timestamp = timestamp
        self.requestId = requestId
        self.userId = userId
        self.items = items
        self.modelId = modelId
        self.modelVersion = modelVersion
        self.variant = variant
    }

    init<Fields>(_ reader: inout FieldReader<Fields>, header: EventHeader) throws(EventValidationError) {
        eventId = header.eventId
        timestamp = header.timestamp
        requestId = try reader.identifier("request_id")
        userId = try reader.identifier("user_id")
        let elements = try reader.array("items", maxCount: Self.maximumItems)
        var items: [Item] = []
        items.reserveCapacity(elements.count)
        for (position, element) in elements.enumerated() {
            var itemReader = try FieldReader<Fields>(element, path: "items[\(position)]")
            items.append(
                Item(
                    itemId: try itemReader.identifier("item_id"),
                    score: try itemReader.double("score"),
                    position: Int(try itemReader.int("position", in: 0...Int64(Self.maximumItems)))
                ))
            try itemReader.finish()
        }
        self.items = items
        modelId = try reader.optionalIdentifier("model_id", maxLength: 128)
        modelVersion = try reader.identifier("model_version", maxLength: 128)
        variant = try reader.identifier("variant", maxLength: 64)
    }

    func writeFields(to writer: inout JSONWriter) {
        writer.key("request_id"); writer.string(requestId)
        writer.key("user_id"); writer.string(userId)
        writer.key("items")
        writer.beginArray()
        for item in items {
            writer.beginObject()
            writer.key("item_id"); writer.string(item.itemId)
            writer.key("score"); writer.double(item.score)
            writer.key("position"); writer.int(item.position)
            writer.endObject()
        }
        writer.endArray()
        if let modelId { writer.key("model_id"); writer.string(modelId) }
        writer.key("model_version"); writer.string(modelVersion)
        writer.key("variant"); writer.string(variant)
    }
}
