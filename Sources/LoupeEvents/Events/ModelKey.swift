/// Names one model: its id (what kind of model, say `online-bpr`) and its version. The state
/// store keeps each model's tables under `id@version/` (docs/state-store.md), so models of other
/// kinds, dimensions and versions share one store; serving maps each experiment variant to one;
/// impressions carry it.
///
/// Written `id@version`: the id is 1–48 of `a-z 0-9 -` starting with a letter; the version is
/// 1–64 of `A-Z a-z 0-9 . _ -` (a number, a date, a registry's version).
public struct ModelKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let id: String
    public let version: String

    /// The online learner's model unless `learner.model` says otherwise.
    public static let onlineLearner = ModelKey(checkedId: "online-bpr", version: "1")

    public init(id: String, version: String) throws(ModelKeyError) {
        guard let reason = Self.problem(id: id, version: version) else {
            self.init(checkedId: id, version: version)
            return
        }
        throw ModelKeyError(key: "\(id)@\(version)", reason: reason)
    }

    /// Parses `id@version`.
    public init(parsing text: String) throws(ModelKeyError) {
        guard let at = text.firstIndex(of: "@") else {
            throw ModelKeyError(key: text, reason: "write it as id@version, e.g. online-bpr@1")
        }
        try self.init(id: String(text[..<at]), version: String(text[text.index(after: at)...]))
    }

    private init(checkedId id: String, version: String) {
        self.id = id
        self.version = version
    }

    public var description: String { "\(id)@\(version)" }

    /// The prefix of this model's table names in the state store.
    public var namespace: String { description + "/" }

    public static func < (lhs: ModelKey, rhs: ModelKey) -> Bool {
        lhs.description.utf8.lexicographicallyPrecedes(rhs.description.utf8)
    }

    static func problem(id: String, version: String) -> String? {
        let idCharacters = Set("abcdefghijklmnopqrstuvwxyz0123456789-".utf8)
        let versionCharacters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-".utf8)
        if !(1...48).contains(id.utf8.count) || !id.utf8.allSatisfy(idCharacters.contains)
            || !(id.utf8.first.map { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) } ?? false)
        {
            return "the id must be 1–48 of a-z, 0-9 and '-', starting with a letter"
        }
        if !(1...64).contains(version.utf8.count) || !version.utf8.allSatisfy(versionCharacters.contains) {
            return "the version must be 1–64 of A-Z, a-z, 0-9, '.', '_' and '-'"
        }
        return nil
    }
}

/// Text that is not a model key.
public struct ModelKeyError: Error, Sendable, Equatable, CustomStringConvertible {
    public let key: String
    public let reason: String

    public var description: String { "invalid model \"\(key)\": \(reason)" }
}
