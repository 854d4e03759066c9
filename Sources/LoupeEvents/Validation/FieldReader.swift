/// Reads the fields of one JSON object with the checks the schemas in `topics/schemas` state,
/// and rejects any field it was not asked for (the schemas say `additionalProperties: false`).
struct FieldReader {
    let object: JSONObject
    /// How error messages name this object's fields; the dotted path is only built for errors.
    private let names: FieldNames
    /// The indices of the fields that reads found: bit `i` of `foundBelow64` for the first 64,
    /// `foundFrom64` beyond (events have about a dozen fields, so it is nearly always empty).
    private var foundBelow64: UInt64 = 0
    private var foundFrom64: [Int]? = nil
    /// How many reads found a field; when it equals the field count, no field is unknown and
    /// `finish` has nothing to search.
    private var found = 0

    init(_ object: JSONObject, path: String = "") {
        self.object = object
        self.names = FieldNames(parent: path, isNested: false)
    }

    init(_ value: JSONValue, path: String) throws(EventValidationError) {
        guard case .object(let object) = value else {
            throw EventValidationError(.wrongType, field: path, "expected an object, got \(value.typeName)")
        }
        self.object = object
        self.names = FieldNames(parent: path, isNested: true)
    }

    func name(_ key: String) -> String { names(key) }

    /// The value of `key`, or nil when the field is absent. JSON `null` counts as absent for
    /// optional fields; required fields use `required`.
    /// Each key is read at most once per object (the decoders are written that way), so
    /// `found` counts distinct fields.
    mutating func optional(_ key: String) -> JSONValue? {
        guard let index = lookUp(key) else { return nil }
        found += 1
        if index < 64 {
            foundBelow64 |= 1 << UInt64(index)
        } else {
            if foundFrom64 == nil { foundFrom64 = [] }
            foundFrom64!.append(index)
        }
        let value = object.fields[index].value
        if case .null = value { return nil }
        return value
    }

    /// Where the next field probably is: decoders read fields in schema order, which is the
    /// order canonical events are written in, so the search usually succeeds at once.
    private var hint = 0

    private mutating func lookUp(_ key: String) -> Int? {
        let fields = object.fields
        let count = fields.count
        // `hint` is at most `count`: one past the field found last.
        var index = hint < count ? hint : 0
        for _ in 0..<count {
            if JSONObject.sameName(fields[index].key, key) {
                hint = index + 1
                return index
            }
            index += 1
            if index == count { index = 0 }
        }
        return nil
    }

    private func wasFound(_ index: Int) -> Bool {
        index < 64 ? foundBelow64 & (1 << UInt64(index)) != 0 : foundFrom64?.contains(index) == true
    }

    mutating func required(_ key: String) throws(EventValidationError) -> JSONValue {
        guard let value = optional(key) else {
            throw EventValidationError(.missingField, field: name(key), "required field is missing")
        }
        return value
    }

    /// Fails on the first field that no read asked for.
    ///
    /// A field counts as read when a read's key has the same name as it. Reads remember the
    /// field they found, not their key; since `sameName` is an equivalence, a read key names
    /// a field exactly when the field's name is the same as that of a field some read found.
    /// That is the found field itself unless the object has two fields of the same name (the
    /// parser rejects those, but a `JSONObject` built in code can have them).
    func finish() throws(EventValidationError) {
        let fields = object.fields
        if found == fields.count { return }
        for index in fields.indices where !wasFound(index) {
            let key = fields[index].key
            let named = fields.indices.contains { other in wasFound(other) && JSONObject.sameName(fields[other].key, key) }
            if !named {
                throw EventValidationError(.unknownField, field: name(key), "field is not part of this event type")
            }
        }
    }

    // MARK: typed reads

    mutating func string(_ key: String, maxLength: Int = 256) throws(EventValidationError) -> String {
        try Self.checkedString(try required(key), key, maxLength: maxLength, names)
    }

    mutating func optionalString(_ key: String, maxLength: Int = 256) throws(EventValidationError) -> String? {
        guard let value = optional(key) else { return nil }
        return try Self.checkedString(value, key, maxLength: maxLength, names)
    }

    private static func checkedString(_ value: JSONValue, _ key: String, maxLength: Int, _ names: FieldNames) throws(EventValidationError) -> String {
        guard case .string(let text) = value else {
            throw EventValidationError(.wrongType, field: names(key), "expected a string, got \(value.typeName)")
        }
        if text.isEmpty {
            throw EventValidationError(.invalidValue, field: names(key), "must not be empty")
        }
        if text.utf8.count > maxLength {
            throw EventValidationError(.invalidValue, field: names(key), "longer than \(maxLength) bytes")
        }
        return text
    }

    mutating func int(_ key: String, in range: ClosedRange<Int64>) throws(EventValidationError) -> Int64 {
        try Self.checkedInt(try required(key), key, in: range, names)
    }

    mutating func optionalInt(_ key: String, in range: ClosedRange<Int64>) throws(EventValidationError) -> Int64? {
        guard let value = optional(key) else { return nil }
        return try Self.checkedInt(value, key, in: range, names)
    }

    func checkedInt(_ value: JSONValue, _ key: String, in range: ClosedRange<Int64>) throws(EventValidationError) -> Int64 {
        try Self.checkedInt(value, key, in: range, names)
    }

    private static func checkedInt(_ value: JSONValue, _ key: String, in range: ClosedRange<Int64>, _ names: FieldNames) throws(EventValidationError) -> Int64 {
        let number: Int64
        switch value {
        case .int(let integer): number = integer
        case .double(let real) where real == real.rounded() && abs(real) < 9e15: number = Int64(real)
        default:
            throw EventValidationError(.wrongType, field: names(key), "expected an integer, got \(value.typeName)")
        }
        guard range.contains(number) else {
            throw EventValidationError(.invalidValue, field: names(key), "\(number) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    mutating func double(_ key: String, _ bounds: NumberBounds = .any) throws(EventValidationError) -> Double {
        try Self.checkedDouble(try required(key), key, bounds, names)
    }

    mutating func optionalDouble(_ key: String, _ bounds: NumberBounds = .any) throws(EventValidationError) -> Double? {
        guard let value = optional(key) else { return nil }
        return try Self.checkedDouble(value, key, bounds, names)
    }

    func checkedDouble(_ value: JSONValue, _ key: String, _ bounds: NumberBounds) throws(EventValidationError) -> Double {
        try Self.checkedDouble(value, key, bounds, names)
    }

    private static func checkedDouble(_ value: JSONValue, _ key: String, _ bounds: NumberBounds, _ names: FieldNames) throws(EventValidationError) -> Double {
        let number: Double
        switch value {
        case .int(let integer): number = Double(integer)
        case .double(let real): number = real
        default:
            throw EventValidationError(.wrongType, field: names(key), "expected a number, got \(value.typeName)")
        }
        if let reason = bounds.violation(number) {
            throw EventValidationError(.invalidValue, field: names(key), "\(number) \(reason)")
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
        try Self.checkedEnumeration(try required(key), key, T.self, names)
    }

    mutating func optionalEnumeration<T: RawRepresentable & CaseIterable>(_ key: String, _: T.Type) throws(EventValidationError) -> T?
    where T.RawValue == String {
        guard let value = optional(key) else { return nil }
        return try Self.checkedEnumeration(value, key, T.self, names)
    }

    func checkedEnumeration<T: RawRepresentable & CaseIterable>(_ value: JSONValue, _ key: String, _: T.Type) throws(EventValidationError) -> T
    where T.RawValue == String {
        try Self.checkedEnumeration(value, key, T.self, names)
    }

    private static func checkedEnumeration<T: RawRepresentable & CaseIterable>(
        _ value: JSONValue, _ key: String, _: T.Type, _ names: FieldNames
    ) throws(EventValidationError) -> T where T.RawValue == String {
        guard case .string(let text) = value else {
            throw EventValidationError(.wrongType, field: names(key), "expected a string, got \(value.typeName)")
        }
        guard let member = T(rawValue: text) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw EventValidationError(.invalidValue, field: names(key), "\"\(text)\" is not one of: \(allowed)")
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
            return try Self.checkedInt(value, key, in: 0...Timestamp.maximum, names)
        }
    }
}

/// How errors name the fields of one object: `key` at the top level, `path.key` inside.
/// The checks take this instead of the reader, so that they need no copy of it.
struct FieldNames {
    let parent: String
    let isNested: Bool

    func callAsFunction(_ key: String) -> String { isNested ? parent + "." + key : parent + key }
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
