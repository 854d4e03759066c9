/// Reads the fields of one JSON object with the checks the schemas in `topics/schemas` state,
/// and rejects any field it was not asked for (the schemas say `additionalProperties: false`).
///
/// Generic over where the object comes from (see `JSONFieldValue`): a `JSONObject` or an object
/// on a `JSONTape`. Field names are `StaticString`s, which a tape compares with its bytes.
struct FieldReader<Fields: JSONFields> {
    typealias Value = Fields.Value

    let fields: Fields
    /// How error messages name this object's fields; the dotted path is only built for errors.
    private let names: FieldNames
    /// The ordinals of the fields that reads found: bit `i` of `foundBelow64` for the first 64,
    /// `foundFrom64` beyond (events have about a dozen fields, so it is nearly always empty).
    private var foundBelow64: UInt64 = 0
    private var foundFrom64: [Int]? = nil
    /// How many reads found a field; when it equals the field count, no field is unknown and
    /// `finish` has nothing to search.
    private var found = 0

    init(_ fields: Fields, path: String = "") {
        self.fields = fields
        self.names = FieldNames(parent: path, isNested: false)
    }

    init(_ value: Value, path: String) throws(EventValidationError) {
        guard let fields = value.fields else {
            throw EventValidationError(.wrongType, field: path, "expected an object, got \(value.type.name)")
        }
        self.fields = fields
        self.names = FieldNames(parent: path, isNested: true)
    }

    func name(_ key: some CustomStringConvertible) -> String { names(key) }

    /// The value of `key`, or nil when the field is absent. JSON `null` counts as absent for
    /// optional fields; required fields use `required`.
    /// Each key is read at most once per object (the decoders are written that way), so
    /// `found` counts distinct fields.
    mutating func optional(_ key: StaticString) -> Value? {
        guard let (position, ordinal) = lookUp(key) else { return nil }
        found += 1
        if ordinal < 64 {
            foundBelow64 |= 1 << UInt64(ordinal)
        } else {
            if foundFrom64 == nil { foundFrom64 = [] }
            foundFrom64!.append(ordinal)
        }
        let value = fields.value(at: position)
        if value.type == .null { return nil }
        return value
    }

    /// Whether the object has a field named `key`, null or not; this is not a read, and `key`
    /// must not have been read.
    func contains(_ key: StaticString) -> Bool {
        if allFound { return false }
        let name = Fields.name(key)
        var position = fields.firstPosition
        for _ in 0..<fields.count {
            if fields.key(at: position, is: name) { return true }
            position = fields.position(after: position)
        }
        return false
    }

    /// Where the next field probably is (its position and ordinal): decoders read fields in
    /// schema order, which is the order canonical events are written in, so the search usually
    /// succeeds at once. Nil stands for the first field.
    private var hint: (position: Int, ordinal: Int)? = nil

    /// Whether reads found every field. Then a key not read yet names none: each field has the
    /// name of a key read before (see `finish`).
    private var allFound: Bool { found == fields.count }

    private mutating func lookUp(_ key: StaticString) -> (position: Int, ordinal: Int)? {
        if allFound { return nil }
        let count = fields.count
        let name = Fields.name(key)
        // `hint` is one past the field found last, and so past the last field after it was read.
        var (position, ordinal) = hint.flatMap { $0.ordinal < count ? $0 : nil } ?? (fields.firstPosition, 0)
        for _ in 0..<count {
            if fields.key(at: position, is: name) {
                hint = (fields.position(after: position), ordinal + 1)
                return (position, ordinal)
            }
            ordinal += 1
            if ordinal == count {
                (position, ordinal) = (fields.firstPosition, 0)
            } else {
                position = fields.position(after: position)
            }
        }
        return nil
    }

    private func wasFound(_ ordinal: Int) -> Bool {
        ordinal < 64 ? foundBelow64 & (1 << UInt64(ordinal)) != 0 : foundFrom64?.contains(ordinal) == true
    }

    mutating func required(_ key: StaticString) throws(EventValidationError) -> Value {
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
        if allFound { return }
        let all = fields.keysAndValues.map(\.key)
        for (ordinal, key) in all.enumerated() where !wasFound(ordinal) {
            let named = all.indices.contains { other in wasFound(other) && JSONObject.sameName(all[other], key) }
            if !named {
                throw EventValidationError(.unknownField, field: name(key), "field is not part of this event type")
            }
        }
    }

    // MARK: typed reads

    mutating func string(_ key: StaticString, maxLength: Int = 256) throws(EventValidationError) -> String {
        try Self.checkedString(try required(key), maxLength: maxLength, field: names(key))
    }

    mutating func optionalString(_ key: StaticString, maxLength: Int = 256) throws(EventValidationError) -> String? {
        guard let value = optional(key) else { return nil }
        return try Self.checkedString(value, maxLength: maxLength, field: names(key))
    }

    /// An id field: a string that follows `Identifier`'s rule, of at most `maxLength` bytes.
    mutating func identifier(_ key: StaticString, maxLength: Int = Identifier.maximumBytes) throws(EventValidationError) -> String {
        try Self.checkedIdentifier(try required(key), maxLength: maxLength, field: names(key))
    }

    mutating func optionalIdentifier(_ key: StaticString, maxLength: Int = Identifier.maximumBytes) throws(EventValidationError) -> String? {
        guard let value = optional(key) else { return nil }
        return try Self.checkedIdentifier(value, maxLength: maxLength, field: names(key))
    }

    private static func checkedIdentifier(
        _ value: Value, maxLength: Int, field: @autoclosure () -> String
    ) throws(EventValidationError) -> String {
        guard let text = value.string else {
            throw EventValidationError(.wrongType, field: field(), "expected a string, got \(value.type.name)")
        }
        if let problem = Identifier.problem(text, maximumBytes: maxLength) {
            throw EventValidationError(.invalidValue, field: field(), problem)
        }
        return text
    }

    /// The checks take the field's path as an autoclosure: it is only built for an error.
    private static func checkedString(
        _ value: Value, maxLength: Int, field: @autoclosure () -> String
    ) throws(EventValidationError) -> String {
        guard let text = value.string else {
            throw EventValidationError(.wrongType, field: field(), "expected a string, got \(value.type.name)")
        }
        if text.isEmpty {
            throw EventValidationError(.invalidValue, field: field(), "must not be empty")
        }
        if text.utf8.count > maxLength {
            throw EventValidationError(.invalidValue, field: field(), "longer than \(maxLength) bytes")
        }
        return text
    }

    mutating func int(_ key: StaticString, in range: ClosedRange<Int64>) throws(EventValidationError) -> Int64 {
        try Self.checkedInt(try required(key), in: range, field: names(key))
    }

    mutating func optionalInt(_ key: StaticString, in range: ClosedRange<Int64>) throws(EventValidationError) -> Int64? {
        guard let value = optional(key) else { return nil }
        return try Self.checkedInt(value, in: range, field: names(key))
    }

    /// `key` names an element (`features[3]`) or a field of an object of names, and is only
    /// built for an error.
    func checkedInt(_ value: Value, _ key: @autoclosure () -> String, in range: ClosedRange<Int64>) throws(EventValidationError) -> Int64 {
        try Self.checkedInt(value, in: range, field: names(key()))
    }

    private static func checkedInt(
        _ value: Value, in range: ClosedRange<Int64>, field: @autoclosure () -> String
    ) throws(EventValidationError) -> Int64 {
        let number: Int64
        switch value.number {
        case .int(let integer)?: number = integer
        case .double(let real)? where real == real.rounded() && abs(real) < 9e15: number = Int64(real)
        default:
            throw EventValidationError(.wrongType, field: field(), "expected an integer, got \(value.type.name)")
        }
        guard range.contains(number) else {
            throw EventValidationError(.invalidValue, field: field(), "\(number) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    mutating func double(_ key: StaticString, _ bounds: NumberBounds = .any) throws(EventValidationError) -> Double {
        try Self.checkedDouble(try required(key), bounds, field: names(key))
    }

    mutating func optionalDouble(_ key: StaticString, _ bounds: NumberBounds = .any) throws(EventValidationError) -> Double? {
        guard let value = optional(key) else { return nil }
        return try Self.checkedDouble(value, bounds, field: names(key))
    }

    /// `key` as for `checkedInt`.
    func checkedDouble(_ value: Value, _ key: @autoclosure () -> String, _ bounds: NumberBounds) throws(EventValidationError) -> Double {
        try Self.checkedDouble(value, bounds, field: names(key()))
    }

    private static func checkedDouble(
        _ value: Value, _ bounds: NumberBounds, field: @autoclosure () -> String
    ) throws(EventValidationError) -> Double {
        let number: Double
        switch value.number {
        case .int(let integer)?: number = Double(integer)
        case .double(let real)?: number = real
        case nil:
            throw EventValidationError(.wrongType, field: field(), "expected a number, got \(value.type.name)")
        }
        if let reason = bounds.violation(number) {
            throw EventValidationError(.invalidValue, field: field(), "\(number) \(reason)")
        }
        return number
    }

    mutating func bool(_ key: StaticString) throws(EventValidationError) -> Bool? {
        guard let value = optional(key) else { return nil }
        guard let flag = value.bool else {
            throw EventValidationError(.wrongType, field: name(key), "expected a boolean, got \(value.type.name)")
        }
        return flag
    }

    mutating func enumeration<T: NamedEnumeration>(_ key: StaticString, _: T.Type) throws(EventValidationError) -> T {
        try Self.checkedEnumeration(try required(key), T.self, field: names(key))
    }

    mutating func optionalEnumeration<T: NamedEnumeration>(_ key: StaticString, _: T.Type) throws(EventValidationError) -> T? {
        guard let value = optional(key) else { return nil }
        return try Self.checkedEnumeration(value, T.self, field: names(key))
    }

    private static func checkedEnumeration<T: NamedEnumeration>(
        _ value: Value, _: T.Type, field: @autoclosure () -> String
    ) throws(EventValidationError) -> T {
        if let member = value.lookUp(in: T.names) { return member }
        guard let text = value.string else {
            throw EventValidationError(.wrongType, field: field(), "expected a string, got \(value.type.name)")
        }
        let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
        throw EventValidationError(.invalidValue, field: field(), "\"\(text)\" is not one of: \(allowed)")
    }

    mutating func array(_ key: StaticString, maxCount: Int) throws(EventValidationError) -> Value.Elements {
        guard let elements = try optionalArray(key, maxCount: maxCount) else {
            throw EventValidationError(.missingField, field: name(key), "required field is missing")
        }
        return elements
    }

    mutating func optionalArray(_ key: StaticString, maxCount: Int) throws(EventValidationError) -> Value.Elements? {
        guard let value = optional(key) else { return nil }
        guard let elements = value.elements else {
            throw EventValidationError(.wrongType, field: name(key), "expected an array, got \(value.type.name)")
        }
        guard elements.count <= maxCount else {
            throw EventValidationError(.invalidValue, field: name(key), "more than \(maxCount) elements")
        }
        return elements
    }

    /// Epoch milliseconds, given either as an integer or as an ISO-8601 date-time string.
    mutating func timestamp(_ key: StaticString) throws(EventValidationError) -> Int64 {
        let value = try required(key)
        if let text = value.string {
            guard let milliseconds = ISO8601Timestamp.milliseconds(text), (0...Timestamp.maximum).contains(milliseconds) else {
                throw EventValidationError(.invalidValue, field: name(key), "\"\(text)\" is not an ISO-8601 date-time such as 2026-03-01T12:00:00Z")
            }
            return milliseconds
        }
        return try Self.checkedInt(value, in: 0...Timestamp.maximum, field: names(key))
    }
}

/// An enumeration that JSON writes as strings, its members' raw values.
protocol NamedEnumeration: RawRepresentable<String>, CaseIterable, Sendable {
    /// The members by raw value, for reading them from bytes.
    static var names: NameTable<Self> { get }
}

/// How errors name the fields of one object: `key` at the top level, `path.key` inside.
struct FieldNames {
    let parent: String
    let isNested: Bool

    func callAsFunction(_ key: some CustomStringConvertible) -> String {
        isNested ? parent + "." + key.description : parent + key.description
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
