import Foundation
import LoupeConfig
import Testing

/// A secret is never printed: errors about a setting name it and its place, not its value;
/// YAML syntax errors give line and column without the text; descriptions of parsed settings
/// show `<redacted>` for secrets.
@Suite struct SecretRedactionTests {
    static let secret = "Zq7xSECRETdoNotPrint4242"
    static let numericSecret = "987654321012345"

    /// (YAML, what the message must contain: the setting and its `line:column`).
    static let badFiles: [(yaml: String, expected: [String])] = [
        // Wrongly typed secrets.
        ("server:\n  api_token: \(numericSecret)\n", ["server.api_token must be a string", "configuration:2:3"]),
        ("server:\n  api_token: [\(secret)]\n", ["server.api_token must be a string", "configuration:2:3"]),
        ("server:\n  api_token: {a: \(secret)}\n", ["server.api_token must be a string", "configuration:2:3"]),
        (
            "log:\n  kafka:\n    sasl.password: [\(secret)]\n",
            ["log.kafka.sasl.password must be a string, number or boolean", ":3:5"]
        ),
        ("log:\n  kafka:\n    sasl.pasword: {x: \(secret)}\n", ["log.kafka.sasl.pasword", ":3:5"]),
        ("log:\n  kafka: \(secret)\n", ["log.kafka must be a mapping", ":2:3"]),
        ("server: \(secret)\n", ["server must be a mapping", ":1:1"]),
        // A misspelt secret setting is unknown, and named without its value.
        ("server:\n  api_tokn: \(secret)\n", ["unknown setting server.api_tokn", "configuration:2:3"]),
        // Another setting's error, next to a secret.
        ("server:\n  api_token: \(secret)\n  port: 70000\n", ["server.port must be at most 65535", "configuration:1:1"]),
        // YAML syntax errors on the secret's line.
        ("server:\n  api_token: \"\(secret)\n  port: 1\n", ["not valid YAML", "configuration:"]),
        ("server:\n  api_token: '\(secret)\n", ["not valid YAML", "configuration:"]),
        ("server:\n  api_token: \(secret): x\n", ["not valid YAML", "configuration:2:"]),
        ("server:\n  api_token: {\(secret)\n", ["not valid YAML", "configuration:"]),
        ("server:\n  api_token: *\(secret)\n", ["not valid YAML", "configuration:2:"]),
        ("server:\n  api_token: @\(secret)\n", ["not valid YAML", "configuration:2:"]),
        ("server:\n\tapi_token: \(secret)\n", ["not valid YAML", "configuration:2:"]),
        ("log:\n  kafka:\n    sasl.password: \(secret)\n   ssl.key.password: \(secret)\n", ["not valid YAML", "configuration:"]),
        ("log:\n  kafka:\n    sasl.password: \"\(secret)\\q\"\n", ["not valid YAML", "configuration:3:"]),
    ]

    @Test(arguments: badFiles.indices)
    func errorsNameTheSettingButNotTheSecret(index: Int) {
        let (yaml, expected) = Self.badFiles[index]
        do {
            _ = try LoupeConfiguration.parse(yaml)
            Issue.record("accepted \(yaml)")
        } catch {
            Self.expectNoSecret(in: "\(error)", String(reflecting: error), error.localizedDescription)
            for part in expected { #expect("\(error)".contains(part), "\(error)") }
        }
    }

    @Test func loadedFileErrorsGiveTheFileAndLine() throws {
        let path = NSTemporaryDirectory() + "loupe-secret-\(UUID().uuidString).yaml"
        try "log:\n  data: ./d\nserver:\n  api_token: \(Self.numericSecret)\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try LoupeConfiguration.load(path: path)
            Issue.record("accepted a numeric api_token")
        } catch {
            #expect("\(error)".hasPrefix("\(path):4:3: server.api_token must be a string"), "\(error)")
            Self.expectNoSecret(in: "\(error)")
        }
    }

    @Test func descriptionsOfParsedSettingsRedactSecrets() throws {
        let configuration = try LoupeConfiguration.parse(
            """
            log:
              kafka:
                security.protocol: SASL_SSL
                sasl.password: \(Self.secret)
                sasl.pasword: \(Self.secret)
                ssl.key.password: \(Self.secret)
                ssl.keystore.password: \(Self.secret)
                ssl.key.pem: \(Self.secret)
                sasl.oauthbearer.client.secret: \(Self.secret)
            server:
              api_token: \(Self.secret)
            """, source: "loupe.yaml")
        #expect(configuration.server.apiToken == Self.secret)
        #expect(configuration.log.kafka["sasl.pasword"] == Self.secret)
        #expect(configuration.log.kafkaOrigins["sasl.pasword"] == "loupe.yaml:5:5")
        var dumped = ""
        dump(configuration, to: &dumped)
        Self.expectNoSecret(
            in: "\(configuration)", String(reflecting: configuration), dumped, "\(configuration.server)", "\(configuration.log)")
        #expect("\(configuration.server)".contains("<redacted>"))
    }

    @Test func secretNames() {
        for name in [
            "server.api_token", "sasl.password", "ssl.key.password", "ssl.keystore.password", "sasl.oauthbearer.client.secret",
            "ssl.key.pem", "sasl.oauthbearer.config", "ssl_key",
        ] {
            #expect(SecretSettings.isSecret(name: name), "\(name)")
        }
        for name in ["security.protocol", "sasl.mechanisms", "acks", "linger.ms", "server.port"] {
            #expect(!SecretSettings.isSecret(name: name), "\(name)")
        }
        #expect(SecretSettings.isSecret(path: "log.kafka.sasl.pasword"))
        #expect(SecretSettings.redacting(["ab", "abc"], in: "x abc ab y") == "x <redacted> <redacted> y")
    }

    static func expectNoSecret(in texts: String..., sourceLocation: SourceLocation = #_sourceLocation) {
        for text in texts {
            #expect(
                !text.contains(secret) && !text.contains(numericSecret), "a secret was printed: \(text)",
                sourceLocation: sourceLocation)
        }
    }
}
