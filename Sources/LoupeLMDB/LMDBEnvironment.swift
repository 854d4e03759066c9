import CLMDB
import Glibc

/// One LMDB environment (a directory with `data.mdb` and `lock.mdb`), shared by every thread of
/// a process and by any number of processes.
///
/// Reads run in read transactions (snapshots that never block the writer); writes run one at a
/// time across all processes. When the map is full, `write` grows it and runs the body again;
/// when another process has grown it, transactions adopt the new size. The lock below only
/// guards resizing, which LMDB requires to happen with no transaction of this process open.
public final class LMDBEnvironment: @unchecked Sendable {
    let handle: OpaquePointer
    public let path: String
    /// Opened with `MDB_RDONLY`: reads only, and nothing is created on disk.
    public let isReadOnly: Bool
    private let resizeLock = ReadWriteLock()
    private var databases: [String: MDB_dbi] = [:]
    private let databasesLock = ReadWriteLock()
    /// The thread inside `write`, so that a nested write fails instead of deadlocking on
    /// LMDB's writer mutex (which the thread already holds).
    private var writer: pthread_t?
    private let writerLock = ReadWriteLock()

    /// Opens (creating if needed) the environment in directory `path`. Opened for writing, the
    /// directory is made 0700 and its files 0600 (`PrivateFiles`).
    /// - Parameters:
    ///   - maxDatabases: how many named databases may exist.
    ///   - initialMapSize: the starting map size; it doubles whenever it fills up.
    ///   - readOnly: open an existing environment for reading only; neither the directory nor
    ///     its files are created, and write transactions fail.
    public init(path: String, maxDatabases: Int = 64, initialMapSize: Int = 1 << 30, readOnly: Bool = false) throws {
        self.path = path
        self.isReadOnly = readOnly
        if !readOnly { try PrivateFiles.createDirectory(path, ifExisting: .makePrivate) }
        var environment: OpaquePointer?
        try check(mdb_env_create(&environment), "create LMDB environment")
        guard let environment else { throw LMDBError(code: EINVAL, operation: "create LMDB environment") }
        do {
            try check(mdb_env_set_maxdbs(environment, MDB_dbi(maxDatabases)), "set max databases")
            try check(mdb_env_set_maxreaders(environment, 510), "set max readers")
            try check(mdb_env_set_mapsize(environment, initialMapSize), "set map size")
            // NOTLS: read transactions belong to the caller, not the thread, so Swift tasks
            // may resume a snapshot on any thread.
            var flags = UInt32(MDB_NOTLS)
            if readOnly { flags |= UInt32(MDB_RDONLY) }
            // A read-only open may still create lock.mdb, so the mode matters there too.
            try check(mdb_env_open(environment, path, flags, PrivateFiles.fileMode), "open LMDB environment at \(path)")
            if !readOnly {
                // Files of an environment created before Loupe made them private, or under a
                // umask that the mode above could not override, are set to 0600 here.
                PrivateFiles.makePrivate(path + "/data.mdb")
                PrivateFiles.makePrivate(path + "/lock.mdb")
                // Frees the reader slots of processes that died in a read transaction (a
                // killed `loupe serve`, say): while held, they keep old pages from reuse and
                // the file grows.
                var cleared: Int32 = 0
                try check(mdb_reader_check(environment, &cleared), "clear stale readers of \(path)")
            }
        } catch {
            mdb_env_close(environment)
            throw error
        }
        handle = environment
    }

    deinit {
        mdb_env_close(handle)
    }

    /// The database `name`, created on first use unless the environment is read-only.
    /// Call it outside any write transaction of this thread: it runs a transaction of its own.
    public func database(_ name: String, create: Bool = true) throws -> LMDBDatabase {
        if let dbi = databasesLock.read({ databases[name] }) { return LMDBDatabase(dbi: dbi, name: name) }
        let dbi: MDB_dbi
        if isReadOnly {
            dbi = try openExistingDatabase(name)
        } else {
            dbi = try write { transaction in
                var dbi: MDB_dbi = 0
                try check(
                    mdb_dbi_open(transaction.handle, name, create ? UInt32(MDB_CREATE) : 0, &dbi),
                    "open database \(name) in \(path)")
                return dbi
            }
        }
        databasesLock.write { databases[name] = dbi }
        return LMDBDatabase(dbi: dbi, name: name)
    }

    /// Opens a database of a read-only environment in a read transaction, which is committed
    /// rather than aborted because only a commit keeps the handle open for later transactions.
    private func openExistingDatabase(_ name: String) throws -> MDB_dbi {
        while true {
            let dbi: MDB_dbi? = try resizeLock.read { () throws -> MDB_dbi? in
                var transaction: OpaquePointer?
                let code = mdb_txn_begin(handle, nil, UInt32(MDB_RDONLY), &transaction)
                if code == MDB_MAP_RESIZED { return nil }
                try check(code, "begin read transaction in \(path)")
                var dbi: MDB_dbi = 0
                let open = mdb_dbi_open(transaction, name, 0, &dbi)
                if open != 0 {
                    mdb_txn_abort(transaction)
                    throw LMDBError(code: open, operation: "open database \(name) in \(path)")
                }
                try check(mdb_txn_commit(transaction), "open database \(name) in \(path)")
                return dbi
            }
            if let dbi { return dbi }
            try adoptGrownMap()
        }
    }

    /// Runs `body` in a read-only snapshot. Values read are valid only inside `body`.
    public func read<T>(_ body: (LMDBTransaction) throws -> T) throws -> T {
        while true {
            let outcome: Result<T, any Error>? = try resizeLock.read { () throws -> Result<T, any Error>? in
                var transaction: OpaquePointer?
                let code = mdb_txn_begin(handle, nil, UInt32(MDB_RDONLY), &transaction)
                if code == MDB_MAP_RESIZED { return nil }
                try check(code, "begin read transaction in \(path)")
                defer { mdb_txn_abort(transaction) }
                return Result { try body(LMDBTransaction(handle: transaction!, environment: self)) }
            }
            if let outcome { return try outcome.get() }
            try adoptGrownMap()
        }
    }

    /// Runs `body` in the write transaction and commits it. If the map fills up, the
    /// transaction is aborted, the map doubled, and `body` runs again from the start, so
    /// `body` must not have effects outside the transaction that a retry would repeat.
    /// A write (or `database` opening a new database) inside `body` on the same thread throws
    /// (EDEADLK) instead of waiting forever for the transaction it is part of.
    public func write<T>(_ body: (LMDBTransaction) throws -> T) throws -> T {
        let thread = pthread_self()
        if writerLock.read({ writer.map { pthread_equal($0, thread) != 0 } ?? false }) {
            throw LMDBError(code: EDEADLK, operation: "begin a write transaction in \(path) inside another on the same thread")
        }
        while true {
            let outcome: Result<T, any Error>? = try resizeLock.read { () throws -> Result<T, any Error>? in
                var transaction: OpaquePointer?
                let code = mdb_txn_begin(handle, nil, 0, &transaction)
                if code == MDB_MAP_RESIZED { return nil }
                try check(code, "begin write transaction in \(path)")
                writerLock.write { writer = thread }
                defer { writerLock.write { writer = nil } }
                let result: T
                do {
                    result = try body(LMDBTransaction(handle: transaction!, environment: self))
                } catch let error as LMDBError where error.isMapFull {
                    mdb_txn_abort(transaction)
                    return .failure(error)
                } catch {
                    mdb_txn_abort(transaction)
                    throw error
                }
                let commit = mdb_txn_commit(transaction)
                if commit == MDB_MAP_FULL { return .failure(LMDBError(code: commit, operation: "commit")) }
                try check(commit, "commit write transaction in \(path)" + Self.storageHint(commit, directory: path))
                return .success(result)
            }
            switch outcome {
            case .none:
                try adoptGrownMap()
            case .success(let value):
                return value
            case .failure:
                try growMap()
            }
        }
    }

    /// Makes the last durable commit visible to this process's readers, when the writer that
    /// made it was killed before it published it.
    ///
    /// A commit is durable once LMDB has written its meta page; readers, though, take the
    /// transaction id from the lock file, which the writer updates just after that write. A
    /// writer killed between the two (SIGKILL arrives during the synchronous meta write) leaves a
    /// commit that every process already sharing the lock file reads past, until the next
    /// writer takes the writer lock: LMDB then finds its dead owner and publishes the last
    /// commit. This takes and releases the writer lock, writing nothing. Only tools that read
    /// right after killing a writer need it (`loupe bench chaos`); a role's next write does it.
    public func publishCommitOfKilledWriter() throws {
        try write { _ in }
    }

    /// Bytes of the map (the most the data file may grow to before the next doubling).
    public var mapSize: Int {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        return info.me_mapsize
    }

    /// Flushes data to disk (only needed if the environment was opened without syncing).
    public func sync() throws {
        try check(mdb_env_sync(handle, 1), "sync \(path)")
    }

    private func growMap() throws {
        try resizeLock.write {
            let doubled = mapSize * 2
            try check(mdb_env_set_mapsize(handle, doubled), "grow map of \(path) to \(doubled) bytes")
        }
    }

    private func adoptGrownMap() throws {
        try resizeLock.write {
            try check(mdb_env_set_mapsize(handle, 0), "adopt grown map of \(path)")
        }
    }
}

/// A named database (table) of an environment.
public struct LMDBDatabase: Sendable {
    let dbi: MDB_dbi
    public let name: String
}

/// A pthread read-write lock; readers share, writers exclude.
final class ReadWriteLock: @unchecked Sendable {
    private var lock = pthread_rwlock_t()

    init() {
        pthread_rwlock_init(&lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(&lock)
    }

    func read<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(&lock)
        defer { pthread_rwlock_unlock(&lock) }
        return try body()
    }

    func write<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(&lock)
        defer { pthread_rwlock_unlock(&lock) }
        return try body()
    }
}

extension LMDBEnvironment {
    private static let registry = EnvironmentRegistry()

    /// The process's one environment for `path`. LMDB forbids opening the same environment
    /// twice in one process (its locks are per process), so every user in a process shares it.
    /// `maxDatabases` and `initialMapSize` apply when this call is the one that opens it.
    /// A read-only request is served by an environment already open for writing; a request to
    /// write to an environment this process has open read-only fails.
    public static func shared(
        path: String, maxDatabases: Int = 64, initialMapSize: Int = 1 << 30, readOnly: Bool = false
    ) throws -> LMDBEnvironment {
        try registry.environment(path: path, maxDatabases: maxDatabases, initialMapSize: initialMapSize, readOnly: readOnly)
    }
}

private final class EnvironmentRegistry: @unchecked Sendable {
    private struct WeakEnvironment {
        weak var environment: LMDBEnvironment?
    }

    private let lock = ReadWriteLock()
    private var open: [String: WeakEnvironment] = [:]

    func environment(path: String, maxDatabases: Int, initialMapSize: Int, readOnly: Bool) throws -> LMDBEnvironment {
        if !readOnly { try PrivateFiles.createDirectory(path, ifExisting: .makePrivate) }
        let key = realpath(path, nil).map { pointer in
            defer { free(pointer) }
            return String(cString: pointer)
        } ?? path
        return try lock.write {
            if let existing = open[key]?.environment {
                if existing.isReadOnly, !readOnly {
                    throw LMDBError(code: EBUSY, operation: "open \(path) for writing while this process has it open read-only")
                }
                return existing
            }
            let environment = try LMDBEnvironment(
                path: path, maxDatabases: maxDatabases, initialMapSize: initialMapSize, readOnly: readOnly)
            open[key] = WeakEnvironment(environment: environment)
            return environment
        }
    }
}

extension LMDBEnvironment {
    /// For a commit that failed to reach the disk (EIO, ENOSPC, EFBIG, EDQUOT): what may have
    /// stopped it — the process's file size limit, the free space — so the error names a cause.
    static func storageHint(_ code: Int32, directory: String) -> String {
        guard [EIO, ENOSPC, EFBIG, EDQUOT].contains(code) else { return "" }
        var causes: [String] = []
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_FSIZE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max {
            causes.append("this process may write files of at most \(limit.rlim_cur) bytes (ulimit -f)")
        }
        var fileStatus = stat()
        if stat(directory + "/data.mdb", &fileStatus) == 0 { causes.append("data.mdb is \(fileStatus.st_size) bytes") }
        var disk = statvfs()
        if statvfs(directory, &disk) == 0 {
            causes.append("\(UInt64(disk.f_bavail) * UInt64(disk.f_frsize) / 1_048_576) MiB are free on its disk")
        }
        return " — the write did not reach the disk, and nothing of this transaction was committed; "
            + "is the disk full or the file at its size limit? " + causes.joined(separator: ", ")
    }
}
