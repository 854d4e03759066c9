import LoupeServing
import Foundation

/// A URL query parsed strictly: every name at most once, only the names a route accepts, and
/// values percent-decoded (`+` is a space, as HTML forms send it). Anything else is a 400 that
/// names the offending parameter, so a misspelt `min-price` is reported rather than ignored.
struct QueryParameters {
    private var values: [String: String] = [:]

    init(_ query: String?, allowed: Set<String>) throws(APIError) {
        guard let query, !query.isEmpty else { return }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try Self.decode(parts[0], what: "a query parameter name")
            let value = parts.count == 2 ? try Self.decode(parts[1], what: "the value of \(name)") : ""
            guard allowed.contains(name) else {
                throw .badRequest(
                    "unknown_parameter",
                    "unknown query parameter \"\(name)\"; this route accepts: \(allowed.sorted().joined(separator: ", "))")
            }
            guard values[name] == nil else {
                throw .badRequest("duplicate_parameter", "query parameter \"\(name)\" is given more than once")
            }
            values[name] = value
        }
    }

    subscript(name: String) -> String? { values[name] }

    /// An integer in `range`, or `defaultValue` when absent.
    func integer(_ name: String, in range: ClosedRange<Int>, default defaultValue: Int? = nil) throws(APIError) -> Int? {
        guard let text = values[name] else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw .badRequest(
                "invalid_\(name)",
                "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound), got \"\(Self.quoted(text))\"")
        }
        return value
    }

    /// A finite, non-negative number, or nil when absent.
    func price(_ name: String) throws(APIError) -> Double? {
        guard let text = values[name] else { return nil }
        // Double("nan"), Double("inf") and hexadecimal forms parse; a price is none of those.
        guard text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == "e" || $0 == "E" || $0 == "-" || $0 == "+") }),
            let value = Double(text), value.isFinite, value >= 0
        else {
            throw .badRequest("invalid_\(name)", "\(name) must be a finite number ≥ 0, got \"\(Self.quoted(text))\"")
        }
        return value
    }

    private static func decode(_ raw: Substring, what: String) throws(APIError) -> String {
        // Most names and values need no decoding; Foundation's is slow (about 2 % of a request's
        // CPU under load), so it runs only when there is something to decode.
        guard raw.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else { return String(raw) }
        let spaced = raw.replacingOccurrences(of: "+", with: " ")
        guard let decoded = spaced.removingPercentEncoding else {
            throw .badRequest("invalid_query", "\(what) is not valid percent-encoded UTF-8: \"\(quoted(String(raw)))\"")
        }
        return decoded
    }

    /// At most 64 characters of client input in a message.
    static func quoted(_ text: String) -> String {
        text.count <= 64 ? text : String(text.prefix(64)) + "…"
    }
}
