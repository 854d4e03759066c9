/// Writes a JSON body byte for byte as `JSONResponse`'s encoder configuration does (sorted
/// keys, slashes unescaped, numbers as Swift prints them), without an encoder: for the bodies of
/// the hot routes. `ResponseBodyTests` compares the two on every body written this way.
struct JSONBodyWriter {
    /// A value that is not JSON (a non-finite number), as `JSONEncoder` refuses it.
    struct InvalidValue: Error, CustomStringConvertible {
        var description: String
    }

    private(set) var bytes: [UInt8] = []

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    /// Punctuation and keys, written as they are.
    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func bool(_ value: Bool) {
        value ? raw("true") : raw("false")
    }

    mutating func integer(_ value: some BinaryInteger) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// The shortest decimal that reads back as `value`, without a trailing ".0".
    mutating func number(_ value: Float) throws(InvalidValue) {
        guard value.isFinite else { throw InvalidValue(description: "\(value) is not a JSON number") }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    /// A quoted string: `"` and `\` escaped, control characters as `\b \f \n \r \t` or
    /// `\u00xx`, everything else (slashes and non-ASCII included) as it is.
    mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x08: raw("\\b")
            case 0x0C: raw("\\f")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0..<0x20:
                raw("\\u00")
                let digits: StaticString = "0123456789abcdef"
                digits.withUTF8Buffer { hex in
                    bytes.append(hex[Int(byte >> 4)])
                    bytes.append(hex[Int(byte & 0x0F)])
                }
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// A body that writes itself with `JSONBodyWriter`, as its `Encodable` conformance would.
protocol DirectJSONBody: Encodable {
    func writeJSON(to writer: inout JSONBodyWriter) throws(JSONBodyWriter.InvalidValue)
}

extension DirectJSONBody {
    func jsonBytes() throws(JSONBodyWriter.InvalidValue) -> [UInt8] {
        var writer = JSONBodyWriter(capacity: 1_024)
        try writeJSON(to: &writer)
        return writer.bytes
    }
}
