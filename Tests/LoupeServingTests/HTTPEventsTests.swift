import Foundation
import Hummingbird
import HummingbirdTesting
import LoupeEvents
import LoupeLog
import LoupeHTTP
import LoupeServing
import Testing

@Suite("HTTP API: POST /v1/events")
struct HTTPEventsTests {
    static let authorized: HTTPFields = [.authorization: "Bearer \(HTTPTestEnvironment.token)", .contentType: "application/json"]

    @Test func validBatchIsAcceptedAndWritten() async throws {
        let environment = try HTTPTestEnvironment()
        try await environment.server().makeApplication().test(.router) { client in
            let body = "[\(interaction("e-1")),\n \(interaction("e-2", user: "u-2"))]"
            let response = try await client.execute(
                uri: "/v1/events", method: .post, headers: Self.authorized, body: jsonBody(body))
            #expect(response.status == .accepted)
            let result = try json(response)
            #expect(result["accepted"] as? Int == 2)
            #expect(result["rejected"] as? Int == 0)
            #expect(result["accepted_by_topic"] as? [String: Int] == ["interactions": 2])
            #expect(result["error"] == nil)
        }
        let records = try environment.records(.interactions, atLeast: 2)
        let events = try records.map { try EventCodec.decode($0.value) }
        #expect(Set(events.map(\.eventId)) == ["e-1", "e-2"])
        #expect(try environment.recordCount(.deadLetter) == 0)
    }

    @Test func jsonLinesAreAcceptedAndBlankLinesSkipped() async throws {
        let environment = try HTTPTestEnvironment()
        var lines = Self.authorized
        lines[.contentType] = "application/x-ndjson; charset=utf-8"
        let headers = lines
        try await environment.server().makeApplication().test(.router) { client in
            let body = "\(interaction("e-1"))\r\n\n  \n\(interaction("e-2"))"
            let response = try await client.execute(uri: "/v1/events", method: .post, headers: headers, body: jsonBody(body))
            #expect(response.status == .accepted)
            #expect(try json(response)["accepted"] as? Int == 2)
        }
        #expect(try environment.records(.interactions, atLeast: 2).count == 2)
    }

    @Test func mixedBatchNamesEachRejectionAndStillWritesTheValidOnes() async throws {
        let environment = try HTTPTestEnvironment()
        try await environment.server().makeApplication().test(.router) { client in
            let missingUser =
                #"{"event_id":"e-bad","schema_version":1,"type":"click","timestamp":1,"item_id":"f","session_id":"s"}"#
            let body = "[\(interaction("e-1")), \(missingUser), 42, \(interaction("e-3")), {\"a\":1,\"a\":2}]"
            let response = try await client.execute(
                uri: "/v1/events", method: .post, headers: Self.authorized, body: jsonBody(body))
            #expect(response.status == .badRequest)
            let result = try json(response)
            #expect(result["accepted"] as? Int == 2)
            #expect(result["rejected"] as? Int == 3)
            let error = try #require(result["error"] as? [String: Any])
            #expect(error["code"] as? String == "invalid_events")
            #expect((error["message"] as? String)?.contains("the other 2 were accepted") == true)
            let rejections = try #require(result["rejections"] as? [[String: Any]])
            #expect(rejections.map { $0["index"] as? Int } == [1, 2, 4])
            #expect(rejections[0]["code"] as? String == "missing_field")
            #expect(rejections[0]["field"] as? String == "user_id")
            #expect(rejections.allSatisfy { ($0["message"] as? String)?.isEmpty == false })

            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains(#"loupe_events_rejected_total{reason="missing_field"} 1"#))
            #expect(metrics.contains(#"loupe_events_accepted_total{topic="interactions"} 2"#))
        }
        let accepted = try environment.records(.interactions, atLeast: 2).map { try EventCodec.decode($0.value).eventId }
        #expect(Set(accepted) == ["e-1", "e-3"])
        let deadLetters = try environment.records(.deadLetter, atLeast: 3)
        #expect(deadLetters.count == 3)
        let first = try EventCodec.decode(deadLetters[0].value)
        guard case .deadLetter(let record) = first else {
            Issue.record("not a dead letter: \(first)")
            return
        }
        #expect(record.source == "http")
        #expect(record.location?.hasPrefix("http:req-") == true)
    }

    @Test(arguments: [
        ("", "malformed_body"), ("{\"a\":1}", "malformed_body"), ("[1,,2]", "malformed_body"), ("[1", "malformed_body"),
        ("[\"unterminated]", "malformed_body"), ("[1] x", "malformed_body"), ("[]", "empty_batch"),
    ])
    func malformedBodiesAreRefusedWhole(body: String, code: String) async throws {
        let environment = try HTTPTestEnvironment()
        try await environment.server().makeApplication().test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/events", method: .post, headers: Self.authorized, body: jsonBody(body))
            #expect(response.status == .badRequest)
            #expect(try errorBody(response).code == code)
        }
        #expect(try environment.recordCount(.deadLetter) == 0)
    }

    @Test func unauthorisedWritesGet401() async throws {
        let environment = try HTTPTestEnvironment()
        try await environment.server().makeApplication().test(.router) { client in
            for authorization in [
                nil, "Bearer wrong-token", "Bearer test-tokeN", "Bearer test-token-longer", "Basic dGVzdA==", "Bearer ",
            ] {
                var headers: HTTPFields = [.contentType: "application/json"]
                if let authorization { headers[.authorization] = authorization }
                let response = try await client.execute(
                    uri: "/v1/events", method: .post, headers: headers, body: jsonBody("[\(interaction("e-1"))]"))
                #expect(response.status == .unauthorized, "Authorization: \(authorization ?? "none")")
                #expect(response.headers[.wwwAuthenticate] != nil)
                #expect(try errorBody(response).code.hasSuffix("_token"))
            }
        }
        #expect(try environment.recordCount(.interactions) == 0)
    }

    @Test func writesAreRefusedWithoutAConfiguredToken() async throws {
        let environment = try HTTPTestEnvironment()
        try await environment.server(token: nil).makeApplication().test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/events", method: .post, headers: Self.authorized, body: jsonBody("[\(interaction("e-1"))]"))
            #expect(response.status == .forbidden)
            let error = try errorBody(response)
            #expect(error.code == "no_token_configured")
            #expect(error.message.contains("LOUPE_API_TOKEN"))
        }
        #expect(try environment.recordCount(.interactions) == 0)
    }

    @Test func bodyOverTheLimitGets413() async throws {
        let environment = try HTTPTestEnvironment()
        try await environment.server(configure: { $0.maxBodyBytes = 1000 }).makeApplication().test(.router) { client in
            let events = (0..<20).map { interaction("e-\($0)") }.joined(separator: ",")
            let response = try await client.execute(
                uri: "/v1/events", method: .post, headers: Self.authorized, body: jsonBody("[\(events)]"))
            #expect(response.status == .contentTooLarge)
            #expect(try errorBody(response).code == "body_too_large")
        }
        #expect(try environment.recordCount(.interactions) == 0)
    }

    @Test func tooManyEventsGet413AndNothingIsWritten() async throws {
        let environment = try HTTPTestEnvironment()
        try await environment.server(configure: { $0.maxEventsPerRequest = 3 }).makeApplication().test(.router) { client in
            let events = (0..<4).map { interaction("e-\($0)") }.joined(separator: ",")
            let response = try await client.execute(
                uri: "/v1/events", method: .post, headers: Self.authorized, body: jsonBody("[\(events)]"))
            #expect(response.status == .contentTooLarge)
            #expect(try errorBody(response).code == "too_many_events")
            let three = (0..<3).map { interaction("e-\($0)") }.joined(separator: ",")
            #expect(
                try await client.execute(uri: "/v1/events", method: .post, headers: Self.authorized, body: jsonBody("[\(three)]"))
                    .status == .accepted)
        }
        #expect(try environment.records(.interactions, atLeast: 3).count == 3)
    }

    @Test func unsupportedContentTypeGets415() async throws {
        let environment = try HTTPTestEnvironment()
        var plain = Self.authorized
        plain[.contentType] = "text/plain"
        let headers = plain
        try await environment.server().makeApplication().test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/events", method: .post, headers: headers, body: jsonBody("[\(interaction("e-1"))]"))
            #expect(response.status == .unsupportedMediaType)
            #expect(try errorBody(response).code == "unsupported_media_type")
        }
    }

    @Test func liveServerAcceptsEvents() async throws {
        let environment = try HTTPTestEnvironment()
        try await environment.server(configure: {
            $0.port = 0
            $0.maxBodyBytes = 2000
        }).makeApplication().test(.live) { client in
            let response = try await client.execute(
                uri: "/v1/events", method: .post, headers: Self.authorized, body: jsonBody("[\(interaction("e-1"))]"))
            #expect(response.status == .accepted)
            let events = (0..<30).map { interaction("e-\($0)") }.joined(separator: ",")
            let tooLarge = try await client.execute(
                uri: "/v1/events", method: .post, headers: Self.authorized, body: jsonBody("[\(events)]"))
            #expect(tooLarge.status == .contentTooLarge)
        }
        #expect(try environment.records(.interactions, atLeast: 1).count == 1)
    }
}
