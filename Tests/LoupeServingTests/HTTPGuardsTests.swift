import Foundation
import Hummingbird
import HummingbirdTesting
import LoupeConfig
import LoupeEvents
import LoupeLog
import LoupeHTTP
import LoupeServing
import Testing

/// Settings for a server on `log` with the test token and a short impression flush.
private func guardSettings(_ configure: (inout HTTPSettings) -> Void = { _ in }) -> HTTPSettings {
    var settings = HTTPSettings(server: ServerSettings(), inference: InferenceSettings(), environment: [:])
    settings.apiToken = HTTPTestEnvironment.token
    settings.impressionFlushInterval = .milliseconds(20)
    configure(&settings)
    return settings
}

/// A server started on a free port of 127.0.0.1, and that port.
private func startedServer(_ configure: (inout HTTPSettings) -> Void) async throws -> (RunningServer, Int) {
    let server = try HTTPServer(
        service: FakeRecommendationService(), log: try ControllableLog(),
        settings: guardSettings {
            $0.host = "127.0.0.1"
            $0.port = 0
            configure(&$0)
        }
    ).start()
    // Generous: beside the whole suite on 2 cores, the server's task may wait for a thread.
    guard let port = await server.port(timeout: .seconds(180)) else {
        try? await server.stop()
        throw ControllableLog.Failure(description: "the server did not start listening")
    }
    return (server, port)
}

/// Real sockets against a started server: what a slow, idle or greedy client gets.
@Suite("HTTP connection guards: idle and request timeouts, connection limit")
struct HTTPConnectionGuardTests {
    @Test func anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout() async throws {
        let (server, port) = try await startedServer { $0.idleTimeout = .milliseconds(500) }
        let client = try RawConnection(port: port)
        // The server's idle clock starts once it has read the request, so after this moment: a
        // close measured from here can come late on a loaded machine, never early.
        let sent = ContinuousClock.now
        #expect(client.send("GET /healthz HTTP/1.1\r\nHost: loupe\r\n\r\n"))
        guard case .bytes(let response) = await client.read(wait: .seconds(60)) else {
            Issue.record("no response to the first request")
            try await server.stop()
            return
        }
        #expect(response.hasPrefix("HTTP/1.1 200"))
        let (closed, _) = await client.readUntilClosed(wait: .seconds(60))
        #expect(closed)
        #expect(sent.duration(to: .now) >= .milliseconds(500), "closed before the idle timeout")
        try await server.stop()
    }

    @Test func aClientThatNeverFinishesItsRequestHeadIsCutOff() async throws {
        let (server, port) = try await startedServer { $0.idleTimeout = .milliseconds(500) }
        let client = try RawConnection(port: port)
        #expect(client.send("GET /healthz HTTP/1.1\r\nHost: loupe\r\n"))
        // A header line every 100 ms: the connection is never silent for the idle timeout, but
        // the head never completes.
        let trickle = await client.trickle("X-Slow: 1\r\n", every: .milliseconds(100), for: .seconds(60))
        #expect(trickle.closed, "the slow head was still being accepted after 60 s")
        #expect(!trickle.received.contains("HTTP/1.1 200"))
        try await server.stop()
    }

    @Test func aClientThatTricklesItsBodyIsCutOffAtTheRequestTimeout() async throws {
        // The server reads a body only as fast as the route consumes it (backpressure), and the
        // route runs on Swift's cooperative pool, which a full parallel test run on two cores can
        // stall for seconds: a short idle timeout would then fire first. 10 s leaves the margin.
        let (server, port) = try await startedServer {
            $0.idleTimeout = .seconds(10)
            $0.requestTimeout = .seconds(20)
        }
        let client = try RawConnection(port: port)
        let head =
            "POST /v1/events HTTP/1.1\r\nHost: loupe\r\nAuthorization: Bearer \(HTTPTestEnvironment.token)\r\n"
            + "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n["
        // A byte every 100 ms: each body part resets the idle timer, so only the request timeout
        // ends it. The time is measured from the head's send, so it cannot look early.
        let trickle = await client.trickle(" ", every: .milliseconds(100), for: .seconds(90), opening: head)
        #expect(trickle.closed, "the trickled body was still being accepted after 90 s")
        #expect(trickle.longestPause < .seconds(10), "the client paused longer than the idle timeout: the test proves nothing")
        #expect(trickle.elapsed >= .milliseconds(19_900), "closed before the request timeout")

        // The events route, whose body was cut short, answers the client's fault (to nobody:
        // the connection is gone), not a server error that would page someone.
        var metrics = ""
        let deadline = ContinuousClock.now + .seconds(60)
        while !metrics.contains("code=\"incomplete_request\"}"), ContinuousClock.now < deadline {
            let observer = try RawConnection(port: port)
            #expect(observer.send("GET /metrics HTTP/1.1\r\nHost: loupe\r\nConnection: close\r\n\r\n"))
            metrics = await observer.readUntilClosed(wait: .seconds(60)).received
        }
        #expect(metrics.contains("loupe_http_request_timeouts_total 1"))
        #expect(metrics.contains("loupe_http_errors_total{route=\"/v1/events\",code=\"incomplete_request\"} 1"))
        #expect(!metrics.contains("internal_error"))
        try await server.stop()
    }

    @Test func connectionsBeyondTheLimitWaitUntilOneCloses() async throws {
        let (server, port) = try await startedServer {
            $0.maxConnections = 2
            $0.idleTimeout = .seconds(600)
        }
        var first: RawConnection? = try RawConnection(port: port)
        let second = try RawConnection(port: port)
        for connection in [first!, second] {
            #expect(connection.send("GET /healthz HTTP/1.1\r\nHost: loupe\r\n\r\n"))
            guard case .bytes(let response) = await connection.read(wait: .seconds(60)), response.hasPrefix("HTTP/1.1 200") else {
                Issue.record("a connection within the limit was not served")
                try await server.stop()
                return
            }
        }
        // The kernel completes the handshake, but the server does not accept a third connection.
        let third = try RawConnection(port: port)
        #expect(third.send("GET /healthz HTTP/1.1\r\nHost: loupe\r\n\r\n"))
        #expect(await third.read(wait: .seconds(1)) == .nothing, "a connection beyond the limit was served")
        first = nil
        guard case .bytes(let response) = await third.read(wait: .seconds(60)) else {
            Issue.record("the waiting connection was not served after one closed")
            try await server.stop()
            return
        }
        #expect(response.hasPrefix("HTTP/1.1 200"))
        try await server.stop()
    }
}

/// `/readyz` on a slow or failing log: one question at a time, shared, and no internals in the body.
@Suite("Readiness under load: shared log probes, generic problems")
struct ReadinessProbeTests {
    @Test func concurrentProbesShareOneQuestionToTheLog() async throws {
        let log = try ControllableLog()
        log.answerProbes(after: .milliseconds(300))
        let settings = guardSettings { $0.readinessCacheDuration = .seconds(600) }
        try await HTTPServer(service: FakeRecommendationService(), log: log, settings: settings).makeApplication().test(.router) {
            client in
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<20 { group.addTask { try await client.execute(uri: "/readyz", method: .get).status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: .ok, count: 20))
            #expect(log.partitionCountCalls == 1)
            // Within the cache time the answer is reused.
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)
            #expect(log.partitionCountCalls == 1)
        }
    }

    @Test func aHangingLogGetsOneQuestionNotAQueue() async throws {
        let log = try ControllableLog()
        // The log hangs until released, however long the test takes on a loaded machine.
        log.holdProbes()
        let settings = guardSettings {
            $0.logProbeTimeout = .milliseconds(100)
            $0.readinessCacheDuration = .zero
        }
        try await HTTPServer(service: FakeRecommendationService(), log: log, settings: settings).makeApplication().test(.router) {
            client in
            let answers = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String?).self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        let response = try await client.execute(uri: "/readyz", method: .get)
                        return (response.status, (try json(response)["checks"] as? [String: String])?["log"])
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.allSatisfy { $0.0 == .serviceUnavailable })
            #expect(answers.allSatisfy { $0.1 == "timed_out" })
            // Nothing is cached, yet while the log has not returned nobody asks it again.
            for _ in 0..<5 { #expect(try await client.execute(uri: "/readyz", method: .get).status == .serviceUnavailable) }
            #expect(log.partitionCountCalls == 1)
            // Once the log returns, the next probe asks it again.
            log.releaseProbes()
            var status = HTTPResponse.Status.serviceUnavailable
            let deadline = ContinuousClock.now + .seconds(120)
            while status != .ok, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
                status = try await client.execute(uri: "/readyz", method: .get).status
            }
            #expect(status == .ok)
            #expect(log.partitionCountCalls == 2)
        }
    }

    @Test func aFailingLogIsReportedWithoutItsError() async throws {
        let log = try ControllableLog()
        log.answerProbes(after: .zero, error: "connection refused by 10.0.0.7:9092 secret-internal-detail")
        try await HTTPServer(service: FakeRecommendationService(), log: log, settings: guardSettings()).makeApplication().test(.router) {
            client in
            let response = try await client.execute(uri: "/readyz", method: .get, headers: [requestIdHeader: "req-ready-1"])
            #expect(response.status == .serviceUnavailable)
            let text = String(buffer: response.body)
            #expect(!text.contains("secret-internal-detail"))
            #expect(!text.contains("10.0.0.7"))
            let body = try json(response)
            #expect((body["checks"] as? [String: String])?["log"] == "failed")
            #expect(body["reasons"] as? [String] == ["the log is unreachable; see the server log, request id req-ready-1"])
        }
    }
}

/// 5xx bodies name what failed and the request id; the cause stays in the server log.
@Suite("Server errors: generic bodies")
struct ServerErrorBodyTests {
    @Test func aFailedEventWriteAnswers503WithoutItsCause() async throws {
        let log = try ControllableLog()
        log.failWrites(to: .interactions, 1_000)
        try await HTTPServer(service: FakeRecommendationService(), log: log, settings: guardSettings()).makeApplication().test(.router) {
            client in
            var headers = HTTPEventsTests.authorized
            headers[requestIdHeader] = "req-write-1"
            let response = try await client.execute(
                uri: "/v1/events", method: .post, headers: headers, body: jsonBody("[\(interaction("e-1"))]"))
            #expect(response.status == .serviceUnavailable)
            #expect(!String(buffer: response.body).contains("secret-internal-detail"))
            let error = try errorBody(response)
            #expect(error.code == "log_unavailable")
            #expect(error.message.hasSuffix("see the server log, request id req-write-1"))
        }
    }

    @Test func validationMessagesStaySpecific() async throws {
        try await HTTPServer(service: FakeRecommendationService(), log: try ControllableLog(), settings: guardSettings()).makeApplication()
            .test(.router) { client in
                let response = try await client.execute(uri: "/v1/users/u-1/recommendations?k=two", method: .get)
                #expect(response.status == .badRequest)
                #expect(try errorBody(response).message.contains("two"))
            }
    }
}

/// Impressions whose write fails are tried again before they count as lost.
@Suite("Impressions: bounded retry")
struct ImpressionRetryTests {
    private static func metric(_ name: String, _ client: some TestClientProtocol) async throws -> String? {
        let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
        return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.map { String($0.dropFirst(name.count + 1)) }
    }

    @Test func aFailedImpressionWriteIsRetriedAndWritten() async throws {
        let log = try ControllableLog()
        log.failWrites(to: .impressions, 2)
        let settings = guardSettings {
            $0.impressionWriteAttempts = 3
            $0.impressionRetryBackoff = .milliseconds(10)
        }
        try await HTTPServer(service: FakeRecommendationService(), log: log, settings: settings).makeApplication().test(.router) {
            client in
            #expect(try await client.execute(uri: "/v1/users/u-1/recommendations?k=2", method: .get).status == .ok)
            let deadline = ContinuousClock.now + .seconds(60)
            while try log.recordCount(.impressions) < 1, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(try log.recordCount(.impressions) == 1)
            #expect(try await Self.metric("loupe_impression_write_retries_total", client) == "2")
            #expect(try await Self.metric("loupe_impressions_failed_total", client) == "0")
            #expect(try await Self.metric("loupe_impressions_written_total", client) == "1")
        }
    }

    @Test func anImpressionIsCountedLostAfterItsLastAttempt() async throws {
        let log = try ControllableLog()
        log.failWrites(to: .impressions, 1_000)
        let settings = guardSettings {
            $0.impressionWriteAttempts = 3
            $0.impressionRetryBackoff = .milliseconds(10)
        }
        try await HTTPServer(service: FakeRecommendationService(), log: log, settings: settings).makeApplication().test(.router) {
            client in
            #expect(try await client.execute(uri: "/v1/users/u-1/recommendations?k=2", method: .get).status == .ok)
            var failed = try await Self.metric("loupe_impressions_failed_total", client)
            let deadline = ContinuousClock.now + .seconds(60)
            while failed != "1", ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                failed = try await Self.metric("loupe_impressions_failed_total", client)
            }
            #expect(failed == "1")
            #expect(try await Self.metric("loupe_impression_write_retries_total", client) == "2")
        }
        #expect(try log.recordCount(.impressions) == 0)
    }
}
