import Foundation
import LoupeEvents
import Testing

/// The paths the decoder takes for speed: which fields a reader found (a bit set with a
/// fallback past 64 fields), the parser's skipping of most duplicate-key searches, and its
/// shortcut for ASCII strings. Each must give exactly the answers of the plain rules.
@Suite struct FieldReadingTests {
    static let canonical = #"{"event_id":"e-1","schema_version":1,"type":"view","timestamp":1000,"user_id":"u-1","item_id":"i-1","session_id":"s-1","context":{"device":"mobile","channel":"app","locale":"en-GB","hour":13}}"#

    static let expected = Event.interaction(
        Interaction(
            eventId: "e-1", timestamp: 1000, kind: .view, userId: "u-1", itemId: "i-1", sessionId: "s-1",
            context: Context(device: .mobile, channel: "app", locale: "en-GB", hour: 13)))

    private func decode(_ json: String) throws(EventValidationError) -> Event {
        try EventCodec.decode(Array(json.utf8))
    }

    private func expectError(_ json: String, _ code: EventValidationError.Code, field: String?, message: String? = nil,
                             sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let event = try decode(json)
            Issue.record("decoded \(event) instead of failing", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == code, sourceLocation: sourceLocation)
            #expect(error.field == field, sourceLocation: sourceLocation)
            if let message { #expect(error.message == message, sourceLocation: sourceLocation) }
        }
    }

    /// `"k0":0,…` with `count` fields, ready to go before the fields of `canonical`.
    private func unknownFields(_ count: Int, prefix: String = "k") -> String {
        (0..<count).map { "\"\(prefix)\($0)\":\($0)," }.joined()
    }

    @Test func decodesTheCanonicalForm() throws {
        #expect(try decode(Self.canonical) == Self.expected)
    }

    @Test func fieldsInAnotherOrderDecodeTheSame() throws {
        let json = #"{"context":{"hour":13,"locale":"en-GB","channel":"app","device":"mobile"},"session_id":"s-1","item_id":"i-1","user_id":"u-1","timestamp":1000,"type":"view","schema_version":1,"event_id":"e-1"}"#
        #expect(try decode(json) == Self.expected)
    }

    @Test(arguments: [1, 10, 63, 64, 65, 70, 200])
    func reportsTheFirstUnknownFieldOfLargeObjects(unknown: Int) {
        // Unknown fields first, then the event's own: the first unknown field is reported.
        let json = "{" + unknownFields(unknown) + Self.canonical.dropFirst()
        expectError(json, .unknownField, field: "k0", message: "field is not part of this event type")
    }

    @Test(arguments: [60, 63, 64, 65, 100])
    func reportsTheFirstUnknownFieldAfterTheKnownOnes(unknown: Int) {
        let json = "{" + Self.canonical.dropFirst().dropLast() + "," + unknownFields(unknown, prefix: "n").dropLast() + "}"
        expectError(json, .unknownField, field: "n0")
    }

    @Test func unknownFieldsInsideNestedObjectsNameTheirPath() {
        let json = Self.canonical.replacingOccurrences(of: #""hour":13"#, with: #""hour":13,"zone":"UTC""#)
        expectError(json, .unknownField, field: "context.zone", message: "field is not part of this event type")
    }

    @Test func aCodeBuiltObjectWithRepeatedNamesCountsEveryCopyAsRead() throws {
        // The parser rejects repeated names, but `decode(JSONValue)` takes any object: a field
        // counts as read when a read asked for its name, whichever copy the read found.
        guard case .object(let object) = try JSONParser.parse(Array(Self.canonical.utf8)) else {
            Issue.record("not an object")
            return
        }
        var fields = object.fields
        for index in 0..<70 { fields.append(JSONObject.Field("user_id", .string("u-\(index)"))) }
        #expect(try EventCodec.decode(.object(JSONObject(fields))) == Self.expected)

        // A field no read asked for is still reported, also beyond the 64th field.
        fields.append(JSONObject.Field("zz", .int(1)))
        fields.append(JSONObject.Field("item_id", .string("i-2")))
        #expect(throws: EventValidationError(.unknownField, field: "zz", "field is not part of this event type")) {
            try EventCodec.decode(.object(JSONObject(fields)))
        }

        // Copies before the fields the reads find, beyond index 64 too.
        var late = (0..<66).map { JSONObject.Field("session_id", .string("s-\($0)")) }
        late += object.fields.filter { $0.key != "session_id" }
        late.append(JSONObject.Field("session_id", .string("s-last")))
        let event = try EventCodec.decode(.object(JSONObject(late)))
        guard case .interaction(let interaction) = event else {
            Issue.record("decoded \(event)")
            return
        }
        #expect(interaction.userId == "u-1")
        // Reads look from where the previous one stopped: after `item_id` comes the last copy.
        #expect(interaction.sessionId == "s-last")
    }

    @Test(arguments: [
        #"{"a":1,"b":2,"a":3}"#,
        #"{"ab":1,"ba":2,"ab":3}"#,
        #"{"a":1,"\u0061":2}"#,
        #"{"\u0061":1,"a":2}"#,
        "{\"a\u{301}\u{323}\":1,\"a\u{323}\u{301}\":2}",
        "{\"é\":1,\"é\":2}",
    ])
    func rejectsRepeatedNamesHoweverWritten(json: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(json) }
    }

    @Test func reportsTheRepeatedNameAndWhereItStarts() {
        do {
            let value = try JSONParser.parse(#"{"event_id":"a","user_id":1,"event_id":"b"}"#)
            Issue.record("parsed \(value)")
        } catch {
            #expect(error.message == "duplicate field \"event_id\"")
            #expect(error.offset == 28)
        }
        expectError(
            #"{"event_id":"e-1","event_id":"e-1"}"#, .invalidJSON, field: nil,
            message: "duplicate field \"event_id\" at byte 18")
    }

    @Test func acceptsManyDistinctNames() throws {
        // Far more names than the 64 bits that let most names skip the search for a repeat,
        // including names that differ only inside, or only in length.
        var names = (0..<300).map { "k\($0)" }
        names += ["ab", "aab", "abb", "a_b", "a-b", "ba", "a", "b", "", "e\u{301}", "é", "\u{212A}", "K"]
        let json = "{" + names.enumerated().map { "\"\($0.element)\":\($0.offset)" }.joined(separator: ",") + "}"
        guard case .object(let object) = try JSONParser.parse(json) else {
            Issue.record("not an object")
            return
        }
        #expect(object.fields.map(\.key) == names)
        #expect(object.fields.map(\.value) == names.indices.map { JSONValue.int(Int64($0)) })
    }

    @Test(arguments: [
        ("", ""), ("abcdefghijklmno", "abcdefghijklmno"), ("abcdefghijklmnop", "abcdefghijklmnop"),
        ("a\\u00e9b", "aéb"), ("日本語のテキスト", "日本語のテキスト"), ("\\ud83d\\ude00", "😀"), ("x\\\"y\\\\z", "x\"y\\z"),
        ("\\/", "/"), ("é", "é"), ("\u{7e}\u{a0}\u{2027}", "~\u{a0}\u{2027}"), (String(repeating: "q", count: 200), String(repeating: "q", count: 200)),
    ])
    func stringsOfEveryKindDecode(json: String, expected: String) throws {
        #expect(try JSONParser.parse("\"" + json + "\"") == .string(expected))
        let event = try decode(Self.canonical.replacingOccurrences(of: #""u-1""#, with: "\"u-" + json + "\""))
        guard case .interaction(let interaction) = event else {
            Issue.record("decoded \(event)")
            return
        }
        #expect(interaction.userId == "u-" + expected)
    }

    @Test func keysWithEscapesAreFoundByTheirDecodedName() throws {
        let json = Self.canonical.replacingOccurrences(of: #""user_id""#, with: #""\u0075ser_id""#)
        #expect(try decode(json) == Self.expected)
    }

    @Test func invalidUTF8InsideAStringIsReportedAsSuch() {
        var bytes = Array(Self.canonical.utf8)
        let index = bytes.firstIndex(of: UInt8(ascii: "u"))!
        bytes[index] = 0xC3
        #expect(throws: EventValidationError(.invalidUTF8, "input is not valid UTF-8")) { try EventCodec.decode(bytes) }
    }

    @Test func nullIsAbsentForOptionalFieldsAndMissingForRequiredOnes() throws {
        let optional = Self.canonical.replacingOccurrences(of: #""hour":13"#, with: #""hour":null"#)
        var expected = Self.expected
        if case .interaction(var interaction) = expected {
            interaction.context?.hour = nil
            expected = .interaction(interaction)
        }
        #expect(try decode(optional) == expected)
        expectError(
            Self.canonical.replacingOccurrences(of: #""item_id":"i-1""#, with: #""item_id":null"#), .missingField, field: "item_id",
            message: "required field is missing")
    }
}
