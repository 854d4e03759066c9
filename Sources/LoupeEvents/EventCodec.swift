/// Turns events into Loupe's JSON contract (documented in docs/events.md, specified by the
/// JSON Schemas in topics/schemas) and validates untrusted bytes back into events.
public enum EventCodec {
    public static let schemaVersion = 1
    /// The largest encoded event accepted, in bytes.
    public static let maximumEventBytes = 65_536

    /// Parses and validates one event. `topic`, when given, is the topic the input claims to
    /// belong to; an event of another topic's type is rejected with `wrong_topic`.
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, topic: Topic? = nil) throws(EventValidationError) -> Event {
        if bytes.count > maximumEventBytes {
            throw EventValidationError(.tooLarge, "event is \(bytes.count) bytes; the limit is \(maximumEventBytes)")
        }
        // Events as they are written are scanned into a `JSONTape` on the stack and validated from
        // there; any other input (or input that is not JSON) is parsed into a tree, whose parser
        // gives the exact account of errors.
        return try JSONTape.withTape(of: bytes) { tape throws(EventValidationError) -> Event in
            let event = if let tape { try decode(value: tape.root, topic: topic) } else { try decodeFromTree(bytes, topic: topic) }
            // The canonical encoding is what the log stores, so it must fit too. It can be longer
            // than the input (`8e15` becomes `8000000000000000`, `\b` becomes `\u0008`), but by
            // less than five times, so only large inputs need the check.
            if bytes.count > maximumEventBytes / 5 {
                let canonicalBytes = encode(event).count
                if canonicalBytes > maximumEventBytes {
                    throw EventValidationError(
                        .tooLarge, "the canonical encoding is \(canonicalBytes) bytes; the limit is \(maximumEventBytes)")
                }
            }
            return event
        }
    }

    /// Every other input: parsed into a `JSONValue` tree, with the parser's account of errors.
    private static func decodeFromTree(_ bytes: UnsafeBufferPointer<UInt8>, topic: Topic?) throws(EventValidationError) -> Event {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            if String(validating: bytes, as: UTF8.self) == nil {
                throw EventValidationError(.invalidUTF8, "input is not valid UTF-8")
            }
            throw EventValidationError(.invalidJSON, error.description)
        }
        return try decode(value, topic: topic)
    }

    public static func decode(_ bytes: [UInt8], topic: Topic? = nil) throws(EventValidationError) -> Event {
        try bytes.withUnsafeBufferPointer { buffer throws(EventValidationError) -> Event in try decode(buffer, topic: topic) }
    }

    public static func decode(_ bytes: some Collection<UInt8>, topic: Topic? = nil) throws(EventValidationError) -> Event {
        let result = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(EventValidationError) -> Event in try decode(buffer, topic: topic) }
        }
        if let result { return try result.get() }
        return try Array(bytes).withUnsafeBufferPointer { buffer throws(EventValidationError) -> Event in
            try decode(buffer, topic: topic)
        }
    }

    public static func decode(_ value: JSONValue, topic: Topic? = nil) throws(EventValidationError) -> Event {
        try decode(value: value, topic: topic)
    }

    /// Validates a parsed event, from a tree or a tape.
    private static func decode<Value: JSONFieldValue>(value: Value, topic: Topic?) throws(EventValidationError) -> Event {
        guard let fields = value.fields else {
            throw EventValidationError(.notAnObject, "an event is a JSON object, got \(value.type.name)")
        }
        var reader = FieldReader(fields)
        guard let typeValue = reader.optional("type") else {
            throw EventValidationError(.missingField, field: "type", "required field is missing")
        }
        guard let type = typeValue.lookUp(in: EventType.names) else {
            guard let text = typeValue.string else {
                throw EventValidationError(.wrongType, field: "type", "expected a string, got \(typeValue.type.name)")
            }
            throw EventValidationError(.unknownType, field: "type", "\"\(text)\" is not a Loupe event type")
        }
        if let topic, topic != type.topic {
            let text = typeValue.string ?? ""
            throw EventValidationError(.wrongTopic, field: "type", "\"\(text)\" events belong to topic \(type.topic.rawValue), not \(topic.rawValue)")
        }
        let version = try reader.int("schema_version", in: Int64.min...Int64.max)
        guard version == Int64(schemaVersion) else {
            throw EventValidationError(.unsupportedSchemaVersion, field: "schema_version", "version \(version) is not supported; this Loupe reads version \(schemaVersion)")
        }
        let header = EventHeader(eventId: try reader.identifier("event_id"), timestamp: try reader.timestamp("timestamp"))
        let event: Event
        switch type {
        case .interaction(let kind): event = .interaction(try Interaction(&reader, header: header, kind: kind))
        case .feedback(let kind): event = .feedback(try Feedback(&reader, header: header, kind: kind))
        case .session(let kind): event = .session(try Session(&reader, header: header, kind: kind))
        case .faceAnalysis: event = .faceAnalysis(try FaceAnalysis(&reader, header: header))
        case .catalog(let kind): event = .catalog(try CatalogEvent(&reader, header: header, kind: kind))
        case .impression: event = .impression(try Impression(&reader, header: header))
        case .modelEvent(let kind): event = .modelEvent(try ModelEvent(&reader, header: header, kind: kind))
        case .evalMetric: event = .evalMetric(try EvalMetric(&reader, header: header))
        case .driftAlert: event = .driftAlert(try DriftAlert(&reader, header: header))
        case .deadLetter: event = .deadLetter(try DeadLetter(&reader, header: header))
        case .learnerBatch: event = .learnerBatch(try LearnerBatch(&reader, header: header))
        }
        try reader.finish()
        return event
    }

    /// The canonical encoding: compact, fields in schema order, timestamp in epoch milliseconds.
    public static func encode(_ event: Event) -> [UInt8] {
        var writer = JSONWriter(capacity: 320)
        encode(event, into: &writer)
        return writer.bytes
    }

    public static func encode(_ event: Event, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("event_id"); writer.string(event.eventId)
        writer.key("schema_version"); writer.int(schemaVersion)
        writer.key("type"); writer.string(event.type)
        writer.key("timestamp"); writer.int(event.timestamp)
        switch event {
        case .interaction(let body): body.writeFields(to: &writer)
        case .feedback(let body): body.writeFields(to: &writer)
        case .session(let body): body.writeFields(to: &writer)
        case .faceAnalysis(let body): body.writeFields(to: &writer)
        case .catalog(let body): body.writeFields(to: &writer)
        case .impression(let body): body.writeFields(to: &writer)
        case .modelEvent(let body): body.writeFields(to: &writer)
        case .evalMetric(let body): body.writeFields(to: &writer)
        case .driftAlert(let body): body.writeFields(to: &writer)
        case .deadLetter(let body): body.writeFields(to: &writer)
        case .learnerBatch(let body): body.writeFields(to: &writer)
        }
        writer.endObject()
    }
}
