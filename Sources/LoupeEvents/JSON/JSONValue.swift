/// A parsed JSON document.
///
/// Integers that fit in `Int64` stay integers so that validation can tell `3` from `3.5`;
/// object fields keep their order and are looked up linearly, which is faster than hashing
/// for the handful of fields an event has.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// A short name of the value's JSON type, for error messages.
    public var typeName: String { type.name }
}

/// A JSON object whose fields keep the order they were written in.
public struct JSONObject: Sendable, Equatable {
    public struct Field: Sendable, Equatable {
        public var key: String
        public var value: JSONValue
        public init(_ key: String, _ value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    public var fields: [Field]

    public init(_ fields: [Field] = []) {
        self.fields = fields
    }

    public subscript(key: String) -> JSONValue? {
        for field in fields where Self.sameName(field.key, key) { return field.value }
        return nil
    }

    /// Whether two field names are the same. Lengths are compared first (O(1)), so most
    /// mismatches cost nothing; equal names — the usual case, since readers look fields up in
    /// the order they are written — are equal bit for bit and `==` confirms them at once.
    /// (`==` compares by canonical equivalence; names Loupe looks up are ASCII, for which that
    /// is byte equality.)
    static func sameName(_ first: String, _ second: String) -> Bool {
        first.utf8.count == second.utf8.count && first == second
    }
}
