import Foundation
@testable import LoupeEvents
import Testing

/// The tape that events are decoded from (`JSONTape`): within its subset (ASCII strings without
/// escapes) it must hold exactly what `JSONParser` builds, and accept exactly what the parser
/// accepts; everything else it leaves to the parser. `EventCodec.decode` must give the same
/// answer whichever of the two reads an input.
@Suite struct JSONTapeTests {
    static let canonical = #"{"event_id":"e-1","schema_version":1,"type":"view","timestamp":1000,"user_id":"u-1","item_id":"i-1","session_id":"s-1","context":{"device":"mobile","channel":"app","locale":"en-GB","hour":13}}"#

    /// The tape of `json` as a `JSONValue`, or nil when the tape does not take the input.
    private func tape(_ json: String) -> JSONValue? {
        tape(Array(json.utf8))
    }

    private func tape(_ bytes: [UInt8]) -> JSONValue? {
        bytes.withUnsafeBufferPointer { buffer in
            JSONTape.withTape(of: buffer) { tape in tape.map { Self.tree($0.root) } }
        }
    }

    private static func tree(_ value: JSONTape.Value) -> JSONValue {
        switch value.type {
        case .null: return .null
        case .boolean: return .bool(value.bool!)
        case .integer, .number:
            switch value.number! {
            case .int(let integer): return .int(integer)
            case .double(let real): return .double(real)
            }
        case .string: return .string(value.string!)
        case .array: return .array(value.elements!.map(tree))
        case .object: return .object(JSONObject(value.fields!.keysAndValues.map { JSONObject.Field($0.key, tree($0.value)) }))
        }
    }

    /// The tape takes `json` and holds what the parser builds from it.
    private func expectSameAsParser(_ json: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let parsed = try? JSONParser.parse(json)
        #expect(parsed != nil, "the parser rejects \(json)", sourceLocation: sourceLocation)
        #expect(tape(json) == parsed, sourceLocation: sourceLocation)
    }

    // MARK: what the tape holds

    @Test(arguments: [
        canonical,
        "{}", "[]", "[[]]", "{\"a\":{}}", "  {\"a\" : [ 1 , 2.5 , -0 , true , false , null ] }\n\t\r",
        "\"\"", "\"a\"", "0", "-0", "1.0", "1e2", "-1E-2", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "123456789012345678901234567890", "1.7976931348623157e308", "5e-324", "0.1",
        "true", "false", "null", "\"\u{7F}\"", "\"a/b\"", "{\"\":1}",
        "{\"k\":\"abcdefg\",\"kk\":\"abcdefgh\",\"kkk\":\"abcdefghi\",\"kkkk\":\"abcdefghijklmnopq\"}",
    ])
    func holdsWhatTheParserBuilds(json: String) {
        expectSameAsParser(json)
    }

    @Test func holdsDocumentsOfManyTokensOnTheHeap() {
        // Past the 64 tokens kept on the stack, the scan starts over in a buffer on the heap.
        for count in [30, 31, 32, 62, 63, 64, 65, 300] {
            expectSameAsParser("[" + (0..<count).map(String.init).joined(separator: ",") + "]")
            expectSameAsParser("{" + (0..<count).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}")
        }
    }

    @Test func nestsAsDeepAsTheParser() {
        let depth = JSONParser.maximumDepth
        expectSameAsParser(String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
        expectSameAsParser(String(repeating: "{\"a\":", count: depth - 1) + "{}" + String(repeating: "}", count: depth - 1))
        #expect(tape(String(repeating: "[", count: depth + 1) + String(repeating: "]", count: depth + 1)) == nil)
    }

    // MARK: what it leaves to the parser

    @Test(arguments: [
        // Outside the subset, though valid JSON.
        #""a\nb""#, #""\u0041""#, #"{"\u0061":1}"#, "\"é\"", "{\"é\":1}", "\"\u{212A}\"",
        // Invalid JSON.
        "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "[1 2]", "01", "-", "1.", ".5", "1e", "1e400",
        "tru", "nul", "truex", "\"abc", "\"a\u{01}b\"", "{\"a\":1}x", "{\"a\":1} {}", "\u{FEFF}{}", "'a'",
        // Repeated keys, also ones that share a fingerprint bit with an earlier key.
        #"{"a":1,"a":2}"#, #"{"ab":1,"ba":2,"ab":3}"#, #"{"x":{"a":1,"b":2,"a":3}}"#,
    ])
    func leavesOtherInputToTheParser(json: String) {
        #expect(tape(json) == nil)
    }

    @Test func readsStringsOfEveryLengthUpToTheFirstSpecialByte() {
        // Strings are scanned eight bytes at a time: put a character the tape does not take at
        // every position of strings of every length around the word size, and check the rest.
        for length in 0...20 {
            let plain = String(repeating: "x", count: length)
            expectSameAsParser("[\"\(plain)\",\"\(plain)\"]")
            expectSameAsParser("\"\(plain)\"")
            for position in 0..<length {
                for special in ["\\n", "\u{01}", "é", "\u{7F}", "\\\""] {
                    var characters = Array(plain)
                    characters.replaceSubrange(position...position, with: Array(special))
                    let json = "[\"" + String(characters) + "\",1]"
                    if special == "\u{7F}" {
                        expectSameAsParser(json)
                    } else {
                        #expect(tape(json) == nil, "\(json)")
                    }
                }
            }
        }
    }

    @Test func findsKeysOfEveryLength() throws {
        let keys = (0...20).map { String(repeating: "k", count: $0) } + ["ab", "ba", "abcdefgh", "abcdefgi", "bbcdefgh", "user_id", "item_id"]
        let json = "{" + keys.enumerated().map { "\"\($0.element)\":\($0.offset)" }.joined(separator: ",") + "}"
        let found = Array(json.utf8).withUnsafeBufferPointer { buffer in
            JSONTape.withTape(of: buffer) { tape -> [Int64]? in
                guard let fields = tape?.root.fields else { return nil }
                var reader = FieldReader(fields)
                return [
                    reader.optional("")?.number, reader.optional("kkkkkkkk")?.number, reader.optional("kkkkkkkkk")?.number,
                    reader.optional("abcdefgi")?.number, reader.optional("item_id")?.number, reader.optional("ba")?.number,
                    reader.optional("kkkkkkkkkkkkkkkkkkkk")?.number, reader.optional("missing")?.number,
                ].map { number -> Int64 in
                    if case .int(let value)? = number { return value }
                    return -1
                }
            }
        }
        #expect(found == [0, 8, 9, 24, 27, 22, 20, -1])
    }

    // MARK: byte comparisons and name tables

    @Test func comparesBytesOfEveryLength() {
        for length in 0...24 {
            let first = [UInt8](repeating: 0x61, count: length)
            first.withUnsafeBufferPointer { a in
                #expect(JSONTape.equal(a, a))
                var same = first
                same.withUnsafeBufferPointer { b in #expect(JSONTape.equal(a, b)) }
                for position in 0..<length {
                    same = first
                    same[position] = 0x62
                    same.withUnsafeBufferPointer { b in #expect(!JSONTape.equal(a, b), "length \(length), position \(position)") }
                }
                let longer = first + [0x61]
                longer.withUnsafeBufferPointer { b in #expect(!JSONTape.equal(a, b)) }
            }
        }
    }

    @Test func nameTablesFindNamesByStringAndByBytes() {
        for style in FrameStyle.allCases {
            #expect(FrameStyle.names.value(named: style.rawValue) == style)
            let found = Array(style.rawValue.utf8).withUnsafeBufferPointer { FrameStyle.names.value(named: $0) }
            #expect(found == style)
        }
        for name in ["", "cat", "cat_eyes", "Round", "round ", "semi-rimless", "\u{212A}"] {
            #expect(FrameStyle.names.value(named: name) == nil)
            #expect(Array(name.utf8).withUnsafeBufferPointer { FrameStyle.names.value(named: $0) } == nil)
        }
        #expect(Set(EventType.names.entries.map(\.name)) == Set(Event.topicOfType.keys))
        for (name, type) in EventType.names.entries {
            #expect(Event.topicOfType[name] == type.topic)
            #expect(Array(name.utf8).withUnsafeBufferPointer { EventType.names.value(named: $0) }?.topic == type.topic)
        }
    }

    // MARK: decoding through the tape or the tree

    /// `EventCodec.decode` of the bytes (through the tape when it takes them) and of the parsed
    /// tree give the same event or the same error.
    private func expectSameDecoding(_ json: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let fromBytes = Result { () throws(EventValidationError) -> Event in try EventCodec.decode(Array(json.utf8)) }
        guard let tree = try? JSONParser.parse(json) else {
            Issue.record("not JSON: \(json)", sourceLocation: sourceLocation)
            return
        }
        let fromTree = Result { () throws(EventValidationError) -> Event in try EventCodec.decode(tree) }
        #expect(fromBytes == fromTree, "\(json)", sourceLocation: sourceLocation)
    }

    @Test(arguments: [
        canonical,
        canonical.replacingOccurrences(of: #""view""#, with: #""rating""#),
        canonical.replacingOccurrences(of: #""view""#, with: #""session_start""#),
        canonical.replacingOccurrences(of: #""view""#, with: #""unknown""#),
        canonical.replacingOccurrences(of: #""view""#, with: "7"),
        canonical.replacingOccurrences(of: #""mobile""#, with: #""phone""#),
        canonical.replacingOccurrences(of: #""mobile""#, with: "null"),
        canonical.replacingOccurrences(of: #""hour":13"#, with: #""hour":13.0"#),
        canonical.replacingOccurrences(of: #""hour":13"#, with: #""hour":24"#),
        canonical.replacingOccurrences(of: #""hour":13"#, with: #""hour":"13""#),
        canonical.replacingOccurrences(of: #""hour":13"#, with: #""hour":13,"zone":1"#),
        canonical.replacingOccurrences(of: #""timestamp":1000"#, with: #""timestamp":"2026-03-01T12:00:00Z""#),
        canonical.replacingOccurrences(of: #""timestamp":1000"#, with: #""timestamp":1e3"#),
        canonical.replacingOccurrences(of: #""schema_version":1"#, with: #""schema_version":2"#),
        canonical.replacingOccurrences(of: #""user_id":"u-1""#, with: #""user_id":"""#),
        canonical.replacingOccurrences(of: #""context":{"#, with: #""request_id":null,"context":{"#),
        #"{"event_id":"f","schema_version":1,"type":"like","timestamp":1,"user_id":"u","item_id":"i","rating":null}"#,
        #"{"event_id":"f","schema_version":1,"type":"face_analysis","timestamp":1,"user_id":"u","face_shape":null,"measurements":{"face_length_mm":200,"forehead_width_mm":130.5,"cheekbone_width_mm":140,"jaw_width_mm":120,"pupillary_distance_mm":62},"confidence":1}"#,
        #"{"event_id":"c","schema_version":1,"type":"item_upsert","timestamp":1,"item_id":"i","style":"cat_eye","frame_width_mm":140,"lens_height_mm":40,"bridge_mm":18,"temple_length_mm":140,"price":99.5,"currency":"EUR","material":"acetate","color":"black","features":[1,-0.5,2e-3,true]}"#,
        "[]", "7", #"{"type":"view"}"#, "{}",
    ])
    func decodesLikeTheTree(json: String) {
        expectSameDecoding(json)
    }
}
