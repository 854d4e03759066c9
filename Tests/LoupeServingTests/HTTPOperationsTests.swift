import LoupeConfig
import LoupeEmbeddedLog
import Foundation
import Hummingbird
import HummingbirdTesting
import LoupeEvents
import LoupeLog
import LoupeHTTP
import LoupeServing
import Testing

@Suite("HTTP API: probes, metrics, impressions, refresh")
struct HTTPOperationsTests {
    @Test func healthzAnswersWhileTheRecommenderIsNotReady() async throws {
        let environment = try HTTPTestEnvironment()
        let service = FakeRecommendationService()
        service.setReady(false, reason: "no model in the store yet")
        try await environment.server(service: service).makeApplication().test(.router) { client in
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
            #expect(try json(health)["status"] as? String == "alive")
        }
    }

    @Test func readyzReportsReadiness() async throws {
        let environment = try HTTPTestEnvironment()
        let service = FakeRecommendationService()
        try await environment.server(service: service).makeApplication().test(.router) { client in
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            #expect(try json(ready)["ready"] as? Bool == true)

            service.setReady(false, reason: "no model in the store yet")
            let notReady = try await client.execute(uri: "/readyz", method: .get)
            #expect(notReady.status == .serviceUnavailable)
            let body = try json(notReady)
            #expect(body["ready"] as? Bool == false)
            #expect(body["reasons"] as? [String] == ["fake@1: no model in the store yet"])
            let models = try #require(body["models"] as? [[String: Any]])
            #expect(models.map { $0["model_id"] as? String } == ["fake"] && models.map { $0["ready"] as? Bool } == [false])
            #expect((body["checks"] as? [String: String])?["log"] == "ok")
        }
    }

    @Test func readyzReportsAMissingImpressionsTopic() async throws {
        // A log without Loupe's topics (nobody ran `loupe topics apply`).
        let log = try EmbeddedLog(directory: NSTemporaryDirectory() + "loupe-http-test-\(UUID().uuidString)")
        var settings = HTTPSettings(server: .init(), inference: .init(), environment: [:])
        settings.apiToken = HTTPTestEnvironment.token
        try await HTTPServer(service: FakeRecommendationService(), log: log, settings: settings).makeApplication().test(.router) {
            client in
            let response = try await client.execute(uri: "/readyz", method: .get)
            #expect(response.status == .serviceUnavailable)
            #expect((try json(response)["checks"] as? [String: String])?["log"] == "failed")
        }
    }

    @Test func metricsExposeTheDocumentedNames() async throws {
        let environment = try HTTPTestEnvironment()
        try await environment.server().makeApplication().test(.router) { client in
            _ = try await client.execute(uri: "/v1/users/u-1/recommendations", method: .get)
            _ = try await client.execute(uri: "/v1/users/u-1/recommendations?k=0", method: .get)
            _ = try await client.execute(
                uri: "/v1/events", method: .post, headers: HTTPEventsTests.authorized,
                body: jsonBody("[\(interaction("e-1")), 1]"))
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = String(buffer: response.body)
            for name in Self.documentedMetrics {
                #expect(text.contains("\n\(name)") || text.hasPrefix(name), "missing \(name)")
            }
            #expect(
                text.contains(#"loupe_http_requests_total{route="/v1/users/{id}/recommendations",method="GET",status="200"} 1"#))
            #expect(
                text.contains(
                    #"loupe_http_request_duration_seconds_bucket{route="/v1/users/{id}/recommendations",method="GET",status="400""#
                ))
            #expect(text.contains("loupe_cache_hit_ratio 0.75"))
            #expect(text.contains(#"loupe_consumer_lag_records{topic="interactions"} "#))
            #expect(text.contains("loupe_log_reachable 1"))
        }
    }

    /// Every metric docs/serving.md lists.
    static let documentedMetrics = [
        "loupe_http_requests_total", "loupe_http_request_duration_seconds", "loupe_http_errors_total",
        "loupe_events_accepted_total",
        "loupe_events_rejected_total", "loupe_impressions_written_total", "loupe_impressions_failed_total",
        "loupe_impressions_dropped_total",
        "loupe_impressions_queued", "loupe_cache_hits_total", "loupe_cache_misses_total", "loupe_cache_hit_ratio",
        "loupe_cache_entries",
        "loupe_cache_bytes", "loupe_snapshot_age_seconds", "loupe_snapshot_refresh_failures_total", "loupe_recommender_ready",
        "loupe_catalog_items", "loupe_consumer_lag_records", "loupe_log_reachable", "loupe_impression_write_retries_total",
        "loupe_http_connections_open", "loupe_http_request_timeouts_total",
    ]

    @Test func consumerLagCountsRecordsNotYetLearned() async throws {
        let environment = try HTTPTestEnvironment()
        try await environment.server().makeApplication().test(.router) { client in
            let events = (0..<40).map { interaction("e-\($0)", user: "u-\($0)") }.joined(separator: ",")
            #expect(
                try await client.execute(
                    uri: "/v1/events", method: .post, headers: HTTPEventsTests.authorized, body: jsonBody("[\(events)]")
                ).status
                    == .accepted)
            // 40 records over the partitions; the fake state has consumed offsets 5 and 7 of partitions 0 and 2.
            var expected: Int64 = 0
            let consumed: [Int32: Int64] = [0: 5, 2: 7]
            for partition in 0..<Int32(try environment.log.partitionCount(of: "interactions")) {
                let high = try environment.log.watermarks(TopicPartition("interactions", partition)).high
                expected += max(0, high - (consumed[partition] ?? 0))
            }
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(
                text.contains(#"loupe_consumer_lag_records{topic="interactions"} \#(Double(expected))"#)
                    || text.contains(#"loupe_consumer_lag_records{topic="interactions"} \#(expected)"#))
        }
    }

    @Test func everyServedListIsWrittenAsAnImpression() async throws {
        let environment = try HTTPTestEnvironment()
        try await environment.server().makeApplication().test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/users/u-7/recommendations?k=3", method: .get, headers: [requestIdHeader: "req-impression-1"])
            #expect(response.status == .ok)
            // Written in the background, while the server keeps running.
            let records = try environment.records(.impressions, atLeast: 1)
            #expect(records.count == 1)
            #expect(records.first?.key == Array("u-7".utf8))
            guard case .impression(let impression)? = try records.first.map({ try EventCodec.decode($0.value) }) else {
                Issue.record("no impression")
                return
            }
            #expect(impression.requestId == "req-impression-1")
            #expect(impression.userId == "u-7")
            #expect(impression.items.map(\.itemId) == ["frame-0", "frame-1", "frame-2"])
            #expect(impression.items.map(\.position) == [0, 1, 2])
            #expect(impression.modelId == "fake")
            #expect(impression.modelVersion == "1")
            #expect(impression.variant == "control")
        }
    }

    @Test func impressionsQueuedAtShutdownAreFlushed() async throws {
        let environment = try HTTPTestEnvironment()
        // A flush interval longer than the test: only the shutdown flush can write them.
        try await environment.server(configure: { $0.impressionFlushInterval = .seconds(3600) }).makeApplication().test(.router) {
            client in
            for user in 0..<5 {
                let response = try await client.execute(uri: "/v1/users/u-\(user)/recommendations", method: .get)
                #expect(response.status == .ok)
            }
        }
        #expect(try environment.recordCount(.impressions) == 5)
    }

    @Test func aFullImpressionQueueDropsAndCountsButNeverBlocks() async throws {
        let environment = try HTTPTestEnvironment()
        try await environment.server(configure: {
            $0.impressionQueueCapacity = 2
            $0.impressionFlushInterval = .seconds(3600)
        }).makeApplication().test(.router) { client in
            for user in 0..<5 {
                #expect(try await client.execute(uri: "/v1/users/u-\(user)/recommendations", method: .get).status == .ok)
            }
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(text.contains("loupe_impressions_dropped_total 3"))
        }
        #expect(try environment.recordCount(.impressions) == 2)
    }

    @Test func theSnapshotIsRefreshedPeriodically() async throws {
        let environment = try HTTPTestEnvironment()
        let refreshes = RefreshCount()
        let server = try environment.server(
            refresh: { refreshes.increment() }, configure: { $0.snapshotRefreshInterval = .milliseconds(10) })
        try await server.makeApplication().test(.router) { _ in
            let deadline = ContinuousClock.now + .seconds(10)
            while refreshes.value < 3, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        #expect(refreshes.value >= 3)
    }
}

private final class RefreshCount: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }

    func increment() {
        lock.lock()
        count += 1
        lock.unlock()
    }
}

/// A server started in this process (`HTTPServer.start()`, as `loupe bench serve` runs it)
/// answers on its port, and `stop()` shuts it down gracefully: the impressions it queued are
/// written to the log before `stop()` returns, and the port is closed.
@Suite struct StartedServerTests {
    @Test func aStartedServerStopsGracefullyAndWritesItsQueuedImpressions() async throws {
        let environment = try HTTPTestEnvironment()
        let port = try Self.freePort()
        let server = try environment.server(configure: { settings in
            settings.host = "127.0.0.1"
            settings.port = port
            // Nothing is flushed on a timer during the test: only the shutdown writes them.
            settings.impressionFlushInterval = .seconds(3_600)
        }).start()
        // Generous: beside the whole suite on 2 cores, the server's task may wait for a thread.
        var statuses: [Int] = []
        let deadline = ContinuousClock.now + .seconds(180)
        while statuses.isEmpty, ContinuousClock.now < deadline {
            if let status = await Self.get("/healthz", port: port) { statuses.append(status) } else { try await Task.sleep(for: .milliseconds(50)) }
        }
        for user in ["u-1", "u-2", "u-3"] { statuses.append(await Self.get("/v1/users/\(user)/recommendations?k=2", port: port) ?? -1) }
        #expect(statuses == [200, 200, 200, 200])
        #expect(try environment.recordCount(.impressions) == 0)
        try await server.stop()
        #expect(try environment.recordCount(.impressions) == 3)
        #expect(await Self.get("/healthz", port: port) == nil)
    }

    /// `get` on a Dispatch thread: its blocking socket calls must not hold one of the few
    /// threads the server's tasks (and the other suites' tests) run on.
    static func get(_ path: String, port: Int) async -> Int? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: blockingGet(path, port: port)) }
        }
    }

    /// A port that was free a moment ago.
    static func freePort() throws -> Int {
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(probe) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, length) == 0 && getsockname(probe, $0, &length) == 0 }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    /// The status of `GET path` on a new connection (closed after the response), or nil when
    /// nothing answers.
    static func blockingGet(_ path: String, port: Int) -> Int? {
        let connection = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(connection) }
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(connection, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else { return nil }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4_096)
        while true {
            let received = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            guard received > 0 else { break }
            response += chunk[0..<received]
        }
        let head = String(decoding: response.prefix(12), as: UTF8.self)
        guard head.hasPrefix("HTTP/1.1 ") else { return nil }
        return Int(head.dropFirst(9).prefix(3))
    }
}
