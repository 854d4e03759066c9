import Foundation
import Glibc
import Testing

/// What the `loupe` binary writes is private under a permissive umask: the data directory,
/// the log's and the store's directories 0700; their LMDB files, the log's `appended` file and
/// the files commands write 0600. An existing data directory open to others gets a warning.
@Suite(.serialized) struct PrivateFilesCLITests {
    static func mode(_ path: String) -> mode_t {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return info.st_mode & 0o7777
    }

    static func expectMode(_ path: String, _ expected: mode_t, sourceLocation: SourceLocation = #_sourceLocation) {
        let actual = mode(path)
        #expect(actual == expected, "\(path): 0\(String(actual, radix: 8))", sourceLocation: sourceLocation)
    }

    @Test func commandsWritePrivateFiles() async throws {
        umask(0o022)
        let root = NSTemporaryDirectory() + "loupe-private-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let data = root + "/data"
        let events = root + "/events.jsonl"
        try await LoupeProcess.run(["topics", "apply", "--data", data])
        try await LoupeProcess.run([
            "generate", "--events", "2000", "--seed", "5", "--users", "50", "--items", "40", "--out", events,
        ])
        try await LoupeProcess.run(["produce", "--data", data, "--file", events])
        try await LoupeProcess.run(["learn", "--until-end", "--data", data])
        let recommendations = root + "/recommendations.jsonl"
        try await LoupeProcess.run(["recommend", "--all", "--k", "3", "--data", data, "--out", recommendations])

        for directory in [data, data + "/log", data + "/state"] { Self.expectMode(directory, 0o700) }
        for file in [
            data + "/log/data.mdb", data + "/log/lock.mdb", data + "/log/appended", data + "/state/data.mdb",
            data + "/state/lock.mdb", events, recommendations,
        ] {
            Self.expectMode(file, 0o600)
        }
    }

    @Test func aSharedDataDirectoryIsReportedAndKept() async throws {
        umask(0o022)
        let data = NSTemporaryDirectory() + "loupe-private-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        chmod(data, 0o755)
        let run = try await LoupeProcess.run(["topics", "apply", "--data", data])
        #expect(run.stderr.contains("warning: \(data) is open to group or others (mode 0755)"), "\(run.stderr)")
        Self.expectMode(data, 0o755)
        Self.expectMode(data + "/log", 0o700)
        Self.expectMode(data + "/log/data.mdb", 0o600)
    }
}
