/// Input that was rejected, with the reason: topic `dead-letter`, key = the source topic.
///
/// Nothing is dropped silently: every rejected input becomes one of these. The payload is kept
/// as text when it is valid UTF-8 and as base64 otherwise; payloads that do not fit (at most
/// `maximumPayloadBytes`, and the whole record within `EventCodec.maximumEventBytes`) keep their
/// first bytes, with `payloadTruncated` set and the original size in `payloadBytes`.
public struct DeadLetter: Sendable, Equatable {
    public var eventId: String
    public var timestamp: Int64
    /// Which part of Loupe rejected the input, such as `produce`, `http` or `learner`.
    public var source: String
    /// The topic the input was meant for, when that could be told.
    public var sourceTopic: String?
    /// A stable reason code (see `EventValidationError.Code`; other roles add their own).
    public var reasonCode: String
    public var reason: String
    public var field: String?
    /// Where in the source the input was, such as `stdin:42` or `interactions/1@1234`.
    public var location: String?
    public var payload: String?
    public var payloadBase64: String?
    public var payloadBytes: Int
    public var payloadTruncated: Bool

    public static let maximumPayloadBytes = 65_536

    public init(
        eventId: String, timestamp: Int64, source: String, sourceTopic: String?, reasonCode: String, reason: String,
        field: String?, location: String?, payload: String?, payloadBase64: String?, payloadBytes: Int, payloadTruncated: Bool
    ) {
        self.eventId = eventId
        self.timestamp = timestamp
        self.source = source
        self.sourceTopic = sourceTopic
        self.reasonCode = reasonCode
        self.reason = reason
        self.field = field
        self.location = location
        self.payload = payload
        self.payloadBase64 = payloadBase64
        self.payloadBytes = payloadBytes
        self.payloadTruncated = payloadTruncated
    }

    /// Wraps rejected raw input, keeping as much of it as the record may carry. The record is
    /// itself a valid event: text taken from the error is cut to the lengths the decoder allows,
    /// and the payload to what fits in `EventCodec.maximumEventBytes` once escaped.
    public init(
        rejecting raw: some Collection<UInt8>, error: EventValidationError, source: String, sourceTopic: String?,
        location: String?, eventId: String, timestamp: Int64
    ) {
        self.init(
            rejecting: raw, reasonCode: error.code.rawValue, reason: error.message, field: error.field, source: source,
            sourceTopic: sourceTopic, location: location, eventId: eventId, timestamp: timestamp)
    }

    /// Wraps rejected raw input for a reason of a role's own (a record that validates as an
    /// event but that the role cannot fold), as `init(rejecting:error:…)` does.
    public init(
        rejecting raw: some Collection<UInt8>, reasonCode: String, reason: String, field: String?, source: String,
        sourceTopic: String?, location: String?, eventId: String, timestamp: Int64
    ) {
        self.init(
            eventId: eventId, timestamp: timestamp, source: source, sourceTopic: sourceTopic,
            reasonCode: reasonCode, reason: Self.prefix(reason, maxBytes: Self.maximumReasonBytes),
            field: field.flatMap { $0.isEmpty ? nil : Self.prefix($0, maxBytes: Self.maximumFieldBytes) },
            location: location.map { Self.prefix($0, maxBytes: Self.maximumLocationBytes) },
            payload: nil, payloadBase64: nil, payloadBytes: raw.count, payloadTruncated: false)
        let bytes = Array(raw)
        // 24 bytes leave room for `,"payload_base64":""` around the payload.
        let room = EventCodec.maximumEventBytes - EventCodec.encode(.deadLetter(self)).count - 24
        let limit = min(bytes.count, Self.maximumPayloadBytes)
        var end = 0
        var escaped = 0
        while end < limit, escaped + JSONWriter.escapedLength(of: bytes[end]) <= room {
            escaped += JSONWriter.escapedLength(of: bytes[end])
            end += 1
        }
        if end < bytes.count {
            // Do not cut a multi-byte character in two: back up to its first byte.
            var backed = 0
            while backed < 3, end > 0, bytes[end] & 0xC0 == 0x80 {
                end -= 1
                backed += 1
            }
        }
        if let text = String(validating: bytes[..<end], as: UTF8.self) {
            payload = text
            payloadTruncated = end < bytes.count
        } else {
            let kept = min(limit, max(0, room) / 4 * 3)
            payloadBase64 = Base64.encode(Array(bytes[..<kept]))
            payloadTruncated = kept < bytes.count
        }
    }

    private static let maximumReasonBytes = 4096
    private static let maximumFieldBytes = 256
    private static let maximumLocationBytes = 1024

    /// The longest prefix of `text` of at most `maxBytes` UTF-8 bytes that ends between scalars.
    private static func prefix(_ text: String, maxBytes: Int) -> String {
        guard text.utf8.count > maxBytes else { return text }
        var kept = String.UnicodeScalarView()
        var count = 0
        for scalar in text.unicodeScalars {
            count += UTF8.width(scalar)
            if count > maxBytes { break }
            kept.append(scalar)
        }
        return String(kept)
    }

    init<Fields>(_ reader: inout FieldReader<Fields>, header: EventHeader) throws(EventValidationError) {
        eventId = header.eventId
        timestamp = header.timestamp
        source = try reader.string("source", maxLength: 128)
        sourceTopic = try reader.optionalString("source_topic", maxLength: 249)
        reasonCode = try reader.string("reason_code", maxLength: 64)
        reason = try reader.string("reason", maxLength: Self.maximumReasonBytes)
        field = try reader.optionalString("field", maxLength: Self.maximumFieldBytes)
        location = try reader.optionalString("location", maxLength: Self.maximumLocationBytes)
        payload = try reader.optional("payload").map { value throws(EventValidationError) -> String in
            guard let text = value.string else {
                throw EventValidationError(.wrongType, field: "payload", "expected a string, got \(value.type.name)")
            }
            return text
        }
        payloadBase64 = try reader.optionalString("payload_base64", maxLength: Self.maximumPayloadBytes * 4 / 3 + 4)
        payloadBytes = Int(try reader.int("payload_bytes", in: 0...Int64(Int32.max)))
        payloadTruncated = try reader.bool("payload_truncated") ?? false
    }

    func writeFields(to writer: inout JSONWriter) {
        writer.key("source"); writer.string(source)
        if let sourceTopic { writer.key("source_topic"); writer.string(sourceTopic) }
        writer.key("reason_code"); writer.string(reasonCode)
        writer.key("reason"); writer.string(reason)
        if let field { writer.key("field"); writer.string(field) }
        if let location { writer.key("location"); writer.string(location) }
        if let payload { writer.key("payload"); writer.string(payload) }
        if let payloadBase64 { writer.key("payload_base64"); writer.string(payloadBase64) }
        writer.key("payload_bytes"); writer.int(payloadBytes)
        writer.key("payload_truncated"); writer.bool(payloadTruncated)
    }
}

/// RFC 4648 base64 with padding.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            for shift in [18, 12, 6, 0] { output.append(alphabet[Int(chunk >> UInt32(shift) & 63)]) }
            index += 3
        }
        let remaining = bytes.count - index
        if remaining > 0 {
            var chunk = UInt32(bytes[index]) << 16
            if remaining == 2 { chunk |= UInt32(bytes[index + 1]) << 8 }
            output.append(alphabet[Int(chunk >> 18 & 63)])
            output.append(alphabet[Int(chunk >> 12 & 63)])
            output.append(remaining == 2 ? alphabet[Int(chunk >> 6 & 63)] : UInt8(ascii: "="))
            output.append(UInt8(ascii: "="))
        }
        return String(decoding: output, as: UTF8.self)
    }
}
