/// Why a byte sequence is not a JSON document; `offset` is the byte where parsing stopped.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var offset: Int

    public var description: String { "\(message) at byte \(offset)" }
}

/// A strict RFC 8259 parser over UTF-8 bytes.
///
/// Loupe parses every event it accepts or consumes, at hundreds of thousands per second, so this
/// works on a raw buffer instead of going through Foundation. It rejects what RFC 8259 rejects:
/// invalid UTF-8, unescaped control characters, `NaN`/`Infinity`, leading zeros, trailing data,
/// and (because events are objects with named fields) duplicate keys. Nesting is bounded so that
/// hostile input cannot exhaust the stack.
public struct JSONParser {
    public static let maximumDepth = 64

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Parses exactly one JSON value; surrounding whitespace is allowed, anything else is not.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.index != bytes.count {
            throw parser.error("unexpected data after the JSON value")
        }
        return value
    }

    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer throws(JSONSyntaxError) -> JSONValue in try parse(buffer) }
    }

    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONSyntaxError) -> JSONValue {
        let result: Result<JSONValue, JSONSyntaxError>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONSyntaxError) -> JSONValue in try parse(buffer) }
        }
        if let result { return try result.get() }
        let copy = Array(bytes)
        return try copy.withUnsafeBufferPointer { buffer throws(JSONSyntaxError) -> JSONValue in try parse(buffer) }
    }

    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    private func error(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(message: message, offset: index)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        guard index < bytes.count else { throw error("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            switch try JSONNumber.parse(bytes, at: &index) {
            case .int(let integer): return .int(integer)
            case .double(let real): return .double(real)
            }
        default: throw error("unexpected character '\(Self.printable(bytes[index]))'")
        }
    }

    private static func printable(_ byte: UInt8) -> String {
        (0x20..<0x7F).contains(byte) ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("invalid literal") }
        let start = literal.utf8Start
        for offset in 0..<count where bytes[index + offset] != start[offset] {
            throw error("invalid literal")
        }
        index += count
    }

    private mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        if depth > Self.maximumDepth { throw error("nesting deeper than \(Self.maximumDepth) levels") }
    }

    private mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var fields: [JSONObject.Field] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(JSONObject(fields))
        }
        // Events have about a dozen fields; growing 1→2→4→8→16 would allocate five times.
        fields.reserveCapacity(12)
        // A one-word Bloom filter of the keys so far that are plain ASCII (no escapes), so that
        // most keys skip the search for a duplicate; see `fingerprintBit`.
        var plainKeys: UInt64 = 0
        var hasOtherKeys = false
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw error("expected a field name")
            }
            let keyOffset = index
            let key = try parseString()
            let keyBit = lastStringWasPlainASCII ? Self.fingerprintBit(of: bytes, from: keyOffset + 1, to: index - 1) : 0
            if keyBit == 0 || hasOtherKeys || plainKeys & keyBit != 0 {
                for field in fields where JSONObject.sameName(field.key, key) {
                    throw JSONSyntaxError(message: "duplicate field \"\(key)\"", offset: keyOffset)
                }
            }
            if keyBit == 0 { hasOtherKeys = true } else { plainKeys |= keyBit }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            fields.append(JSONObject.Field(key, value))
            skipWhitespace()
            guard index < bytes.count else { throw error("unterminated object") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(JSONObject(fields))
            } else {
                throw error("expected ',' or '}'")
            }
        }
    }

    private mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else { throw error("unterminated array") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            } else {
                throw error("expected ',' or ']'")
            }
        }
    }

    /// Whether the last string `parseString` returned was written without escapes and is ASCII,
    /// so that its bytes in the input are its UTF-8.
    private var lastStringWasPlainASCII = false

    private mutating func parseString() throws(JSONSyntaxError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes, so the string is the raw bytes once they are valid UTF-8.
        var orOfBytes: UInt8 = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let raw = UnsafeBufferPointer(rebasing: bytes[start..<index])
                let string: String
                if orOfBytes < 0x80 {
                    string = Self.string(ascii: raw)
                } else {
                    guard let valid = String(validating: raw, as: UTF8.self) else {
                        throw JSONSyntaxError(message: "invalid UTF-8 in string", offset: start)
                    }
                    string = valid
                }
                lastStringWasPlainASCII = orOfBytes < 0x80
                index += 1
                return string
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("unescaped control character in string") }
            orOfBytes |= byte
            index += 1
        }
        guard index < bytes.count else { throw error("unterminated string") }
        lastStringWasPlainASCII = false
        return try parseEscapedString(from: start)
    }

    /// A string of ASCII bytes. Up to 15 bytes fit in the string itself, and the standard
    /// library builds those without allocating or validating.
    @inline(__always)
    static func string(ascii bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count) { buffer in
            _ = buffer.initialize(fromContentsOf: bytes)
            return bytes.count
        }
    }

    /// One bit (never 0) that plain ASCII keys with the same bytes share: byte-equal keys have
    /// the same bit, so a key whose bit no earlier key set cannot repeat an earlier key.
    /// For ASCII, `JSONObject.sameName` (canonical equivalence) is byte equality; keys with
    /// escapes or other bytes are always searched.
    @inline(__always)
    static func fingerprintBit(of bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> UInt64 {
        let count = end - start
        var hash = UInt64(truncatingIfNeeded: count) &* 0x9E37_79B9_7F4A_7C15
        if count > 0 {
            hash ^= UInt64(bytes[start]) &* 0xC2B2_AE3D_27D4_EB4F
            hash ^= UInt64(bytes[end - 1]) &* 0x1656_67B1_9E37_79F9
            hash ^= UInt64(bytes[start + count / 2]) &* 0x27D4_EB2F_1656_67C5
        }
        return 1 << (hash >> 58)
    }

    private mutating func parseEscapedString(from start: Int) throws(JSONSyntaxError) -> String {
        var decoded: [UInt8] = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                guard let string = decoded.withUnsafeBufferPointer(Self.string(validatingUTF8:)) else {
                    throw JSONSyntaxError(message: "invalid UTF-8 in string", offset: start)
                }
                return string
            }
            if byte < 0x20 { throw error("unescaped control character in string") }
            if byte != UInt8(ascii: "\\") {
                decoded.append(byte)
                index += 1
                continue
            }
            index += 1
            guard index < bytes.count else { break }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""): decoded.append(0x22)
            case UInt8(ascii: "\\"): decoded.append(0x5C)
            case UInt8(ascii: "/"): decoded.append(0x2F)
            case UInt8(ascii: "b"): decoded.append(0x08)
            case UInt8(ascii: "f"): decoded.append(0x0C)
            case UInt8(ascii: "n"): decoded.append(0x0A)
            case UInt8(ascii: "r"): decoded.append(0x0D)
            case UInt8(ascii: "t"): decoded.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                        bytes[index + 1] == UInt8(ascii: "u")
                    else { throw error("unpaired surrogate in \\u escape") }
                    index += 2
                    let low = try parseHex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw error("unpaired surrogate in \\u escape")
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                decoded.append(contentsOf: String(Character(unicode)).utf8)
            default:
                throw error("invalid escape '\\\(Self.printable(escape))'")
            }
        }
        throw error("unterminated string")
    }

    private mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("invalid hex digit in \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    /// The string the bytes encode, or nil if they are not valid UTF-8. ASCII — nearly every
    /// field name and id — takes a shortcut past the standard library's generic validator.
    static func string(validatingUTF8 bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var ascii = true
        for byte in bytes where byte >= 0x80 {
            ascii = false
            break
        }
        return ascii ? String(decoding: bytes, as: UTF8.self) : String(validating: bytes, as: UTF8.self)
    }
}
