import LoupeEvents
import Foundation
import Glibc
import LoupeLMDB
import LoupeStore
import Testing

/// What Loupe creates is private, whatever the umask: 0700 directories, 0600 files.
@Suite struct PrivateFilesTests {
    static func mode(_ path: String) -> mode_t {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return info.st_mode & 0o7777
    }

    static func scratch() -> String {
        NSTemporaryDirectory() + "loupe-private-\(UUID().uuidString)"
    }

    @Test func aNewStoreIsPrivateUnderAPermissiveUmask() throws {
        umask(0o022)
        let root = Self.scratch()
        let data = root + "/deep/data"
        let store = try StateStore(directory: data, model: .onlineLearner)
        try store.write { try $0.setDimension(4) }
        for directory in [root, root + "/deep", data, data + "/state"] {
            #expect(Self.mode(directory) == 0o700, "\(directory): \(String(Self.mode(directory), radix: 8))")
        }
        for file in [data + "/state/data.mdb", data + "/state/lock.mdb"] {
            #expect(Self.mode(file) == 0o600, "\(file): \(String(Self.mode(file), radix: 8))")
        }
    }

    /// A store made before Loupe kept files private: its own directory and files are made
    /// private when it is opened for writing; the data directory, named by the user, is left
    /// as it is (with a warning on standard error).
    @Test func anOlderStoreIsMadePrivateButTheDataDirectoryIsLeftAlone() throws {
        umask(0o022)
        let data = Self.scratch()
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        chmod(data, 0o755)
        do {
            let store = try StateStore(directory: data, model: .onlineLearner)
            try store.write { try $0.setDimension(4) }
        }
        chmod(data + "/state", 0o755)
        chmod(data + "/state/data.mdb", 0o644)
        chmod(data + "/state/lock.mdb", 0o666)
        // Another process opens it (this process shares one environment per path).
        let reopened = try LMDBEnvironment(path: data + "/state")
        _ = reopened
        #expect(Self.mode(data + "/state") == 0o700)
        #expect(Self.mode(data + "/state/data.mdb") == 0o600)
        #expect(Self.mode(data + "/state/lock.mdb") == 0o600)
        #expect(Self.mode(data) == 0o755)
    }

    @Test func filesOpenedForWritingArePrivate() throws {
        umask(0o022)
        let root = Self.scratch()
        try PrivateFiles.createDirectory(root, ifExisting: .warnIfShared)
        #expect(Self.mode(root) == 0o700)
        let new = root + "/new.jsonl"
        let descriptor = PrivateFiles.open(new, flags: O_WRONLY | O_TRUNC)
        #expect(descriptor >= 0)
        close(descriptor)
        #expect(Self.mode(new) == 0o600)

        let old = root + "/old.jsonl"
        #expect(FileManager.default.createFile(atPath: old, contents: Data("x".utf8), attributes: [.posixPermissions: 0o644]))
        #expect(Self.mode(old) == 0o644)
        let again = PrivateFiles.open(old, flags: O_WRONLY | O_TRUNC)
        close(again)
        #expect(Self.mode(old) == 0o600)

        // A device is written to but never changed.
        let before = Self.mode("/dev/null")
        let null = PrivateFiles.open("/dev/null", flags: O_WRONLY)
        #expect(null >= 0)
        close(null)
        #expect(Self.mode("/dev/null") == before)
    }

    @Test func existingDirectoriesAreWarnedAboutOrMadePrivate() throws {
        umask(0o022)
        let shared = Self.scratch()
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        chmod(shared, 0o755)
        try PrivateFiles.createDirectory(shared, ifExisting: .warnIfShared)
        #expect(Self.mode(shared) == 0o755)
        try PrivateFiles.createDirectory(shared + "/", ifExisting: .makePrivate)
        #expect(Self.mode(shared) == 0o700)
    }
}
