/// Reads the fields of one JSON object with the checks the schemas in `topics/schemas` state,
/// and rejects any field it was not asked for (the schemas say `additionalProperties: false`).
struct FieldReader {
    let object: JSONObject
    let path: String
    private var read: [String] = []
    /// How many of the object's fields the reads found; when it equals the field count, no
    /// field is unknown and `finish` has nothing to search.
    private var found = 0

    init(_ object: JSONObject, path: String = "") {
        self.object = object
        self.path = path
        read.reserveCapacity(16)
    }

    init(_ value: JSONValue, path: String) throws(EventValidationError) {
        guard case .object(let object) = value else {
            throw EventValidationError(.wrongType, field: path, "expected an object, got \(value.typeName)")
        }
        self.init(object, path: path + ".")
    }

    func name(_ key: String) -> String { path + key }

    /// The value of `key`, or nil when the field is absent. JSON `null` counts as absent for
    /// optional fields; required fields use `required`.
    /// Each key is read at most once per object (the decoders are written that way), so
    /// `found` counts distinct fields.
    mutating func optional(_ key: String) -> JSONValue? {
        read.append(key)
        guard let value = lookUp(key) else { return nil }
        found += 1
        return value == .null ? nil : value
    }

    /// Where the next field probably is: decoders read fields in schema order, which is the
    /// order canonical events are written in, so the search usually succeeds at once.
    private var hint = 0

    private mutating func lookUp(_ key: String) -> JSONValue? {
        let fields = object.fields
        for step in 0..<fields.count {
            let index = (hint + step) % fields.count
            if JSONObject.sameName(fields[index].key, key) {
                hint = index + 1
                return fields[index].value
            }
        }
        return nil
    }

    mutating func required(_ key: String) throws(EventValidationError) -> JSONValue {
        guard let value = optional(key) else {
            throw EventValidationError(.missingField, field: name(key), "required field is missing")
        }
        return value
    }

    /// Fails on the first field that no read asked for.
    func finish() throws(EventValidationError) {
        if found == object.fields.count { return }
        for field in object.fields where !read.contains(where: { JSONObject.sameName($0, field.key) }) {
            throw EventValidationError(.unknownField, field: name(field.key), "field is not part of this event type")
        }
    }

    // MARK: typed reads

    mutating func string(_ key: String, maxLength: Int = 256) throws(EventValidationError) -> String {
        try checkedString(try required(key), key, maxLength: maxLength)
    }

    mutating func optionalString(_ key: String, maxLength: Int = 256) throws(EventValidationError) -> String? {
        guard let value = optional(key) else { return nil }
        return try checkedString(value, key, maxLength: maxLength)
    }

    private func checkedString(_ value: JSONValue, _ key: String, maxLength: Int) throws(EventValidationError) -> String {
        guard case .string(let text) = value else {
            throw EventValidationError(.wrongType, field: name(key), "expected a string, got \(value.typeName)")
        }
        if text.isEmpty {
            throw EventValidationError(.invalidValue, field: name(key), "must not be empty")
        }
        if text.utf8.count > maxLength {
            throw EventValidationError(.invalidValue, field: name(key), "longer than \(maxLength) bytes")
        }
        return text
    }

    mutating func int(_ key: String, in range: ClosedRange<Int64>) throws(EventValidationError) -> Int64 {
        try checkedInt(try required(key), key, in: range)
    }

    mutating func optionalInt(_ key: String, in range: ClosedRange<Int64>) throws(EventValidationError) -> Int64? {
        guard let value = optional(key) else { return nil }
        return try checkedInt(value, key, in: range)
    }

    func checkedInt(_ value: JSONValue, _ key: String, in range: ClosedRange<Int64>) throws(EventValidationError) -> Int64 {
        let number: Int64
        switch value {
        case .int(let integer): number = integer
        case .double(let real) where real == real.rounded() && abs(real) < 9e15: number = Int64(real)
        default:
            throw EventValidationError(.wrongType, field: name(key), "expected an integer, got \(value.typeName)")
        }
        guard range.contains(number) else {
            throw EventValidationError(.invalidValue, field: name(key), "\(number) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    mutating func double(_ key: String, _ bounds: NumberBounds = .any) throws(EventValidationError) -> Double {
        try checkedDouble(try required(key), key, bounds)
    }

    mutating func optionalDouble(_ key: String, _ bounds: NumberBounds = .any) throws(EventValidationError) -> Double? {
        guard let value = optional(key) else { return nil }
        return try checkedDouble(value, key, bounds)
    }

    func checkedDouble(_ value: JSONValue, _ key: String, _ bounds: NumberBounds) throws(EventValidationError) -> Double {
        let number: Double
        switch value {
        case .int(let integer): number = Double(integer)
        case .double(let real): number = real
        default:
            throw EventValidationError(.wrongType, field: name(key), "expected a number, got \(value.typeName)")
        }
        if let reason = bounds.violation(number) {
            throw EventValidationError(.invalidValue, field: name(key), "\(number) \(reason)")
        }
        return number
    }

    mutating func bool(_ key: String) throws(EventValidationError) -> Bool? {
        guard let value = optional(key) else { return nil }
        guard case .bool(let flag) = value else {
            throw EventValidationError(.wrongType, field: name(key), "expected a boolean, got \(value.typeName)")
        }
        return flag
    }

    mutating func enumeration<T: RawRepresentable & CaseIterable>(_ key: String, _: T.Type) throws(EventValidationError) -> T
    where T.RawValue == String {
        try checkedEnumeration(try required(key), key, T.self)
    }

    mutating func optionalEnumeration<T: RawRepresentable & CaseIterable>(_ key: String, _: T.Type) throws(EventValidationError) -> T?
    where T.RawValue == String {
        guard let value = optional(key) else { return nil }
        return try checkedEnumeration(value, key, T.self)
    }

    func checkedEnumeration<T: RawRepresentable & CaseIterable>(_ value: JSONValue, _ key: String, _: T.Type) throws(EventValidationError) -> T
    where T.RawValue == String {
        guard case .string(let text) = value else {
            throw EventValidationError(.wrongType, field: name(key), "expected a string, got \(value.typeName)")
        }
        guard let member = T(rawValue: text) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw EventValidationError(.invalidValue, field: name(key), "\"\(text)\" is not one of: \(allowed)")
        }
        return member
    }

    mutating func array(_ key: String, maxCount: Int) throws(EventValidationError) -> [JSONValue] {
        guard let elements = try optionalArray(key, maxCount: maxCount) else {
            throw EventValidationError(.missingField, field: name(key), "required field is missing")
        }
        return elements
    }

    mutating func optionalArray(_ key: String, maxCount: Int) throws(EventValidationError) -> [JSONValue]? {
        guard let value = optional(key) else { return nil }
        guard case .array(let elements) = value else {
            throw EventValidationError(.wrongType, field: name(key), "expected an array, got \(value.typeName)")
        }
        guard elements.count <= maxCount else {
            throw EventValidationError(.invalidValue, field: name(key), "more than \(maxCount) elements")
        }
        return elements
    }

    /// Epoch milliseconds, given either as an integer or as an ISO-8601 date-time string.
    mutating func timestamp(_ key: String) throws(EventValidationError) -> Int64 {
        let value = try required(key)
        switch value {
        case .string(let text):
            guard let milliseconds = ISO8601Timestamp.milliseconds(text), (0...Timestamp.maximum).contains(milliseconds) else {
                throw EventValidationError(.invalidValue, field: name(key), "\"\(text)\" is not an ISO-8601 date-time such as 2026-03-01T12:00:00Z")
            }
            return milliseconds
        default:
            return try checkedInt(value, key, in: 0...Timestamp.maximum)
        }
    }
}

/// Inclusive and exclusive bounds for a number field; non-finite values are always rejected.
struct NumberBounds {
    var minimum: Double? = nil
    var exclusiveMinimum: Double? = nil
    var maximum: Double? = nil

    static let any = NumberBounds()
    static let positive = NumberBounds(exclusiveMinimum: 0)
    static let nonNegative = NumberBounds(minimum: 0)
    static let unit = NumberBounds(minimum: 0, maximum: 1)

    static func positive(upTo maximum: Double) -> NumberBounds {
        NumberBounds(exclusiveMinimum: 0, maximum: maximum)
    }

    func violation(_ value: Double) -> String? {
        if !value.isFinite { return "is not a finite number" }
        if let minimum, value < minimum { return "is below the minimum \(minimum)" }
        if let exclusiveMinimum, value <= exclusiveMinimum { return "must be greater than \(exclusiveMinimum)" }
        if let maximum, value > maximum { return "is above the maximum \(maximum)" }
        return nil
    }
}

public enum Timestamp {
    /// 9999-12-31T23:59:59.999Z: later timestamps are rejected as nonsense.
    public static let maximum: Int64 = 253_402_300_799_999
}
