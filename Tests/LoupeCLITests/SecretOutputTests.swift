import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The `loupe` binary never prints a secret: not for a misspelt Kafka property, a wrongly typed
/// token or a YAML syntax error on the secret's line (errors name the setting and
/// `file:line:column` instead), and not while serving with the token from the environment.
@Suite struct SecretOutputTests {
    static let secret = "Zq7xSECRETdoNotPrint4242"
    static let numericSecret = "987654321012345"

    static func configFile(_ text: String) throws -> String {
        let directory = NSTemporaryDirectory() + "loupe-secret-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/loupe.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func expectNoSecret(_ texts: String..., sourceLocation: SourceLocation = #_sourceLocation) {
        for text in texts {
            #expect(
                !text.contains(secret) && !text.contains(numericSecret), "a secret was printed: \(text)",
                sourceLocation: sourceLocation)
        }
    }

    /// (configuration, extra arguments, what stderr must say besides the file's path).
    static let failures: [(config: String, arguments: [String], expected: String)] = [
        (
            "log:\n  kafka:\n    security.protocol: SASL_PLAINTEXT\n    sasl.pasword: \(secret)\n", ["--brokers", "127.0.0.1:9"],
            ":4:5) for Kafka"
        ),
        ("log:\n  kafka:\n    sasl.password: [\(secret)]\n", [], ":3:5: log.kafka.sasl.password must be"),
        ("server:\n  api_token: \(numericSecret)\n", [], ":2:3: server.api_token must be a string"),
        ("server:\n  api_token: \"\(secret)\n  port: 1\n", [], ": not valid YAML"),
        ("log:\n  kafka:\n    sasl.password: \(secret): x\n", ["--brokers", "127.0.0.1:9"], ":3:"),
    ]

    @Test(arguments: failures.indices)
    func configurationErrorsNameThePlaceNotTheSecret(index: Int) async throws {
        let (config, arguments, expected) = Self.failures[index]
        let path = try Self.configFile(config)
        let data = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("data").path
        let run = try await LoupeProcess.run(
            ["topics", "list", "--config", path, "--data", data] + arguments, expectSuccess: false)
        #expect(run.status != 0)
        #expect(run.stderr.contains(path), "\(run.stderr)")
        #expect(run.stderr.contains(expected), "\(run.stderr)")
        Self.expectNoSecret(run.stderr, String(decoding: run.stdout, as: UTF8.self))
    }

    /// `serve` with the token in the file and in the environment: nothing it prints, and no
    /// answer to a wrong or missing token, contains either.
    @Test func serveNeverPrintsTheToken() async throws {
        let (directory, _) = try RecommendCommandTests.makeStore()
        let config = try Self.configFile("server:\n  api_token: \(Self.numericSecret)x\n")
        try await LoupeProcess.run(["topics", "apply", "--data", directory])
        let port = try ServeEndToEndTests.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: LoupeProcess.binary)
        process.arguments = ["serve", "--port", String(port), "--data", directory, "--config", config]
        process.environment = ProcessInfo.processInfo.environment.merging(["LOUPE_API_TOKEN": Self.secret]) { $1 }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        let readers = DispatchGroup()
        DispatchQueue.global().async(group: readers) { outData = output.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: readers) { errData = errors.fileHandleForReading.readDataToEndOfFile() }

        var ready = false
        for _ in 0..<300 where !ready {
            ready = (try? await ServeEndToEndTests.call(port, "/healthz"))?.status == 200
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(ready, "loupe serve did not start")
        let body = Data("{\"events\": []}".utf8)
        for token in [nil, "wrong", Self.numericSecret + "x"] as [String?] {
            let answer = try await ServeEndToEndTests.call(port, "/v1/events", body: body, token: token)
            #expect(answer.status == 401, "token \(token ?? "none")")
            let json = String(decoding: try JSONSerialization.data(withJSONObject: answer.json), as: UTF8.self)
            Self.expectNoSecret(json)
            #expect(!json.contains(Self.numericSecret))
        }
        _ = try await ServeEndToEndTests.call(port, "/v1/users/user-01/recommendations?k=3")
        _ = try? await ServeEndToEndTests.call(port, "/metrics")

        process.terminate()
        await process.exited()
        _ = try await onOwnThread { readers.wait() }
        let printed = String(decoding: outData, as: UTF8.self) + String(decoding: errData, as: UTF8.self)
        #expect(printed.contains("listening"), "\(printed)")
        Self.expectNoSecret(printed)
    }
}
