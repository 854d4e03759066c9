import CLMDB


/// A transaction, valid only inside the `read`/`write` closure that received it. Buffers it
/// returns point into the memory map and are valid only while the transaction is.
public struct LMDBTransaction {
    let handle: OpaquePointer
    let environment: LMDBEnvironment

    /// The value stored under `key`, or nil.
    public func get(_ database: LMDBDatabase, _ key: [UInt8]) throws -> UnsafeRawBufferPointer? {
        try key.withUnsafeBytes { try get(database, $0) }
    }

    /// The value stored under `key`, or nil; the key may live anywhere (no array needed).
    public func get(_ database: LMDBDatabase, _ key: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer? {
        var keyValue = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var value = MDB_val()
        let code = mdb_get(handle, database.dbi, &keyValue, &value)
        if code == MDB_NOTFOUND { return nil }
        try check(code, "get from \(database.name)")
        return UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size)
    }

    public func put(_ database: LMDBDatabase, _ key: [UInt8], _ value: [UInt8], append: Bool = false) throws {
        try key.withUnsafeBytes { keyBytes in
            try value.withUnsafeBytes { valueBytes in try put(database, keyBytes, valueBytes, append: append) }
        }
    }

    public func put(
        _ database: LMDBDatabase, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, append: Bool = false
    ) throws {
        var keyValue = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var dataValue = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try check(
            mdb_put(handle, database.dbi, &keyValue, &dataValue, append ? UInt32(MDB_APPEND) : 0),
            "put into \(database.name)")
    }

    /// Removes `key`; returns whether it was there.
    @discardableResult
    public func delete(_ database: LMDBDatabase, _ key: [UInt8]) throws -> Bool {
        try key.withUnsafeBytes { try delete(database, $0) }
    }

    /// Removes `key`; returns whether it was there.
    @discardableResult
    public func delete(_ database: LMDBDatabase, _ key: UnsafeRawBufferPointer) throws -> Bool {
        var keyValue = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        let code = mdb_del(handle, database.dbi, &keyValue, nil)
        if code == MDB_NOTFOUND { return false }
        try check(code, "delete from \(database.name)")
        return true
    }

    /// Number of entries in the database.
    public func count(_ database: LMDBDatabase) throws -> Int {
        try statistics(database).entries
    }

    /// The database's B-tree statistics (`mdb_stat`) as of this transaction.
    public func statistics(_ database: LMDBDatabase) throws -> LMDBStatistics {
        var stat = MDB_stat()
        try check(mdb_stat(handle, database.dbi, &stat), "stat \(database.name)")
        return LMDBStatistics(
            pageSize: Int(stat.ms_psize), depth: Int(stat.ms_depth), branchPages: stat.ms_branch_pages,
            leafPages: stat.ms_leaf_pages, overflowPages: stat.ms_overflow_pages, entries: stat.ms_entries)
    }

    /// The names of the environment's named databases as of this transaction, in byte order.
    /// They are the keys of LMDB's main database, which is otherwise left unused.
    public func databaseNames() throws -> [String] {
        var main: MDB_dbi = 0
        try check(mdb_dbi_open(handle, nil, 0, &main), "open the main database of \(environment.path)")
        let cursor = try self.cursor(LMDBDatabase(dbi: main, name: "(main)"))
        var names: [String] = []
        var entry = try cursor.first()
        while let current = entry {
            names.append(String(decoding: current.key, as: UTF8.self))
            entry = try cursor.next()
        }
        return names
    }

    public func cursor(_ database: LMDBDatabase) throws -> LMDBCursor {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, database.dbi, &cursor), "open cursor on \(database.name)")
        return LMDBCursor(handle: cursor!, database: database)
    }
}

/// A position in a database, ordered by key (bytewise). Close it before the transaction ends.
public final class LMDBCursor {
    public typealias Entry = (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)

    private let handle: OpaquePointer
    private let database: LMDBDatabase

    init(handle: OpaquePointer, database: LMDBDatabase) {
        self.handle = handle
        self.database = database
    }

    deinit {
        mdb_cursor_close(handle)
    }

    public func first() throws -> Entry? { try move(MDB_FIRST) }
    public func last() throws -> Entry? { try move(MDB_LAST) }
    public func next() throws -> Entry? { try move(MDB_NEXT) }
    public func previous() throws -> Entry? { try move(MDB_PREV) }

    /// The first entry whose key is greater than or equal to `key`.
    public func seek(atOrAfter key: [UInt8]) throws -> Entry? {
        try key.withUnsafeBytes { try seek(atOrAfter: $0) }
    }

    /// The first entry whose key is greater than or equal to `key`.
    public func seek(atOrAfter key: UnsafeRawBufferPointer) throws -> Entry? {
        var keyValue = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var value = MDB_val()
        let code = mdb_cursor_get(handle, &keyValue, &value, MDB_SET_RANGE)
        if code == MDB_NOTFOUND { return nil }
        try check(code, "seek in \(database.name)")
        return (UnsafeRawBufferPointer(start: keyValue.mv_data, count: keyValue.mv_size),
                UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))
    }

    /// Deletes the entry at the cursor; the cursor then stands before the next entry.
    public func deleteCurrent() throws {
        try check(mdb_cursor_del(handle, 0), "delete at cursor in \(database.name)")
    }

    private func move(_ operation: MDB_cursor_op) throws -> Entry? {
        var keyValue = MDB_val()
        var value = MDB_val()
        let code = mdb_cursor_get(handle, &keyValue, &value, operation)
        if code == MDB_NOTFOUND { return nil }
        try check(code, "move cursor in \(database.name)")
        return (UnsafeRawBufferPointer(start: keyValue.mv_data, count: keyValue.mv_size),
                UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))
    }
}

/// What `mdb_stat` reports for one database.
public struct LMDBStatistics: Sendable, Equatable {
    public var pageSize: Int
    public var depth: Int
    public var branchPages: Int
    public var leafPages: Int
    public var overflowPages: Int
    public var entries: Int

    /// Bytes of the pages the database's B-tree occupies.
    public var bytes: Int { pageSize * (branchPages + leafPages + overflowPages) }
}
