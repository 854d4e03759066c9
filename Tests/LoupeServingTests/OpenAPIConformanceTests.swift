import Foundation
import Hummingbird
import HummingbirdTesting
import LoupeHTTP
import LoupeServing
import Testing
import Yams

/// docs/openapi.yaml against the running application: every documented operation exists, and
/// whatever it answers — to good requests and to the bad ones below — is a documented status
/// with a body that has the documented required fields.
@Suite("OpenAPI document conformance")
struct OpenAPIConformanceTests {
    /// The routes the application serves; the document must describe exactly these.
    static let servedOperations: Set<String> = [
        "GET /v1/users/{id}/recommendations", "GET /v1/items/{id}/similar", "POST /v1/events", "GET /healthz", "GET /readyz",
        "GET /metrics",
    ]

    @Test func theDocumentDescribesExactlyTheServedRoutes() throws {
        let document = try OpenAPIDocument.load()
        #expect(document.version.hasPrefix("3.1"))
        #expect(Set(document.operations.map(\.name)) == Self.servedOperations)
        for operation in document.operations {
            #expect(!operation.responses.isEmpty, "\(operation.name) documents no responses")
        }
    }

    @Test func everyOperationAnswersAsDocumented() async throws {
        let environment = try HTTPTestEnvironment()
        let service = FakeRecommendationService()
        try await environment.server(service: service).makeApplication().test(.router) { client in
            let document = try OpenAPIDocument.load()
            for operation in document.operations {
                for probe in operation.probes() {
                    if probe.notReady { service.setReady(false, reason: "probe: not ready") }
                    let response = try await client.execute(
                        uri: probe.uri, method: probe.method, headers: probe.headers, body: probe.body)
                    if probe.notReady { service.setReady(true) }
                    try document.check(response, of: operation, probe: probe)
                }
            }
        }
    }
}

/// A request sent to one operation, and what it should provoke.
struct OpenAPIProbe {
    var what: String
    var uri: String
    var method: HTTPRequest.Method
    var headers: HTTPFields
    var body: ByteBuffer?
    /// The status class it must get, when the probe decides it (2 = success).
    var expectedClass: Int?
    var notReady = false
}

struct OpenAPIOperation {
    var path: String
    var method: String
    var specification: [String: Any]

    var name: String { "\(method.uppercased()) \(path)" }
    var responses: [String: Any] { specification["responses"] as? [String: Any] ?? [:] }
    var parameters: [[String: Any]] { specification["parameters"] as? [[String: Any]] ?? [] }

    /// Whether the operation can be called without a token (`security` lists `{}`).
    var allowsAnonymous: Bool {
        (specification["security"] as? [[String: Any]])?.contains { $0.isEmpty } ?? true
    }
}

struct OpenAPIDocument {
    var root: [String: Any]

    static func load() throws -> OpenAPIDocument {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/openapi.yaml")
            .standardized
        let text = try String(contentsOf: url, encoding: .utf8)
        let root = try #require(try Yams.load(yaml: text) as? [String: Any], "docs/openapi.yaml is not a mapping")
        return OpenAPIDocument(root: root)
    }

    var version: String { root["openapi"] as? String ?? "" }

    var operations: [OpenAPIOperation] {
        let paths = root["paths"] as? [String: Any] ?? [:]
        return paths.keys.sorted().flatMap { path in
            let item = paths[path] as? [String: Any] ?? [:]
            return ["get", "put", "post", "delete", "patch", "head", "options"].compactMap { method in
                (item[method] as? [String: Any]).map {
                    OpenAPIOperation(path: path, method: method, specification: resolve($0) as? [String: Any] ?? [:])
                }
            }
        }
    }

    /// `value` with every local `$ref` replaced by what it points to.
    func resolve(_ value: Any) -> Any {
        if let object = value as? [String: Any] {
            if let reference = object["$ref"] as? String, reference.hasPrefix("#/") {
                var target: Any = root
                for component in reference.dropFirst(2).split(separator: "/") {
                    target = (target as? [String: Any])?[String(component)] ?? [:]
                }
                return resolve(target)
            }
            return object.mapValues { resolve($0) }
        }
        if let array = value as? [Any] { return array.map { resolve($0) } }
        return value
    }

    func check(_ response: TestResponse, of operation: OpenAPIOperation, probe: OpenAPIProbe) throws {
        let context = "\(operation.name), \(probe.what): \(response.status.code) \(String(buffer: response.body).prefix(300))"
        let text = String(buffer: response.body)
        if response.status == .notFound, text.contains("\"route_not_found\"") {
            Issue.record("documented route is not served — \(context)")
            return
        }
        let documented = operation.responses[String(response.status.code)] as? [String: Any]
        guard let documented else {
            Issue.record(
                "undocumented status \(response.status.code) (documented: \(operation.responses.keys.sorted())) — \(context)")
            return
        }
        if let expectedClass = probe.expectedClass {
            #expect(response.status.code / 100 == expectedClass, "\(context)")
        }
        if (documented["headers"] as? [String: Any])?["X-Request-Id"] != nil {
            #expect(response.headers[requestIdHeader] != nil, "no X-Request-Id — \(context)")
        }
        let content = documented["content"] as? [String: Any] ?? [:]
        let contentType = response.headers[.contentType] ?? ""
        guard let mediaType = content.keys.first(where: { contentType.hasPrefix($0) }) else {
            Issue.record("content type \"\(contentType)\" not documented (\(content.keys.sorted())) — \(context)")
            return
        }
        guard mediaType == "application/json" else { return }
        let schema = (content[mediaType] as? [String: Any])?["schema"] as? [String: Any] ?? [:]
        let body = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        let alternatives = (schema["oneOf"] as? [[String: Any]]) ?? [schema]
        let satisfied = alternatives.contains { alternative in
            let required = alternative["required"] as? [String] ?? []
            return required.allSatisfy { body?[$0] != nil }
        }
        #expect(satisfied, "body lacks the documented required fields \(alternatives.map { $0["required"] ?? [] }) — \(context)")
    }
}

extension OpenAPIOperation {
    /// A good request (with and without every documented query parameter) and the bad ones
    /// every operation must answer as documented.
    func probes() -> [OpenAPIProbe] {
        var path = self.path
        var query: [String] = []
        for parameter in parameters {
            guard let name = parameter["name"] as? String, let location = parameter["in"] as? String else { continue }
            let example = parameter["example"].map { "\($0)" } ?? "x"
            let encoded =
                example.addingPercentEncoding(
                    withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))) ?? example
            switch location {
            case "path": path = path.replacingOccurrences(of: "{\(name)}", with: encoded)
            case "query": query.append("\(name)=\(encoded)")
            default: break
            }
        }
        let method = HTTPRequest.Method(rawValue: self.method.uppercased())!
        var headers: HTTPFields = [.authorization: "Bearer \(HTTPTestEnvironment.token)"]
        var body: ByteBuffer?
        if let content = (specification["requestBody"] as? [String: Any])?["content"] as? [String: Any],
            let example = (content["application/json"] as? [String: Any])?["example"],
            let data = try? JSONSerialization.data(withJSONObject: example)
        {
            headers[.contentType] = "application/json"
            body = ByteBuffer(bytes: data)
        }
        let good = OpenAPIProbe(what: "a good request", uri: path, method: method, headers: headers, body: body, expectedClass: 2)
        var probes = [good]
        if !query.isEmpty {
            var withParameters = good
            withParameters.what = "every documented query parameter"
            withParameters.uri += "?" + query.joined(separator: "&")
            probes.append(withParameters)
        }
        var unknownParameter = good
        unknownParameter.what = "an undocumented query parameter"
        unknownParameter.uri += "?undocumented_parameter=1"
        unknownParameter.expectedClass = nil
        probes.append(unknownParameter)

        var badRequestId = good
        badRequestId.what = "an invalid X-Request-Id"
        badRequestId.headers[requestIdHeader] = "not valid!"
        badRequestId.expectedClass = 4
        probes.append(badRequestId)

        var anonymous = good
        anonymous.what = "no Authorization header"
        anonymous.headers[.authorization] = nil
        anonymous.expectedClass = allowsAnonymous ? 2 : 4
        probes.append(anonymous)

        var wrongToken = good
        wrongToken.what = "a wrong token"
        wrongToken.headers[.authorization] = "Bearer wrong"
        wrongToken.expectedClass = allowsAnonymous ? nil : 4
        probes.append(wrongToken)

        var notReady = good
        notReady.what = "a recommender that is not ready"
        notReady.expectedClass = nil
        notReady.notReady = true
        probes.append(notReady)

        if self.path.contains("{id}") {
            var unknownId = good
            unknownId.what = "an unknown id"
            unknownId.uri = self.path.replacingOccurrences(of: "{id}", with: "no-such-id")
            unknownId.expectedClass = nil
            probes.append(unknownId)
        }
        if body != nil {
            var malformed = good
            malformed.what = "a malformed body"
            malformed.body = ByteBuffer(string: "[{")
            malformed.expectedClass = 4
            var mixed = good
            mixed.what = "a batch with an invalid event"
            mixed.body = ByteBuffer(string: "[\(interaction("conformance-1")), {\"type\": \"click\"}]")
            mixed.expectedClass = 4
            var wrongType = good
            wrongType.what = "an unsupported Content-Type"
            wrongType.headers[.contentType] = "text/csv"
            wrongType.expectedClass = 4
            var lines = good
            lines.what = "JSON lines"
            lines.headers[.contentType] = "application/x-ndjson"
            lines.body = ByteBuffer(string: interaction("conformance-2") + "\n")
            probes += [malformed, mixed, wrongType, lines]
        }
        return probes
    }
}
