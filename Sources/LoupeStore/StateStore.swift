import Foundation
import LoupeLMDB

/// Loupe's state: embeddings, per-entity metadata, the learner's log positions and model
/// metadata, in one LMDB environment at `<data directory>/state`.
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
    /// Opened with `readOnly`: `write` fails, and `table(named:)` does not create tables.
    public let isReadOnly: Bool
    let environment: LMDBEnvironment
    let tables: BuiltInTables

    /// Opens the store of data directory `directory`, creating it if needed unless `readOnly`.
    /// What it creates is private (0700 directories, 0600 files); an existing data directory
    /// that group or others may enter is reported on standard error.
    ///
    /// A read-only open creates nothing and fails with `StoreError.storeNotFound` when there is
    /// no store. In one process every `StateStore` of a directory shares one LMDB environment
    /// (LMDB allows no other), so `initialMapSize` applies only to the first open in the process.
    public init(directory: String, readOnly: Bool = false, initialMapSize: Int = StateStore.defaultInitialMapSize) throws {
        path = URL(fileURLWithPath: directory).appendingPathComponent("state").path
        isReadOnly = readOnly
        if readOnly {
            guard FileManager.default.fileExists(atPath: path + "/data.mdb") else { throw StoreError.storeNotFound(path: path) }
        } else {
            try PrivateFiles.createDirectory(directory, ifExisting: .warnIfShared)
        }
        environment = try LMDBEnvironment.shared(
            path: path, maxDatabases: 128, initialMapSize: initialMapSize, readOnly: readOnly)
        tables = try BuiltInTables(environment)
    }

    /// Runs `body` in a snapshot: every read inside sees the state of one commit. Buffers handed
    /// to `body` (and the snapshot itself) are valid only until it returns.
    public func read<T>(_ body: (StoreSnapshot) throws -> T) throws -> T {
        try environment.read { transaction in try body(StoreSnapshot(transaction, tables)) }
    }

    /// Runs `body` in the write transaction and commits it atomically; if `body` throws, nothing
    /// of it is stored. When the map is full, the transaction is discarded, the map doubled and
    /// `body` run again from the start, so `body` must have no effects outside the transaction.
    /// Do not call `write` or `table(named:)` inside `body`.
    public func write<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        guard !isReadOnly else { throw StoreError.readOnly(path: path) }
        return try environment.write { transaction in try body(StoreTransaction(transaction, tables)) }
    }

    /// An additional table of raw bytes, created on first use (unless the store is read-only).
    /// Open tables before the write transaction that uses them; handles stay valid for the
    /// store's life. Names: 1–64 of `a-z 0-9 _ . -`, not one of the built-in `StoreTable`s.
    public func table(named name: String) throws -> RawTable {
        try Self.validateTableName(name)
        do {
            return RawTable(name: name, database: try environment.database(name, create: !isReadOnly))
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

    /// Every table (built-in and additional) as of `snapshot`, sorted by name bytes. Handles of
    /// additional tables must be opened outside a transaction, so a table created between the
    /// lookup and the snapshot makes the caller try again with a new snapshot.
    func withAllTables<T>(_ body: (StoreSnapshot, [(name: String, database: LMDBDatabase)]) throws -> T) throws -> T {
        while true {
            let names = try environment.read { try $0.databaseNames() }
            var handles: [(name: String, database: LMDBDatabase)] = []
            for name in names {
                let handle = try StoreTable(rawValue: name).map { tables[$0] } ?? environment.database(name, create: false)
                handles.append((name, handle))
            }
            let outcome: T? = try read { snapshot in
                guard try snapshot.transaction.databaseNames() == names else { return nil }
                return try body(snapshot, handles)
            }
            if let outcome { return outcome }
        }
    }
}
