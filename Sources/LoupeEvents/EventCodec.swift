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
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            if String(validating: bytes, as: UTF8.self) == nil {
                throw EventValidationError(.invalidUTF8, "input is not valid UTF-8")
            }
            throw EventValidationError(.invalidJSON, error.description)
        }
        let event = try decode(value, topic: topic)
        // The canonical encoding is what the log stores, so it must fit too. It can be longer
        // than the input (`8e15` becomes `8000000000000000`, `\b` becomes `\u0008`), but by less
        // than five times, so only large inputs need the check.
        if bytes.count > maximumEventBytes / 5 {
            let canonicalBytes = encode(event).count
            if canonicalBytes > maximumEventBytes {
                throw EventValidationError(
                    .tooLarge, "the canonical encoding is \(canonicalBytes) bytes; the limit is \(maximumEventBytes)")
            }
        }
        return event
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
        guard case .object(let object) = value else {
            throw EventValidationError(.notAnObject, "an event is a JSON object, got \(value.typeName)")
        }
        var reader = FieldReader(object)
        guard let typeValue = reader.optional("type") else {
            throw EventValidationError(.missingField, field: "type", "required field is missing")
        }
        guard case .string(let type) = typeValue else {
            throw EventValidationError(.wrongType, field: "type", "expected a string, got \(typeValue.typeName)")
        }
        guard let eventTopic = Event.topicOfType[type] else {
            throw EventValidationError(.unknownType, field: "type", "\"\(type)\" is not a Loupe event type")
        }
        if let topic, topic != eventTopic {
            throw EventValidationError(.wrongTopic, field: "type", "\"\(type)\" events belong to topic \(eventTopic.rawValue), not \(topic.rawValue)")
        }
        let version = try reader.int("schema_version", in: Int64.min...Int64.max)
        guard version == Int64(schemaVersion) else {
            throw EventValidationError(.unsupportedSchemaVersion, field: "schema_version", "version \(version) is not supported; this Loupe reads version \(schemaVersion)")
        }
        let header = EventHeader(eventId: try reader.string("event_id"), timestamp: try reader.timestamp("timestamp"))
        let event: Event
        switch eventTopic {
        case .interactions: event = .interaction(try Interaction(&reader, header: header, type: type))
        case .feedback: event = .feedback(try Feedback(&reader, header: header, type: type))
        case .sessions: event = .session(try Session(&reader, header: header, type: type))
        case .faceAnalysis: event = .faceAnalysis(try FaceAnalysis(&reader, header: header))
        case .catalog: event = .catalog(try CatalogEvent(&reader, header: header, type: type))
        case .impressions: event = .impression(try Impression(&reader, header: header))
        case .modelEvents: event = .modelEvent(try ModelEvent(&reader, header: header, type: type))
        case .evalMetrics: event = .evalMetric(try EvalMetric(&reader, header: header))
        case .driftAlerts: event = .driftAlert(try DriftAlert(&reader, header: header))
        case .deadLetter: event = .deadLetter(try DeadLetter(&reader, header: header))
        case .learnerBatches: event = .learnerBatch(try LearnerBatch(&reader, header: header))
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
