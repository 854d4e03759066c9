/// The start or end of a shopping session: topic `sessions`, key `user_id`.
public struct Session: Sendable, Equatable {
    public var eventId: String
    public var timestamp: Int64
    public var kind: SessionKind
    public var userId: String
    public var sessionId: String
    public var context: Context

    public init(eventId: String, timestamp: Int64, kind: SessionKind, userId: String, sessionId: String, context: Context) {
        self.eventId = eventId
        self.timestamp = timestamp
        self.kind = kind
        self.userId = userId
        self.sessionId = sessionId
        self.context = context
    }

    init<Fields>(_ reader: inout FieldReader<Fields>, header: EventHeader, kind: SessionKind) throws(EventValidationError) {
        eventId = header.eventId
        timestamp = header.timestamp
        self.kind = kind
        userId = try reader.identifier("user_id")
        sessionId = try reader.identifier("session_id")
        context = try Context(try reader.required("context"), path: "context")
    }

    func writeFields(to writer: inout JSONWriter) {
        writer.key("user_id"); writer.string(userId)
        writer.key("session_id"); writer.string(sessionId)
        writer.key("context"); context.write(to: &writer)
    }
}
