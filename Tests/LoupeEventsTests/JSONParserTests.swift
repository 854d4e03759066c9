import LoupeRandomness
import LoupeEvents
import Testing

@Suite struct JSONParserTests {
    // MARK: strings

    @Test(arguments: [
        (#""""#, ""),
        (#""plain""#, "plain"),
        (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{08}\u{0C}\n\r\t"),
        (#""\u0041\u00e9\u4E2D""#, "Aé中"),
        (#""\u0000 and \u001f""#, "\u{00} and \u{1F}"),
        (#""\ud83d\ude00""#, "😀"),
        (#""\uD834\uDD1E clef""#, "𝄞 clef"),
        (#""before \n after""#, "before \n after"),
        ("\"raw café 😀 \u{7F}\"", "raw café 😀 \u{7F}"),
        ("\"\u{2028}\u{2029}\"", "\u{2028}\u{2029}"),
    ])
    func decodesStrings(json: String, expected: String) throws {
        #expect(try JSONParser.parse(json) == .string(expected))
    }

    @Test(arguments: [
        #""\ud83d""#,
        #""\ud83d x""#,
        #""\ud83d\u0041""#,
        #""\ud83d\ud83d""#,
        #""\ude00""#,
        #""\ude00\ud83d""#,
    ])
    func rejectsUnpairedSurrogates(json: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(json) }
    }

    @Test(arguments: [UInt8(0x00), 0x01, 0x09, 0x0A, 0x0D, 0x1F])
    func rejectsUnescapedControlCharacters(byte: UInt8) {
        let plain: [UInt8] = [0x22, 0x61, byte, 0x62, 0x22]
        let afterEscape: [UInt8] = [0x22, 0x5C, 0x6E, byte, 0x22]
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(plain) }
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(afterEscape) }
    }

    @Test(arguments: [#""\x41""#, #""\u12""#, #""\u12G4""#, #""\U0041""#, #""\'""#, #""\"#, #""unterminated"#, "\"\\u00"])
    func rejectsBadEscapesAndUnterminatedStrings(json: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(json) }
    }

    @Test(arguments: [
        [UInt8(0x22), 0xC3, 0x22],
        [0x22, 0xC0, 0xAF, 0x22],
        [0x22, 0xE0, 0x80, 0xAF, 0x22],
        [0x22, 0xED, 0xA0, 0x80, 0x22],
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],
        [0x22, 0xFF, 0x22],
        [0x22, 0x80, 0x22],
        [0x22, 0x5C, 0x6E, 0xFE, 0x22],
        [0x22, 0x5C, 0x75, 0x30, 0x30, 0x65, 0x39, 0xA9, 0x22],
        [0x5B, 0xFF, 0x5D],
    ])
    func rejectsInvalidUTF8(bytes: [UInt8]) {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(bytes) }
    }

    // MARK: numbers

    @Test(arguments: [
        ("0", JSONValue.int(0)),
        ("-0", .int(0)),
        ("42", .int(42)),
        ("-17", .int(-17)),
        ("9223372036854775807", .int(Int64.max)),
        ("-9223372036854775808", .int(Int64.min)),
        ("9007199254740993", .int(9_007_199_254_740_993)),
        ("3.0", .double(3)),
        ("1e2", .double(100)),
        ("1E+2", .double(100)),
        ("1e-2", .double(0.01)),
        ("2.5E-3", .double(0.0025)),
        ("0e0", .double(0)),
        ("-1.5e0", .double(-1.5)),
        ("0.1", .double(0.1)),
        ("0.30000000000000004", .double(0.300_000_000_000_000_04)),
        ("3.141592653589793", .double(Double.pi)),
        ("0.1000000000000000055511151231257827", .double(0.1)),
        ("9223372036854775808", .double(9_223_372_036_854_775_808)),
        ("-9223372036854775809", .double(-9_223_372_036_854_775_808)),
        ("123456789012345678901234567890", .double(1.2345678901234568e29)),
        ("9007199254740993.0", .double(9_007_199_254_740_992)),
        ("1.7976931348623157e308", .double(Double.greatestFiniteMagnitude)),
        ("2.2250738585072014e-308", .double(Double.leastNormalMagnitude)),
        ("4.9e-324", .double(Double.leastNonzeroMagnitude)),
        ("1e-400", .double(0)),
        ("0.0000000000000000000000001", .double(1e-25)),
        ("1e0000000000000000000000003", .double(1000)),
    ])
    func decodesNumbers(json: String, expected: JSONValue) throws {
        #expect(try JSONParser.parse(json) == expected)
    }

    @Test func keepsTheSignOfNegativeZero() throws {
        let value = try JSONParser.parse("-0.0")
        guard case .double(let number) = value else {
            Issue.record("expected a double, got \(value)")
            return
        }
        #expect(number == 0 && number.sign == .minus)
    }

    @Test(arguments: [
        "01", "-01", "00", "00.5", "+1", ".5", "1.", "1.e3", "1e", "1e+", "-", "--1", "0x10", "1_000",
        "NaN", "nan", "Infinity", "-Infinity", "inf", "1e400", "-1e400", "1" + String(repeating: "0", count: 400),
    ])
    func rejectsNumbers(json: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(json) }
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse("{\"a\":\(json)}") }
    }

    // MARK: structure

    @Test func keepsFieldOrderAndNesting() throws {
        let value = try JSONParser.parse(#" { "b" : [1, 2.5, "x", true, false, null, {}, []], "a" : { "c" : null } } "#)
        let expected = JSONValue.object(
            JSONObject([
                .init(
                    "b", .array([.int(1), .double(2.5), .string("x"), .bool(true), .bool(false), .null, .object(JSONObject()), .array([])])),
                .init("a", .object(JSONObject([.init("c", .null)]))),
            ]))
        #expect(value == expected)
    }

    @Test(arguments: ["true", "false", "null", "\t\r\n 7 \n"])
    func acceptsScalarDocumentsAndTheFourWhitespaceCharacters(json: String) {
        #expect(throws: Never.self) { try JSONParser.parse(json) }
    }

    @Test(arguments: [
        "", " ", "{", "[", "[1,]", "[,1]", "[1 2]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{'a':1}", "{\"a\":1 \"b\":2}",
        "{} x", "1 2", "[]]", "{}}", "\"a\"\"b\"", "tru", "nul", "True", "// comment\n{}", "{} // comment",
        "\u{FEFF}{}", "\u{0B}{}", "{}\u{0C}", "\u{A0}1",
    ])
    func rejectsMalformedDocuments(json: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(json) }
    }

    @Test(arguments: [#"{"a":1,"a":2}"#, #"{"a":1,"b":{"c":1,"c":1}}"#, #"[{"x":null,"x":null}]"#, #"{"é":1,"\u00e9":2}"#])
    func rejectsDuplicateKeys(json: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(json) }
    }

    @Test func allowsTheSameKeyInSiblingObjects() throws {
        #expect(throws: Never.self) { try JSONParser.parse(#"[{"a":1},{"a":2}]"#) }
    }

    @Test func boundsNesting() throws {
        let depth = JSONParser.maximumDepth
        let arrays = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let objects = String(repeating: "{\"k\":", count: depth - 1) + "{}" + String(repeating: "}", count: depth - 1)
        #expect(throws: Never.self) { try JSONParser.parse(arrays) }
        #expect(throws: Never.self) { try JSONParser.parse(objects) }
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse("[" + arrays + "]") }
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse("{\"k\":" + objects + "}") }
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(String(repeating: "[", count: 100_000)) }
    }

    @Test func reportsWhereParsingStopped() {
        let error = #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(#"{"a": 1} x"#) }
        #expect(error?.offset == 9)
    }

    // MARK: writing

    @Test func writesCompactJSONWithEscapes() {
        var writer = JSONWriter()
        writer.value(
            .object(
                JSONObject([
                    .init("s", .string("q\"b\\n\n\r\t\u{01}\u{1F}é/")), .init("a", .array([.int(-3), .double(0.5), .bool(true), .null])),
                ])))
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #"{"s":"q\"b\\n\n\r\t\u0001\u001fé/","a":[-3,0.5,true,null]}"#)
    }

    @Test func writesIntegralDoublesAsIntegers() {
        var writer = JSONWriter()
        writer.value(.array([.double(3), .double(-0.0), .double(1e14), .double(1e15), .double(1e16), .double(1e-7)]))
        #expect(String(decoding: writer.bytes, as: UTF8.self) == "[3,0,100000000000000,1000000000000000.0,1e+16,1e-07]")
    }

    @Test func stringsRoundTrip() throws {
        var all = ""
        for scalar in (0..<0x80).compactMap(Unicode.Scalar.init) { all.unicodeScalars.append(scalar) }
        for text in [all, "", "😀𝄞", "\u{FFFF}\u{10FFFF}\u{E000}", "\u{2028}"] {
            try expectRoundTrip(.string(text))
            try expectRoundTrip(.object(JSONObject([.init(text, .string(text))])))
        }
    }

    @Test func randomStringsRoundTrip() throws {
        var random = SplitMix64(seed: 8259)
        for _ in 0..<2000 {
            var text = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...24, using: &random) {
                text.append(randomScalar(using: &random))
            }
            try expectRoundTrip(.array([.string(String(text)), .object(JSONObject([.init(String(text), .null)]))]))
        }
    }

    @Test func numbersRoundTrip() throws {
        for number in [Int64.min, -1, 0, 1, Int64.max] { try expectRoundTrip(.int(number)) }
        let doubles = [
            0.1, -2.5, 1e300, -1e-300, 1e15, 123_456.789, Double.greatestFiniteMagnitude, Double.leastNonzeroMagnitude,
            Double.leastNormalMagnitude, 0.1 + 0.2, 1.0 / 3.0,
        ]
        for number in doubles { try expectRoundTrip(.double(number)) }
    }

    /// The writer's shortest representation and the parser's rounding together give back
    /// exactly the double written, bit for bit.
    @Test func randomDoublesRoundTripExactly() throws {
        var random = SplitMix64(seed: 754)
        var checked = 0
        while checked < 20_000 {
            let number = Double(bitPattern: random.next())
            guard number.isFinite else { continue }
            checked += 1
            var writer = JSONWriter()
            writer.double(number)
            switch try JSONParser.parse(writer.bytes) {
            case .double(let parsed): #expect(parsed.bitPattern == number.bitPattern, "\(number)")
            case .int(let parsed): #expect(Double(parsed) == number, "\(number)")
            case let other: Issue.record("\(number) came back as \(other)")
            }
        }
    }

    private func expectRoundTrip(_ value: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) throws {
        var writer = JSONWriter()
        writer.value(value)
        let parsed = try JSONParser.parse(writer.bytes)
        #expect(parsed == normalised(value), sourceLocation: sourceLocation)
    }

    /// What a value reads back as: integral doubles below 1e15 are written as integers.
    private func normalised(_ value: JSONValue) -> JSONValue {
        switch value {
        case .double(let number) where number == number.rounded() && abs(number) < 1e15: .int(Int64(number))
        case .array(let elements): .array(elements.map(normalised))
        case .object(let object): .object(JSONObject(object.fields.map { .init($0.key, normalised($0.value)) }))
        default: value
        }
    }

    private func randomScalar(using random: inout SplitMix64) -> Unicode.Scalar {
        let ranges: [ClosedRange<UInt32>] = [0x00...0x1F, 0x20...0x7F, 0x80...0x7FF, 0x800...0xD7FF, 0xE000...0xFFFF, 0x10000...0x10FFFF]
        let range = ranges[Int.random(in: 0..<ranges.count, using: &random)]
        return Unicode.Scalar(UInt32.random(in: range, using: &random))!
    }
}
