import Foundation
import LoupeEvents
import Testing

/// Ids are 1–255 bytes of printable UTF-8, in every id field of every event type.
@Suite struct IdentifierTests {
    @Test(arguments: ["u", "frame-0042", "ü", "日本語", "😀 with spaces", "~\u{A0}\u{2027}\u{202A}", String(repeating: "é", count: 127) + "x"])
    func printableIdsUpTo255BytesAreIds(_ id: String) {
        #expect(Identifier.problem(id) == nil)
    }

    @Test(arguments: [
        ("", "must not be empty"),
        (String(repeating: "x", count: 256), "longer than 255 bytes"),
        (String(repeating: "é", count: 128), "longer than 255 bytes"),
        ("evil\u{0}user", "(U+0000) at byte 4"),
        ("tab\there", "(U+0009) at byte 3"),
        ("new\nline", "(U+000A) at byte 3"),
        ("del\u{7F}", "(U+007F) at byte 3"),
        ("ü\u{85}", "(U+0085) at byte 2"),
        ("x\u{9F}", "(U+009F) at byte 1"),
        ("a\u{2028}b", "separator (U+2028) at byte 1"),
        ("ab\u{2029}", "separator (U+2029) at byte 2"),
    ])
    func everythingElseIsNot(_ id: String, _ problem: String) {
        let found = Identifier.problem(id)
        #expect(found?.contains(problem) == true, "\(String(describing: found))")
    }

    /// Each id field of each client event type, written with a NUL, is rejected with its name.
    @Test(arguments: [
        ("event_id", #"{"event_id":"X","schema_version":1,"type":"click","timestamp":1,"user_id":"u","item_id":"i","session_id":"s"}"#),
        ("user_id", #"{"event_id":"e","schema_version":1,"type":"click","timestamp":1,"user_id":"X","item_id":"i","session_id":"s"}"#),
        ("item_id", #"{"event_id":"e","schema_version":1,"type":"like","timestamp":1,"user_id":"u","item_id":"X"}"#),
        ("session_id", #"{"event_id":"e","schema_version":1,"type":"session_end","timestamp":1,"user_id":"u","session_id":"X","context":{}}"#),
        ("request_id", #"{"event_id":"e","schema_version":1,"type":"click","timestamp":1,"user_id":"u","item_id":"i","session_id":"s","request_id":"X"}"#),
        ("item_id", #"{"event_id":"e","schema_version":1,"type":"item_delete","timestamp":1,"item_id":"X"}"#),
    ])
    func idFieldsFollowTheRule(field: String, json: String) {
        let bad = json.replacingOccurrences(of: #""X""#, with: #""a\u0000b""#)
        #expect(throws: EventValidationError(.invalidValue, field: field, "holds a control character (U+0000) at byte 1; ids are printable")) {
            try EventCodec.decode(Array(bad.utf8))
        }
        #expect((try? EventCodec.decode(Array(json.replacingOccurrences(of: #""X""#, with: #""a-b""#).utf8))) != nil)
    }
}
