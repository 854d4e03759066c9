/// A shopper acting on a frame: topic `interactions`, key `user_id`.
public struct Interaction: Sendable, Equatable {
    public var eventId: String
    public var timestamp: Int64
    public var kind: InteractionKind
    public var userId: String
    public var itemId: String
    public var sessionId: String
    /// The impression (served list) this interaction came from, if any.
    public var requestId: String?
    public var context: Context?

    public init(
        eventId: String, timestamp: Int64, kind: InteractionKind, userId: String, itemId: String,
        sessionId: String, requestId: String? = nil, context: Context? = nil
    ) {
        self.eventId = eventId
        self.timestamp = timestamp
        self.kind = kind
        self.userId = userId
        self.itemId = itemId
        self.sessionId = sessionId
        self.requestId = requestId
        self.context = context
    }

    init<Fields>(_ reader: inout FieldReader<Fields>, header: EventHeader, kind: InteractionKind) throws(EventValidationError) {
        eventId = header.eventId
        timestamp = header.timestamp
        self.kind = kind
        userId = try reader.identifier("user_id")
        itemId = try reader.identifier("item_id")
        sessionId = try reader.identifier("session_id")
        requestId = try reader.optionalIdentifier("request_id")
        context = try reader.optional("context").map { value throws(EventValidationError) in try Context(value, path: "context") }
    }

    func writeFields(to writer: inout JSONWriter) {
        writer.key("user_id"); writer.string(userId)
        writer.key("item_id"); writer.string(itemId)
        writer.key("session_id"); writer.string(sessionId)
        if let requestId { writer.key("request_id"); writer.string(requestId) }
        if let context { writer.key("context"); context.write(to: &writer) }
    }
}
