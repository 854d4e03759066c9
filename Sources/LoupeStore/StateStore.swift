import Foundation
import LoupeEvents
import LoupeLMDB

/// Loupe's state: embeddings, per-entity metadata, log positions and model metadata, in one
/// LMDB environment at `<data directory>/state`, which holds any number of models side by side.
///
/// A `StateStore` is one model's view of it (`model`, an id and a version): every table it
/// reads and writes, built-in or additional, is that model's own, named under `id@version/`.
/// So each model has its own kind, dimension, rows and log positions, and the role that writes
/// one never touches another. `opening(_:)` gives another model's view of the same
/// environment; `StoreSnapshot.view(of:)` reads two models in one snapshot.
///
/// Everything is read in snapshots (`read`) and changed in atomic write transactions (`write`).
/// Any number of threads and processes may read at once, never blocked by the writer; writers
/// take turns across processes. A role that folds the log into the store writes the positions
/// it consumed in the same transaction as the state they produced (`setPosition`), so state and
/// positions can never disagree. Layouts and semantics: docs/state-store.md.
public final class StateStore: Sendable {
    /// The map a new store starts with; it doubles whenever it fills up.
    public static let defaultInitialMapSize = 1 << 30

    /// The environment's directory, `<data directory>/state`.
    public let path: String
    /// The data directory.
    public let directory: String
    /// Opened with `readOnly`: `write` fails, and `table(named:)` does not create tables.
    public let isReadOnly: Bool
    /// The model whose tables this view reads and writes.
    public let model: ModelKey
    let environment: LMDBEnvironment
    let tables: BuiltInTables

    /// The layout this version writes: 2, models under `id@version/` (1: one model, tables at
    /// the top level). Recorded in the top-level `loupe_store` table.
    public static let layout = 2
    static let layoutTable = "loupe_store"

    /// Opens model `model`'s view of the store of data directory `directory`, creating the store
    /// and the model's tables if needed unless `readOnly`. What it creates is private (0700
    /// directories, 0600 files); an existing data directory that group or others may enter is
    /// reported on standard error.
    ///
    /// A read-only open creates nothing: it fails with `StoreError.storeNotFound` when there is
    /// no store and `StoreError.modelNotFound` when the store does not hold the model. A store
    /// of the previous layout fails with `StoreError.previousLayout`, which says how to rebuild
    /// it. In one process every `StateStore` of a directory shares one LMDB environment (LMDB
    /// allows no other), so `initialMapSize` applies only to the first open in the process.
    public init(
        directory: String, model: ModelKey, readOnly: Bool = false, initialMapSize: Int = StateStore.defaultInitialMapSize
    ) throws {
        path = URL(fileURLWithPath: directory).appendingPathComponent("state").path
        self.directory = directory
        isReadOnly = readOnly
        self.model = model
        if readOnly {
            guard FileManager.default.fileExists(atPath: path + "/data.mdb") else { throw StoreError.storeNotFound(path: path) }
        } else {
            try PrivateFiles.createDirectory(directory, ifExisting: .warnIfShared)
        }
        environment = try LMDBEnvironment.shared(
            path: path, maxDatabases: Self.maxDatabases, initialMapSize: initialMapSize, readOnly: readOnly)
        try Self.checkLayout(environment, path: path)
        tables = try Self.openTables(environment, model: model, path: path, create: !readOnly)
    }

    private init(sharing other: StateStore, model: ModelKey) throws {
        path = other.path
        directory = other.directory
        isReadOnly = other.isReadOnly
        self.model = model
        environment = other.environment
        tables = try Self.openTables(environment, model: model, path: path, create: !other.isReadOnly)
    }

    /// Model `model`'s view of the same store (created unless read-only, as `init` does).
    public func opening(_ model: ModelKey) throws -> StateStore {
        model == self.model ? self : try StateStore(sharing: self, model: model)
    }

    /// The models the store of data directory `directory` holds, in key order; opens it
    /// read-only (`StoreError.storeNotFound` when there is none).
    public static func models(directory: String) throws -> [ModelKey] {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("state").path
        guard FileManager.default.fileExists(atPath: path + "/data.mdb") else { throw StoreError.storeNotFound(path: path) }
        let environment = try LMDBEnvironment.shared(path: path, maxDatabases: maxDatabases, readOnly: true)
        try checkLayout(environment, path: path)
        return models(in: try environment.read { try $0.databaseNames() })
    }

    /// Named databases an environment may hold: about 15 tables per model.
    static let maxDatabases = 1024

    /// The models the store holds, in key order.
    public func models() throws -> [ModelKey] {
        Self.models(in: try environment.read { try $0.databaseNames() })
    }

    static func models(in names: [String]) -> [ModelKey] {
        var models = Set<ModelKey>()
        for name in names {
            guard let slash = name.firstIndex(of: "/"), let key = try? ModelKey(parsing: String(name[..<slash])) else { continue }
            models.insert(key)
        }
        return models.sorted()
    }

    /// Refuses a store of the previous layout; records the layout in a new one.
    private static func checkLayout(_ environment: LMDBEnvironment, path: String) throws {
        let names = try environment.read { try $0.databaseNames() }
        if names.contains(where: { !$0.contains("/") && $0 != layoutTable }) { throw StoreError.previousLayout(path: path) }
        let layoutKey = Array("layout".utf8)
        if names.contains(layoutTable) {
            let table = try environment.database(layoutTable, create: false)
            let stored = try environment.read { try $0.get(table, layoutKey).map { String(decoding: $0, as: UTF8.self) } }
            guard stored == String(layout) else {
                throw StoreError.corruptRow(
                    table: layoutTable, key: "layout", reason: "layout \(stored ?? "(none)") is not this version's (\(layout))")
            }
        } else if !environment.isReadOnly {
            let table = try environment.database(layoutTable)
            try environment.write { try $0.put(table, layoutKey, Array(String(layout).utf8)) }
        }
    }

    private static func openTables(_ environment: LMDBEnvironment, model: ModelKey, path: String, create: Bool) throws -> BuiltInTables {
        do {
            return try BuiltInTables(environment, namespace: model.namespace, create: create)
        } catch let error as LMDBError where error.isNotFound {
            let available = (try? models(in: environment.read { try $0.databaseNames() }).map(\.description)) ?? []
            throw StoreError.modelNotFound(model: model.description, path: path, available: available)
        }
    }

    /// Runs `body` in a snapshot: every read inside sees the state of one commit. Buffers handed
    /// to `body` (and the snapshot itself) are valid only until it returns.
    public func read<T>(_ body: (StoreSnapshot) throws -> T) throws -> T {
        try environment.read { transaction in try body(StoreSnapshot(transaction, tables, store: self)) }
    }

    /// Runs `body` in the write transaction and commits it atomically; if `body` throws, nothing
    /// of it is stored. When the map is full, the transaction is discarded, the map doubled and
    /// `body` run again from the start, so `body` must have no effects outside the transaction.
    /// Do not call `write` or `table(named:)` inside `body`.
    public func write<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        guard !isReadOnly else { throw StoreError.readOnly(path: path) }
        return try environment.write { transaction in try body(StoreTransaction(transaction, tables, store: self)) }
    }

    /// An additional table of raw bytes, created on first use (unless the store is read-only).
    /// Open tables before the write transaction that uses them; handles stay valid for the
    /// store's life. Names: 1–64 of `a-z 0-9 _ . -`, not one of the built-in `StoreTable`s; the
    /// table is this view's model's own.
    public func table(named name: String) throws -> RawTable {
        try Self.validateTableName(name)
        do {
            return RawTable(name: name, database: try environment.database(model.namespace + name, create: !isReadOnly))
        } catch let error as LMDBError where error.isNotFound {
            throw StoreError.invalidTableName(name: name, reason: "no such table in \(path)")
        }
    }

    /// Bytes of the memory map (the size the data file may reach before the next doubling).
    public var mapSize: Int { environment.mapSize }

    static func validateTableName(_ name: String) throws(StoreError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789_.-".utf8)
        guard (1...64).contains(name.utf8.count), name.utf8.allSatisfy(allowed.contains) else {
            throw .invalidTableName(name: name, reason: "use 1–64 characters of a-z, 0-9, '_', '.', '-'")
        }
        guard StoreTable(rawValue: name) == nil else {
            throw .invalidTableName(name: name, reason: "it is a built-in table; use the typed API")
        }
    }

    /// Every table (built-in and additional) of this view's model as of `snapshot`, sorted by
    /// name bytes, named without the model's prefix. Handles of
    /// additional tables must be opened outside a transaction, so a table created between the
    /// lookup and the snapshot makes the caller try again with a new snapshot.
    func withAllTables<T>(_ body: (StoreSnapshot, [(name: String, database: LMDBDatabase)]) throws -> T) throws -> T {
        while true {
            let names = try environment.read { try $0.databaseNames() }
            var handles: [(name: String, database: LMDBDatabase)] = []
            for name in names where name.hasPrefix(model.namespace) {
                let local = String(name.dropFirst(model.namespace.count))
                let handle = try StoreTable(rawValue: local).map { tables[$0] } ?? environment.database(name, create: false)
                handles.append((local, handle))
            }
            let outcome: T? = try read { snapshot in
                guard try snapshot.transaction.databaseNames() == names else { return nil }
                return try body(snapshot, handles)
            }
            if let outcome { return outcome }
        }
    }
}
