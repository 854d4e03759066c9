/// A shopper's explicit opinion of a frame: topic `feedback`, key `user_id`.
public struct Feedback: Sendable, Equatable {
    public var eventId: String
    public var timestamp: Int64
    public var kind: FeedbackKind
    public var userId: String
    public var itemId: String
    /// 1–5 stars; present exactly when `kind` is `.rating`.
    public var rating: Int?

    public init(eventId: String, timestamp: Int64, kind: FeedbackKind, userId: String, itemId: String, rating: Int? = nil) {
        self.eventId = eventId
        self.timestamp = timestamp
        self.kind = kind
        self.userId = userId
        self.itemId = itemId
        self.rating = rating
    }

    init<Fields>(_ reader: inout FieldReader<Fields>, header: EventHeader, kind: FeedbackKind) throws(EventValidationError) {
        eventId = header.eventId
        timestamp = header.timestamp
        self.kind = kind
        userId = try reader.identifier("user_id")
        itemId = try reader.identifier("item_id")
        if kind == .rating {
            rating = Int(try reader.int("rating", in: 1...5))
        } else {
            rating = nil
            if reader.contains("rating") {
                throw EventValidationError(.unknownField, field: "rating", "only events of type rating carry a rating")
            }
        }
    }

    func writeFields(to writer: inout JSONWriter) {
        writer.key("user_id"); writer.string(userId)
        writer.key("item_id"); writer.string(itemId)
        if let rating { writer.key("rating"); writer.int(rating) }
    }
}
