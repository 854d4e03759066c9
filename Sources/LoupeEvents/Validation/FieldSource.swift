/// What `FieldReader` and the event decoders read: a JSON value, seen through the few questions
/// validation asks of it.
///
/// Two representations answer them: `JSONValue` (a parsed tree, for `EventCodec.decode(_:)` of
/// a value built in code and for input outside the tape's subset) and `JSONTape.Value` (byte
/// ranges of the input, for the decoding of bytes). The decoders are generic over this protocol
/// so that each validation rule is written once and both answer alike.
protocol JSONFieldValue {
    associatedtype Fields: JSONFields where Fields.Value == Self
    associatedtype Elements: Collection where Elements.Element == Self

    var type: JSONType { get }
    /// The value when it is a number.
    var number: JSONNumber? { get }
    var bool: Bool? { get }
    /// The value when it is a string.
    var string: String? { get }
    /// The value of `table` named by this string, or nil when there is none or this is not a
    /// string. Names compare as `String`s do, by canonical equivalence.
    func lookUp<T>(in table: NameTable<T>) -> T?
    /// The elements when the value is an array.
    var elements: Elements? { get }
    /// The fields when the value is an object.
    var fields: Fields? { get }
}

/// The fields of a JSON object in the order they were written. A field is addressed by a
/// position: the first is `firstPosition`, the next one `position(after:)`, up to `count` of them.
protocol JSONFields {
    associatedtype Value: JSONFieldValue where Value.Fields == Self
    /// A field name as `key(at:is:)` compares it, made once per search by `name(_:)`.
    associatedtype Name

    var count: Int { get }
    var firstPosition: Int { get }
    func position(after position: Int) -> Int
    static func name(_ text: StaticString) -> Name
    /// Whether the field at `position` is named `name` (compared as `JSONObject.sameName` does).
    func key(at position: Int, is name: Name) -> Bool
    func key(at position: Int) -> String
    func value(at position: Int) -> Value
}

extension JSONFields {
    /// Every field, in order, for objects whose names are data (log positions, metrics).
    var keysAndValues: [(key: String, value: Value)] {
        var result: [(key: String, value: Value)] = []
        result.reserveCapacity(count)
        var position = firstPosition
        for _ in 0..<count {
            result.append((key(at: position), value(at: position)))
            position = self.position(after: position)
        }
        return result
    }
}

/// The types of JSON values, named as error messages name them.
enum JSONType {
    case null, boolean, integer, number, string, array, object

    var name: String {
        switch self {
        case .null: "null"
        case .boolean: "boolean"
        case .integer: "integer"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// A fixed set of names (event types, the members of an enumeration) and what each stands for.
///
/// Looking a name up in its UTF-8 bytes saves the decoding of bytes from creating a `String`
/// and hashing it or comparing it with every member. The names are ASCII, for which byte
/// equality is `String` equality. A class, so that reading a table from a static property
/// retains one object.
final class NameTable<Value: Sendable>: Sendable {
    let entries: [(name: String, value: Value)]
    /// The names' bytes one after another; name `i` is `bytes[ends[i - 1]..<ends[i]]`.
    private let bytes: [UInt8]
    private let ends: [Int]

    init(_ entries: [(name: String, value: Value)]) {
        precondition(entries.allSatisfy { $0.name.utf8.allSatisfy { $0 < 0x80 } }, "names must be ASCII")
        self.entries = entries
        bytes = entries.flatMap { Array($0.name.utf8) }
        var end = 0
        ends = entries.map { entry in
            end += entry.name.utf8.count
            return end
        }
    }

    /// The members of a string enumeration, named by their raw values.
    convenience init(_: Value.Type) where Value: RawRepresentable<String> & CaseIterable {
        self.init(Value.allCases.map { (name: $0.rawValue, value: $0) })
    }

    /// The value named `name`, compared as `String`s compare.
    func value(named name: String) -> Value? {
        entries.first { $0.name == name }?.value
    }

    /// The value named by the ASCII bytes `name` (bytes of other strings name nothing here).
    func value(named name: UnsafeBufferPointer<UInt8>) -> Value? {
        bytes.withUnsafeBufferPointer { bytes in
            var start = 0
            for (index, end) in ends.enumerated() {
                if end - start == name.count, JSONTape.equal(UnsafeBufferPointer(rebasing: bytes[start..<end]), name) {
                    return entries[index].value
                }
                start = end
            }
            return nil
        }
    }
}

extension JSONValue: JSONFieldValue {
    var type: JSONType {
        switch self {
        case .null: .null
        case .bool: .boolean
        case .int: .integer
        case .double: .number
        case .string: .string
        case .array: .array
        case .object: .object
        }
    }

    var number: JSONNumber? {
        switch self {
        case .int(let integer): .int(integer)
        case .double(let real): .double(real)
        default: nil
        }
    }

    var bool: Bool? {
        if case .bool(let flag) = self { flag } else { nil }
    }

    var string: String? {
        if case .string(let text) = self { text } else { nil }
    }

    func lookUp<T>(in table: NameTable<T>) -> T? {
        string.flatMap(table.value(named:))
    }

    var elements: [JSONValue]? {
        if case .array(let elements) = self { elements } else { nil }
    }

    var fields: JSONObject? {
        if case .object(let object) = self { object } else { nil }
    }
}

extension JSONObject: JSONFields {
    typealias Value = JSONValue

    var count: Int { fields.count }
    var firstPosition: Int { 0 }
    func position(after position: Int) -> Int { position + 1 }
    static func name(_ text: StaticString) -> String { text.description }
    func key(at position: Int, is name: String) -> Bool { Self.sameName(fields[position].key, name) }
    func key(at position: Int) -> String { fields[position].key }
    func value(at position: Int) -> JSONValue { fields[position].value }
}
