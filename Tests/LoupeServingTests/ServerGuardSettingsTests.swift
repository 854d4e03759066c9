import LoupeConfig
import LoupeEvents
import LoupeLog
import LoupeHTTP
import LoupeServing
import Testing

/// The `server:` keys of the connection guards, readiness probe and impression retries.
@Suite("Server guard settings")
struct ServerGuardSettingsTests {
    @Test func defaultsBoundEveryConnection() {
        let settings = HTTPSettings(server: ServerSettings(), inference: InferenceSettings(), environment: [:])
        #expect(settings.idleTimeout == .seconds(30))
        #expect(settings.requestTimeout == .seconds(30))
        #expect(settings.maxConnections == 512)
        #expect(settings.readinessCacheDuration == .seconds(1))
        #expect(settings.logProbeTimeout == .seconds(2))
        #expect(settings.impressionWriteAttempts == 3)
        #expect(settings.impressionRetryBackoff == .milliseconds(100))
    }

    @Test func theKeysAreReadFromTheServerSection() throws {
        let configuration = try LoupeConfiguration.parse(
            """
            server:
              idle_timeout_ms: 5000
              request_timeout_ms: 8000
              max_connections: 64
              readiness_cache_ms: 250
              log_probe_timeout_ms: 1500
              impression_write_attempts: 5
              impression_retry_backoff_ms: 0
            """)
        let settings = HTTPSettings(server: configuration.server, inference: configuration.inference, environment: [:])
        #expect(settings.idleTimeout == .seconds(5))
        #expect(settings.requestTimeout == .seconds(8))
        #expect(settings.maxConnections == 64)
        #expect(settings.readinessCacheDuration == .milliseconds(250))
        #expect(settings.logProbeTimeout == .milliseconds(1500))
        #expect(settings.impressionWriteAttempts == 5)
        #expect(settings.impressionRetryBackoff == .zero)
    }

    @Test(arguments: [
        ("server:\n  idle_timeout_ms: 0\n", "server.idle_timeout_ms must be a positive integer"),
        ("server:\n  idle_timeout_ms: 50\n", "server.idle_timeout_ms must be between 100 (0.1 s) and 3600000 (1 h), got 50"),
        ("server:\n  request_timeout_ms: 7200000\n", "server.request_timeout_ms must be between 100"),
        ("server:\n  max_connections: -5\n", "server.max_connections must be a positive integer"),
        ("server:\n  max_connections: unlimited\n", "server.max_connections must be a positive integer"),
        ("server:\n  readiness_cache_ms: 120000\n", "server.readiness_cache_ms must be at most 60000"),
        ("server:\n  log_probe_timeout_ms: 0\n", "server.log_probe_timeout_ms must be a positive integer"),
        ("server:\n  impression_write_attempts: 0\n", "server.impression_write_attempts must be a positive integer"),
        ("server:\n  impression_write_attempts: 11\n", "server.impression_write_attempts must be at most 10"),
        ("server:\n  impression_retry_backoff_ms: -1\n", "server.impression_retry_backoff_ms must be a non-negative integer"),
        ("server:\n  impression_retry_backoff_ms: 40000\n", "server.impression_retry_backoff_ms must be at most 30000"),
    ])
    func badValuesAreRefusedWithTheirKey(yaml: String, message: String) {
        do {
            _ = try LoupeConfiguration.parse(yaml)
            Issue.record("accepted \(yaml)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    @Test func impressionsAreNotKeptForever() {
        let impressions = TopicDefinitions.builtIn.first { $0.name == Topic.impressions.rawValue }
        #expect(impressions?.config["retention.ms"] == "2592000000")
        #expect(impressions?.config["cleanup.policy"] == "delete")
    }
}
