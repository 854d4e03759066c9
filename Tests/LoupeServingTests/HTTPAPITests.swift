import LoupeEmbeddedLog
import Foundation
import Hummingbird
import HummingbirdTesting
import LoupeConfig
import LoupeEvents
import LoupeLog
import LoupeHTTP
import LoupeServing
import LoupeStore
import Testing

@Suite("HTTP API: reads, validation, request ids, auth")
struct HTTPAPITests {
    @Test func recommendationsAnswerWithTheDocumentedFields() async throws {
        let environment = try HTTPTestEnvironment()
        let service = FakeRecommendationService()
        try await environment.server(service: service).makeApplication().test(.router) { client in
            let response = try await client.execute(
                uri:
                    "/v1/users/u-1/recommendations?k=3&device=mobile&hour=13&min_price=10&max_price=200.5&exclude=frame-0,frame-2",
                method: .get)
            #expect(response.status == .ok)
            let body = try json(response)
            #expect(body["user_id"] as? String == "u-1")
            #expect(body["variant"] as? String == "control")
            #expect(body["model_id"] as? String == "fake")
            #expect(body["model_version"] as? String == "1")
            #expect(body["snapshot"] as? Int == 41)
            #expect(body["cold_start"] as? Bool == false)
            #expect(body["cached"] as? Bool == false)
            #expect((body["positions"] as? [String: [Int]])?["interactions"] == [5, 0, 7])
            let items = try #require(body["items"] as? [[String: Any]])
            #expect(items.map { $0["item_id"] as? String } == ["frame-1", "frame-3", "frame-4"])
            #expect(items.map { $0["position"] as? Int } == [0, 1, 2])
            #expect(items.allSatisfy { $0["reason"] as? String == "personalized" && $0["score"] is Double })
            let requestId = try #require(body["request_id"] as? String)
            #expect(response.headers[requestIdHeader] == requestId)
        }
        let request = try #require(service.lastRequest)
        #expect(
            request
                == RecommendationRequest(
                    userId: "u-1", k: 3, device: "mobile", hour: 13, minPrice: 10, maxPrice: 200.5,
                    exclude: ["frame-0", "frame-2"]))
    }

    @Test func defaultsComeFromTheConfiguration() async throws {
        let environment = try HTTPTestEnvironment()
        let service = FakeRecommendationService()
        try await environment.server(service: service).makeApplication().test(.router) { client in
            let response = try await client.execute(uri: "/v1/users/u%20with%2Fslash/recommendations", method: .get)
            #expect(response.status == .ok)
            #expect(try json(response)["user_id"] as? String == "u with/slash")
        }
        #expect(service.lastRequest == RecommendationRequest(userId: "u with/slash", k: InferenceSettings().numRecommendations))
    }

    @Test(arguments: [
        ("k=abc", "invalid_k"), ("k=0", "invalid_k"), ("k=101", "invalid_k"), ("k=", "invalid_k"), ("k=2.5", "invalid_k"),
        ("hour=25", "invalid_hour"), ("hour=-1", "invalid_hour"), ("device=phone", "invalid_device"),
        ("min_price=-1", "invalid_min_price"), ("max_price=nan", "invalid_max_price"), ("min_price=inf", "invalid_min_price"),
        ("min_price=1e999", "invalid_min_price"), ("min_price=50&max_price=10", "invalid_price_range"),
        ("colour=red", "unknown_parameter"), ("k=3&k=4", "duplicate_parameter"), ("exclude=a,,b", "invalid_exclude"),
        ("exclude=%ZZ", "invalid_query"),
    ])
    func badRecommendationRequestsGet400WithAReason(query: String, code: String) async throws {
        let environment = try HTTPTestEnvironment()
        try await environment.server().makeApplication().test(.router) { client in
            let response = try await client.execute(uri: "/v1/users/u-1/recommendations?\(query)", method: .get)
            #expect(response.status == .badRequest)
            let error = try errorBody(response)
            #expect(error.code == code)
            #expect(!error.message.isEmpty)
        }
    }

    @Test func unknownParametersAreNamed() async throws {
        let environment = try HTTPTestEnvironment()
        try await environment.server().makeApplication().test(.router) { client in
            let response = try await client.execute(uri: "/v1/users/u-1/recommendations?min-price=3", method: .get)
            #expect(response.status == .badRequest)
            #expect(try errorBody(response).message.contains("\"min-price\""))
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(
                String(buffer: metrics.body).contains(
                    #"loupe_http_errors_total{route="/v1/users/{id}/recommendations",code="unknown_parameter"} 1"#))
        }
    }

    @Test func kAboveTheConfiguredLimitIsRefused() async throws {
        let environment = try HTTPTestEnvironment()
        try await environment.server(configure: { $0.maxRecommendations = 20 }).makeApplication().test(.router) { client in
            let response = try await client.execute(uri: "/v1/users/u-1/recommendations?k=21", method: .get)
            #expect(response.status == .badRequest)
            #expect(try errorBody(response).message.contains("1 to 20"))
            #expect(try await client.execute(uri: "/v1/users/u-1/recommendations?k=20", method: .get).status == .ok)
        }
    }

    @Test func tooManyExcludesAreRefused() async throws {
        let environment = try HTTPTestEnvironment()
        let exclude = (0...1000).map { "i\($0)" }.joined(separator: ",")
        try await environment.server().makeApplication().test(.router) { client in
            let response = try await client.execute(uri: "/v1/users/u-1/recommendations?exclude=\(exclude)", method: .get)
            #expect(response.status == .badRequest)
            #expect(try errorBody(response).code == "too_many_excludes")
        }
    }

    @Test func similarItemsAndUnknownItems() async throws {
        let environment = try HTTPTestEnvironment()
        try await environment.server().makeApplication().test(.router) { client in
            let response = try await client.execute(uri: "/v1/items/frame-1/similar?k=2", method: .get)
            #expect(response.status == .ok)
            let body = try json(response)
            #expect(body["item_id"] as? String == "frame-1")
            #expect((body["items"] as? [[String: Any]])?.map { $0["item_id"] as? String } == ["frame-0", "frame-2"])

            let unknown = try await client.execute(uri: "/v1/items/nope/similar", method: .get)
            #expect(unknown.status == .notFound)
            #expect(try errorBody(unknown).code == "unknown_item")

            let badK = try await client.execute(uri: "/v1/items/frame-1/similar?k=x", method: .get)
            #expect(badK.status == .badRequest)
            #expect(try errorBody(badK).code == "invalid_k")
            let extra = try await client.execute(uri: "/v1/items/frame-1/similar?hour=3", method: .get)
            #expect(try errorBody(extra).code == "unknown_parameter")
        }
    }

    @Test func aRecommenderThatIsNotReadyGets503() async throws {
        let environment = try HTTPTestEnvironment()
        let service = FakeRecommendationService()
        service.setReady(false, reason: "no model in the store yet")
        try await environment.server(service: service).makeApplication().test(.router) { client in
            let response = try await client.execute(uri: "/v1/users/u-1/recommendations", method: .get)
            #expect(response.status == .serviceUnavailable)
            let error = try errorBody(response)
            #expect(error.code == "not_ready")
            #expect(error.message.contains("no model in the store yet"))
        }
        #expect(try environment.recordCount(.impressions) == 0)
    }

    @Test func unknownRoutesGetAJSON404() async throws {
        let environment = try HTTPTestEnvironment()
        try await environment.server().makeApplication().test(.router) { client in
            let response = try await client.execute(uri: "/v2/nothing", method: .get)
            #expect(response.status == .notFound)
            #expect(try errorBody(response).code == "route_not_found")
        }
    }

    @Test func requestIdsAreEchoedValidatedOrGenerated() async throws {
        let environment = try HTTPTestEnvironment()
        try await environment.server().makeApplication().test(.router) { client in
            let given = try await client.execute(
                uri: "/v1/users/u-1/recommendations", method: .get, headers: [requestIdHeader: "client-42"])
            #expect(given.headers[requestIdHeader] == "client-42")
            #expect(try json(given)["request_id"] as? String == "client-42")

            let generated = try await client.execute(uri: "/healthz", method: .get)
            #expect(generated.headers[requestIdHeader]?.hasPrefix("req-") == true)

            let invalid = try await client.execute(uri: "/healthz", method: .get, headers: [requestIdHeader: "has space"])
            #expect(invalid.status == .badRequest)
            #expect(try errorBody(invalid).code == "invalid_request_id")
            #expect(invalid.headers[requestIdHeader]?.hasPrefix("req-") == true)
        }
    }

    @Test func protectedReadsNeedTheToken() async throws {
        let environment = try HTTPTestEnvironment()
        try await environment.server(configure: { $0.protectReads = true }).makeApplication().test(.router) { client in
            #expect(try await client.execute(uri: "/v1/users/u-1/recommendations", method: .get).status == .unauthorized)
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .unauthorized)
            let authorized = try await client.execute(
                uri: "/v1/users/u-1/recommendations", method: .get, headers: [.authorization: "Bearer test-token"])
            #expect(authorized.status == .ok)
            // Probes stay open.
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
    }

    @Test func readsAreOpenByDefault() async throws {
        let environment = try HTTPTestEnvironment()
        try await environment.server(token: nil).makeApplication().test(.router) { client in
            let response = try await client.execute(uri: "/v1/users/u-1/recommendations", method: .get)
            #expect(response.status == .ok)
        }
    }

    @Test func tokenFromTheEnvironmentWins() {
        var server = ServerSettings()
        server.apiToken = "from-config"
        #expect(
            HTTPSettings(server: server, inference: InferenceSettings(), environment: ["LOUPE_API_TOKEN": "from-env"]).apiToken
                == "from-env")
        #expect(
            HTTPSettings(server: server, inference: InferenceSettings(), environment: ["LOUPE_API_TOKEN": ""]).apiToken
                == "from-config")
        #expect(HTTPSettings(server: ServerSettings(), inference: InferenceSettings(), environment: [:]).apiToken == nil)
    }

    @Test func impressionQueueSettingsComeFromTheServerSection() {
        var server = ServerSettings()
        server.impressionQueueCapacity = 123
        server.impressionFlushMs = 45
        let settings = HTTPSettings(server: server, inference: InferenceSettings(), environment: [:])
        #expect(settings.impressionQueueCapacity == 123)
        #expect(settings.impressionFlushInterval == .milliseconds(45))
    }

    @Test func liveServerAnswersOverTCP() async throws {
        let environment = try HTTPTestEnvironment()
        try await environment.server(configure: { $0.port = 0 }).makeApplication().test(.live) { client in
            let response = try await client.execute(uri: "/v1/users/u-1/recommendations?k=2", method: .get)
            #expect(response.status == .ok)
            #expect((try json(response)["items"] as? [Any])?.count == 2)
            let bad = try await client.execute(uri: "/v1/users/u-1/recommendations?k=two", method: .get)
            #expect(bad.status == .badRequest)
        }
    }
}

// MARK: - Fixtures shared by the HTTP and OpenAPI suites

let requestIdHeader = HTTPFields.Element.Name("X-Request-Id")!

/// A recommender with a fixed catalog `frame-0` … `frame-9`, recording the last request.
final class FakeRecommendationService: RecommendationService, @unchecked Sendable {
    static let catalog = (0..<10).map { "frame-\($0)" }
    static let model = try! ModelKey(parsing: "fake@1")
    private let lock = NSLock()
    private var recorded: RecommendationRequest?
    private var readiness: (ready: Bool, reason: String?) = (true, nil)

    var lastRequest: RecommendationRequest? {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    func setReady(_ ready: Bool, reason: String? = nil) {
        lock.lock()
        readiness = (ready, reason)
        lock.unlock()
    }

    let positions = [
        StorePosition(topic: "interactions", partition: 0, offset: 5),
        StorePosition(topic: "interactions", partition: 2, offset: 7),
        StorePosition(topic: "catalog", partition: 0, offset: 10),
    ]

    func recommendations(for request: RecommendationRequest) async throws -> RecommendationList {
        let readiness = lock.withLock {
            recorded = request
            return self.readiness
        }
        guard readiness.ready else { throw ServingError.notReady(readiness.reason ?? "not ready") }
        let items = Self.catalog.filter { !request.exclude.contains($0) }.prefix(request.k).enumerated().map {
            RecommendedItem(itemId: $1, score: 1 - Float($0) / 10, reason: .personalized)
        }
        return RecommendationList(
            userId: request.userId, items: items, variant: "control", model: Self.model, snapshot: 41, positions: positions,
            userVersion: 3, coldStart: false, cached: false)
    }

    func similar(to itemId: String, k: Int) throws -> SimilarItems {
        guard status.ready else { throw ServingError.notReady(status.reason ?? "not ready") }
        guard Self.catalog.contains(itemId) else { throw ServingError.unknownItem(itemId) }
        let items = Self.catalog.filter { $0 != itemId }.prefix(k).map {
            RecommendedItem(itemId: $0, score: 0.5, reason: .similarToRecent)
        }
        return SimilarItems(itemId: itemId, items: items, model: Self.model, snapshot: 41, positions: positions)
    }

    func variant(of userId: String) -> String { "control" }

    var status: ServingStatus {
        lock.lock()
        defer { lock.unlock() }
        return ServingStatus(
            models: [
                ModelStatus(
                    model: Self.model, ready: readiness.ready, reason: readiness.reason, snapshot: readiness.ready ? 41 : nil,
                    snapshotAgeSeconds: 0.5, positions: positions, itemCount: Self.catalog.count)
            ], cacheHits: 3, cacheMisses: 1, cacheEntries: 1, cacheBytes: 512)
    }
}

/// An embedded log with Loupe's topics in a fresh temporary directory, and servers on it.
struct HTTPTestEnvironment: Sendable {
    let log: any EventLog
    static let token = "test-token"

    init() throws {
        log = try EmbeddedLog(directory: NSTemporaryDirectory() + "loupe-http-test-\(UUID().uuidString)")
        _ = try log.apply(TopicDefinitions.builtIn)
    }

    func server(
        service: FakeRecommendationService = FakeRecommendationService(), token: String? = HTTPTestEnvironment.token,
        refresh: (@Sendable () throws -> Void)? = nil, configure: (inout HTTPSettings) -> Void = { _ in }
    ) throws -> HTTPServer {
        var settings = HTTPSettings(server: ServerSettings(), inference: InferenceSettings(), environment: [:])
        settings.apiToken = token
        settings.impressionFlushInterval = .milliseconds(20)
        configure(&settings)
        return try HTTPServer(service: service, log: log, settings: settings, refresh: refresh)
    }

    /// Records currently in `topic`, all partitions.
    func recordCount(_ topic: Topic) throws -> Int64 {
        try log.describeTopics().first { $0.name == topic.rawValue }?.retainedRecords ?? 0
    }

    /// Every record of `topic`, waiting up to `timeout` for at least `count`.
    func records(_ topic: Topic, atLeast count: Int, timeout: Duration = .seconds(10)) throws -> [LogRecord] {
        let consumer = try log.makeConsumer(group: nil)
        defer { consumer.close() }
        let partitions = try log.partitionCount(of: topic.rawValue)
        try consumer.assign(
            Dictionary(
                uniqueKeysWithValues: (0..<partitions).map {
                    (TopicPartition(topic.rawValue, Int32($0)), StartPosition.beginning)
                }))
        let deadline = ContinuousClock.now + timeout
        var records: [LogRecord] = []
        repeat {
            records += try consumer.poll(maxRecords: 10_000, timeout: .milliseconds(100))
        } while records.count < count && ContinuousClock.now < deadline
        return records
    }
}

struct ErrorDetail {
    var code: String
    var message: String
}

func json(_ response: TestResponse) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8))
    return try #require(object as? [String: Any], "not a JSON object: \(String(buffer: response.body))")
}

func errorBody(_ response: TestResponse) throws -> ErrorDetail {
    let body = try json(response)
    let error = try #require(body["error"] as? [String: Any], "no error object in \(body)")
    #expect(body["request_id"] is String)
    return ErrorDetail(code: try #require(error["code"] as? String), message: try #require(error["message"] as? String))
}

func jsonBody(_ text: String) -> ByteBuffer {
    ByteBuffer(string: text)
}

/// A valid interaction event, now.
func interaction(_ id: String, user: String = "u-1", item: String = "frame-1") -> String {
    #"{"event_id":"\#(id)","schema_version":1,"type":"click","timestamp":\#(Int64(Date().timeIntervalSince1970 * 1000)),"user_id":"\#(user)","item_id":"\#(item)","session_id":"s-1"}"#
}
