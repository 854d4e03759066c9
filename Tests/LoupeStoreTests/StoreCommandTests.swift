import Foundation
import LoupeEvents
import LoupeStore
import Testing

/// `loupe store` in a separate process, reading a store this process has open.
@Suite struct StoreCommandTests {
    static let binary: String = {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("loupe").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return "loupe"
    }()

    static func loupe(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        DispatchQueue.global().async(group: group) { outData = output.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { errData = errors.fileHandleForReading.readDataToEndOfFile() }
        process.waitUntilExit()
        group.wait()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    @Test func checksumInAnotherProcessMatches() throws {
        let (store, directory) = try Scratch.store(dimension: 4)
        try ChecksumTests.populate(store, reversed: false, batches: 3)
        let result = try Self.loupe(["store", "checksum", "--data", directory])
        #expect(result.status == 0, "\(result.stderr)")
        let digest = try store.checksum().digest
        #expect(result.stdout == digest + "\n")
        let tables = try Self.loupe(["store", "checksum", "--tables", "--data", directory])
        let lines = tables.stdout.split(separator: "\n")
        #expect(lines.last.map(String.init) == "\(digest)  total")
        #expect(lines.contains { $0.hasPrefix("-") && $0.contains("seen_events_by_time") } == false)
        #expect(lines.count == StoreTable.allCases.count + 2)
    }

    @Test func statsShowTablesPositionsAndAnUnreachableLog() throws {
        let (store, directory) = try Scratch.store(dimension: 4)
        try store.write { transaction throws in
            try transaction.putUserEmbedding("u", [1, 2, 3, 4])
            try transaction.setPosition(StorePosition(topic: "interactions", partition: 3, offset: 42))
        }
        let result = try Self.loupe(["store", "stats", "--data", directory])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("dimension    4"))
        #expect(result.stdout.contains("user_embeddings"))
        #expect(result.stdout.split(separator: "\n").contains { $0.hasPrefix("interactions") && $0.contains("42") })
        #expect(result.stdout.contains("log unreachable"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/log"))
    }

    @Test func modelsAreListedAndEachIsInspectedOnItsOwn() throws {
        let (store, directory) = try Scratch.store(dimension: 4)
        let second = try store.opening(ModelNamespaceTests.narrow)
        try second.write { transaction throws in
            try transaction.setDimension(2)
            try transaction.setModelMetadata(ModelMetadataKey.algorithm, "online-bpr")
            try transaction.putItemEmbedding("i", [1, 2])
            try transaction.putUser("u", UserRecord(version: 1))
        }
        let models = try Self.loupe(["store", "models", "--data", directory])
        #expect(models.status == 0, "\(models.stderr)")
        let lines = models.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(lines.count == 3)
        #expect(lines.dropFirst().first == ["online-bpr@1", "-", "4", "0", "0", "0"])
        #expect(lines.last == ["online-bpr@2", "online-bpr", "2", "1", "0", "0"])

        let checksum = try Self.loupe(["store", "checksum", "--data", directory, "--model", "online-bpr@2"])
        #expect(checksum.stdout == (try second.checksum().digest) + "\n", "\(checksum.stderr)")
        let stats = try Self.loupe(["store", "stats", "--data", directory, "--model", "online-bpr@2"])
        #expect(stats.stdout.contains("model        online-bpr@2") && stats.stdout.contains("dimension    2"), "\(stats.stderr)")
        let missing = try Self.loupe(["store", "stats", "--data", directory, "--model", "hybrid@1"])
        #expect(missing.status != 0 && missing.stderr.contains("holds no model hybrid@1 (it holds: online-bpr@1, online-bpr@2)"), "\(missing.stderr)")
        let invalid = try Self.loupe(["store", "stats", "--data", directory, "--model", "hybrid"])
        #expect(invalid.status != 0 && invalid.stderr.contains("write it as id@version"), "\(invalid.stderr)")
    }

    @Test func aMissingStoreIsAClearError() throws {
        let directory = Scratch.directory()
        for command in ["stats", "checksum"] {
            let result = try Self.loupe(["store", command, "--data", directory])
            #expect(result.status != 0)
            #expect(result.stderr.contains("no state store at \(directory)/state; run `loupe learn` first"))
        }
        #expect(!FileManager.default.fileExists(atPath: directory))
    }
}
