import Foundation
import Testing

/// Runs the `loupe` binary built next to the tests, as a user would from a shell.
struct LoupeProcess {
    struct Output {
        var status: Int32
        var stdout: Data
        var stderr: String

        var lines: [String] {
            String(decoding: stdout, as: UTF8.self).split(separator: "\n").map(String.init)
        }
    }

    /// `LOUPE_BIN` when set (ops/test.sh points it at a release build, which the learner tests
    /// need to finish in reasonable time); else the `loupe` built beside the test bundle.
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["LOUPE_BIN"], !path.isEmpty { return path }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("loupe").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/loupe").path
    }()

    /// The backends the CLI tests run against. Kafka needs LOUPE_TEST_BROKERS (ops/test.sh
    /// starts the broker and sets it); without it the Kafka cases fail rather than skip.
    enum Backend: String, CaseIterable, CustomStringConvertible {
        case embedded, kafka
        var description: String { rawValue }
    }

    /// Global options for a fresh, isolated log and store: a new data directory, and for Kafka
    /// a config file with a unique topic prefix.
    static func isolatedLog(_ backend: Backend) throws -> [String] {
        let directory = NSTemporaryDirectory() + "loupe-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        switch backend {
        case .embedded:
            return ["--data", directory + "/data"]
        case .kafka:
            guard let brokers = ProcessInfo.processInfo.environment["LOUPE_TEST_BROKERS"], !brokers.isEmpty else {
                throw TestSetupError(
                    "LOUPE_TEST_BROKERS is not set: start the broker (ops/broker.sh start; export LOUPE_TEST_BROKERS=$(ops/broker.sh address)) or run ops/test.sh")
            }
            let config = directory + "/loupe.yaml"
            let prefix = "t\(UUID().uuidString.prefix(8).lowercased())."
            try "log:\n  topic_prefix: \"\(prefix)\"\n  kafka:\n    receive.message.max.bytes: 1000000000\n".write(
                toFile: config, atomically: true, encoding: .utf8)
            // --data holds the state store; the log is Kafka.
            return ["--brokers", brokers, "--config", config, "--data", directory + "/data"]
        }
    }

    /// Runs `loupe` with `arguments` to its end. The wait happens on a thread of its own, not on
    /// one of Swift's cooperative threads (two on a 2-core machine), so that tests running
    /// processes do not starve the other suites' tasks. `environment` is added to this process's.
    @discardableResult
    static func run(
        _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:], expectSuccess: Bool = true
    ) async throws -> Output {
        try await onOwnThread {
            try runBlocking(arguments, stdin: stdin, environment: environment, expectSuccess: expectSuccess)
        }
    }

    private static func runBlocking(
        _ arguments: [String], stdin: Data?, environment: [String: String], expectSuccess: Bool
    ) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let input = Pipe()
        process.standardInput = input
        try process.run()
        // Read both pipes while the process runs so that neither can fill up and block it.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        DispatchQueue.global().async(group: group) { outData = output.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { errData = errors.fileHandleForReading.readDataToEndOfFile() }
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        group.wait()
        let result = Output(status: process.terminationStatus, stdout: outData, stderr: String(decoding: errData, as: UTF8.self))
        if expectSuccess, result.status != 0 {
            throw TestSetupError("loupe \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result
    }
}

/// Runs blocking `work` on a new thread and waits for it without holding a cooperative thread.
func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

extension Process {
    /// `waitUntilExit` without holding a cooperative thread.
    func exited() async {
        _ = try? await onOwnThread { self.waitUntilExit() }
    }
}

struct TestSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
