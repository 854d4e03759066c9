import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `loupe serve` and `loupe learn` as separate processes on one data directory, as deployed:
/// events posted over HTTP reach the log, the learner folds them, and the next answers — from a
/// newer snapshot — reflect them; the cache never answers from an older state of the user.
@Suite(.serialized) struct ServeEndToEndTests {
    struct Response {
        var status: Int
        var json: [String: Any]
    }

    static func call(_ port: Int, _ path: String, body: Data? = nil, token: String? = nil) async throws -> Response {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.timeoutInterval = 10
        if let body {
            request.httpMethod = "POST"
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return Response(status: (response as! HTTPURLResponse).statusCode, json: json)
    }

    static func freePort() throws -> Int {
        let socket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(socket, address, length) == 0 && getsockname(socket, address, &length) == 0
            }
        }
        guard bound else { throw TestSetupError("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func start(_ arguments: [String], environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: LoupeProcess.binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func items(_ response: Response) -> [String] {
        (response.json["items"] as? [[String: Any]] ?? []).compactMap { $0["item_id"] as? String }
    }

    static func userVersion(_ response: Response) -> Int {
        response.json["user_version"] as? Int ?? -1
    }

    @Test(arguments: LoupeProcess.Backend.allCases)
    func answersFollowTheLearnerAndTheCacheNeverServesAnOlderState(backend: LoupeProcess.Backend) async throws {
        var log = try LoupeProcess.isolatedLog(backend)
        // A short refresh interval, so that the test sees new snapshots quickly.
        let config = NSTemporaryDirectory() + "loupe-serve-\(UUID().uuidString).yaml"
        var yaml = "inference:\n  snapshot_refresh_ms: 100\nlearner:\n  max_delay_ms: 50\n"
        if let index = log.firstIndex(of: "--config") {
            yaml = try String(contentsOfFile: log[index + 1], encoding: .utf8) + yaml
            log.removeSubrange(index...index + 1)
        }
        try yaml.write(toFile: config, atomically: true, encoding: .utf8)
        log += ["--config", config]

        try await LoupeProcess.run(["topics", "apply"] + log)
        let generated = try await LoupeProcess.run(["generate", "--events", "20000", "--seed", "31", "--users", "300", "--items", "200"])
        try await LoupeProcess.run(["produce"] + log, stdin: generated.stdout)
        try await LoupeProcess.run(["learn", "--until-end"] + log)

        let token = "e2e-\(UUID().uuidString)"
        let port = try Self.freePort()
        let learner = try Self.start(["learn"] + log)
        let server = try Self.start(["serve", "--port", String(port)] + log, environment: ["LOUPE_API_TOKEN": token])
        defer {
            for process in [learner, server] where process.isRunning { process.terminate() }
        }

        var ready = false
        for _ in 0..<300 where !ready {
            ready = (try? await Self.call(port, "/readyz"))?.status == 200
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(ready, "loupe serve did not become ready")
        guard ready else { return }

        let user = "user-000007"
        let path = "/v1/users/\(user)/recommendations?k=10"
        let first = try await Self.call(port, path)
        #expect(first.status == 200)
        let before = Self.items(first)
        let versionBefore = Self.userVersion(first)
        #expect(before.count == 10 && versionBefore > 0)
        let again = try await Self.call(port, path)
        #expect(again.json["cached"] as? Bool == true && Self.items(again) == before, "the same state is served from the cache")

        // The user buys the top three: once learned, they must leave the list (already purchased).
        let bought = Array(before.prefix(3))
        let now = Int(Date().timeIntervalSince1970 * 1000)
        let events = bought.enumerated().map { index, item in
            #"{"event_id":"e2e-\#(UUID().uuidString)","schema_version":1,"type":"purchase","timestamp":\#(now + index),"user_id":"\#(user)","item_id":"\#(item)","session_id":"e2e"}"#
        }
        let body = Data("[\(events.joined(separator: ","))]".utf8)
        #expect(try await Self.call(port, "/v1/events", body: body).status == 401, "a write without the token is refused")
        let posted = try await Self.call(port, "/v1/events", body: body, token: token)
        #expect(posted.status == 202)

        // Every answer from now on is either from the state before the purchases (user version
        // as before) or from a state that includes them, and then none of the bought items may
        // appear — whether computed or cached.
        var after: Response?
        for _ in 0..<300 {
            let response = try await Self.call(port, path)
            #expect(response.status == 200)
            let version = Self.userVersion(response)
            #expect(version >= versionBefore, "an answer from an older state of the user")
            if version >= versionBefore + bought.count {
                after = response
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        guard let after else {
            Issue.record("the learner's update never reached the served snapshot")
            return
        }
        #expect(Set(Self.items(after)).isDisjoint(with: bought), "purchased items are filtered out")
        #expect(Self.items(after) != before)
        let cachedAfter = try await Self.call(port, path)
        #expect(Self.userVersion(cachedAfter) >= Self.userVersion(after))
        #expect(Set(Self.items(cachedAfter)).isDisjoint(with: bought))

        server.terminate()
        await server.exited()
        #expect(server.terminationStatus == 0, "SIGTERM stops the service cleanly")
        learner.terminate()
        await learner.exited()
        #expect(learner.terminationStatus == 0)
    }
}
