public import Glibc

/// What Loupe writes is private to the user that runs it: every directory it creates is 0700
/// and every file it writes 0600, whatever the umask (docs/operations.md, "Security").
///
/// A umask can only take bits away, and a strict one (0277) would even make a new directory
/// unusable, so modes are set explicitly after creation rather than left to `mkdir`/`open`.
public enum PrivateFiles {
    public static let directoryMode: mode_t = 0o700
    public static let fileMode: mode_t = 0o600

    /// What to do with a directory that already exists and that group or others may enter.
    public enum ExistingDirectory: Sendable {
        /// Leave it as it is and warn on standard error (once per process): the directory was
        /// named by the user and may be shared on purpose, such as `.` or `/tmp`.
        case warnIfShared
        /// Set it to 0700: the directory holds only Loupe's own files (an LMDB environment).
        case makePrivate
    }

    /// Creates directory `path`, and any missing parents, with mode 0700; see `ExistingDirectory`
    /// for a directory that is already there.
    public static func createDirectory(_ path: String, ifExisting existing: ExistingDirectory) throws(LMDBError) {
        var missing: [String] = []
        var current = trimmingTrailingSlashes(path)
        while !current.isEmpty, !exists(current) {
            missing.append(current)
            current = parent(of: current)
        }
        for directory in missing.reversed() {
            if mkdir(directory, directoryMode) != 0 {
                // Another process may have created it meanwhile; it was Loupe, or the user.
                guard errno == EEXIST else { throw LMDBError(code: errno, operation: "create directory \(directory)") }
                continue
            }
            chmod(directory, directoryMode)
        }
        guard missing.isEmpty else { return }
        switch existing {
        case .warnIfShared: warnIfShared(path)
        case .makePrivate: makePrivate(path, mode: directoryMode)
        }
    }

    /// Opens `path` for writing with `flags` (`O_CREAT` is added), creating it with mode 0600.
    /// A regular file that already exists and belongs to this user is set to 0600 too; anything
    /// else (a device such as `/dev/null`, another user's file) keeps its mode.
    /// Returns the descriptor, or −1 with `errno` set, like `open(2)`.
    public static func open(_ path: String, flags: Int32) -> Int32 {
        let descriptor = Glibc.open(path, flags | O_CREAT | O_CLOEXEC, fileMode)
        guard descriptor >= 0 else { return descriptor }
        var info = stat()
        if fstat(descriptor, &info) == 0, isOwnRegularFile(info), info.st_mode & 0o7777 != fileMode {
            fchmod(descriptor, fileMode)
        }
        return descriptor
    }

    /// Sets the regular file or directory `path` to `mode` if it belongs to this user and is
    /// not already so. A missing path is no error: the caller may not have created it yet.
    public static func makePrivate(_ path: String, mode: mode_t = fileMode) {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_uid == geteuid(), info.st_mode & 0o7777 != mode else { return }
        let type = info.st_mode & S_IFMT
        guard type == S_IFREG || type == S_IFDIR else { return }
        if chmod(path, mode) != 0 {
            warn("cannot make \(path) private (chmod \(octal(mode))): \(String(cString: strerror(errno)))")
        }
    }

    /// Warns, once per path and process, when group or others may enter directory `path`.
    public static func warnIfShared(_ path: String) {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & 0o077 != 0, warnedPaths.insert(path) else { return }
        warn(
            "\(path) is open to group or others (mode \(octal(info.st_mode & 0o7777))); Loupe keeps its own files in it "
                + "private (0700 directories, 0600 files), but to hide their names too: chmod 700 \(path)")
    }

    private static let warnedPaths = WarnedPaths()

    private static func warn(_ message: String) {
        let line = Array("loupe: warning: \(message)\n".utf8)
        _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    private static func isOwnRegularFile(_ info: stat) -> Bool {
        info.st_mode & S_IFMT == S_IFREG && info.st_uid == geteuid()
    }

    private static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    private static func trimmingTrailingSlashes(_ path: String) -> String {
        var path = Substring(path)
        while path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
        return String(path)
    }

    /// The parent of `path`, or "" when there is none to create (the root, or the start of a
    /// relative path, both of which exist).
    private static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "" : trimmingTrailingSlashes(String(path[..<slash]))
    }

    private static func octal(_ mode: mode_t) -> String {
        "0" + String(mode, radix: 8)
    }
}

private final class WarnedPaths: @unchecked Sendable {
    private let lock = ReadWriteLock()
    private var paths: Set<String> = []

    /// Whether `path` was not yet in the set.
    func insert(_ path: String) -> Bool {
        lock.write { paths.insert(path).inserted }
    }
}
