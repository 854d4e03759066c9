/// Why an input was not accepted as an event.
///
/// `code` is a stable, machine-readable reason (documented in docs/events.md) that summaries
/// and metrics group by; `field` is the JSON path of the offending field when there is one;
/// `message` is for people.
public struct EventValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable, Comparable {
        case invalidJSON = "invalid_json"
        case invalidUTF8 = "invalid_utf8"
        case tooLarge = "too_large"
        case notAnObject = "not_an_object"
        case missingField = "missing_field"
        case unknownField = "unknown_field"
        case wrongType = "wrong_type"
        case invalidValue = "invalid_value"
        case unknownType = "unknown_type"
        case unsupportedSchemaVersion = "unsupported_schema_version"
        case wrongTopic = "wrong_topic"
        /// An event of an internal topic (impressions, model events, metrics, alerts, dead
        /// letters, learner batches) offered where only client events are taken.
        case internalTopic = "internal_topic"

        public static func < (lhs: Code, rhs: Code) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public var code: Code
    public var field: String?
    public var message: String

    public init(_ code: Code, field: String? = nil, _ message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    public var description: String {
        if let field { return "\(code.rawValue) (\(field)): \(message)" }
        return "\(code.rawValue): \(message)"
    }
}
