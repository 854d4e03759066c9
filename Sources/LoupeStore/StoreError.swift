import Foundation

/// A state store operation that cannot be carried out, with enough context to act on.
/// Failures of LMDB itself surface as `LMDBError`, which names the operation.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A read-only open found no store at `path`.
    case storeNotFound(path: String)
    /// A write on a store opened read-only.
    case readOnly(path: String)
    /// A row that does not decode: bad length, unknown layout version, invalid field.
    case corruptRow(table: String, key: String, reason: String)
    /// An embedding row whose length is not the store's dimension.
    case dimensionMismatch(table: String, key: String, expected: Int, actual: Int)
    /// An embedding was written before the store's dimension was set.
    case dimensionNotSet(table: String, key: String)
    /// `setDimension` with a value other than the one the store already has.
    case dimensionConflict(stored: Int, requested: Int)
    /// A record whose fields do not fit its layout (found before any key is involved).
    case invalidRecord(table: String, reason: String)
    /// A key or value the store refuses to write.
    case invalidWrite(table: String, key: String, reason: String)
    /// A name `table(named:)` refuses.
    case invalidTableName(name: String, reason: String)
    /// `table(named:)` called on the thread that holds this store's write transaction.
    case tableOpenedInsideWrite(name: String)
    /// A read-only open of a model the store does not hold.
    case modelNotFound(model: String, path: String, available: [String])
    /// A store written by an earlier layout (one model, its tables at the top level).
    case previousLayout(path: String)

    public var description: String {
        switch self {
        case .storeNotFound(let path):
            return "no state store at \(path)"
        case .readOnly(let path):
            return "the state store at \(path) is open read-only"
        case .corruptRow(let table, let key, let reason):
            return "corrupt row in \(table) at key \"\(key)\": \(reason)"
        case .dimensionMismatch(let table, let key, let expected, let actual):
            return "row for \"\(key)\" in \(table) has \(actual) values; the model's dimension is \(expected)"
        case .dimensionNotSet(let table, let key):
            return "cannot write \"\(key)\" to \(table): the model's dimension is not set (call setDimension first)"
        case .dimensionConflict(let stored, let requested):
            return "the model's dimension is \(stored); it cannot become \(requested) (give the new dimension a new model version: learner.model)"
        case .invalidRecord(let table, let reason):
            return "invalid record for \(table): \(reason)"
        case .invalidWrite(let table, let key, let reason):
            return "cannot write \"\(key)\" to \(table): \(reason)"
        case .invalidTableName(let name, let reason):
            return "invalid table name \"\(name)\": \(reason)"
        case .tableOpenedInsideWrite(let name):
            return "table \"\(name)\" must be opened before the write transaction, not inside it (LMDB would deadlock)"
        case .modelNotFound(let model, let path, let available):
            let held = available.isEmpty ? "none yet" : available.joined(separator: ", ")
            return "the state store at \(path) holds no model \(model) (it holds: \(held)); run the role that writes it first"
        case .previousLayout(let path):
            let data = (path as NSString).deletingLastPathComponent
            return """
                the state store at \(path) was written by an earlier Loupe, which kept one model per store; \
                this version keeps each model under its id and version. Rebuild it from the log: \
                mv \(path) \(path).previous && loupe replay --data \(data) \
                (with Kafka, add the same --config; see docs/state-store.md, "Layout versions")
                """
        }
    }
}
