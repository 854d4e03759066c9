import Testing

@testable import LoupeHTTP
@testable import LoupeServing

@Suite struct QueryParametersTests {
    static let allowed: Set<String> = ["k", "exclude", "device", "min_price"]

    @Test func plainAndEncodedValuesDecodeAlike() throws {
        let query = try QueryParameters("k=10&exclude=item-1,item%2D2&device=smart+phone&min_price=", allowed: Self.allowed)
        #expect(query["k"] == "10")
        #expect(query["exclude"] == "item-1,item-2")
        #expect(query["device"] == "smart phone")
        #expect(query["min_price"] == "")
        #expect(try query.integer("k", in: 1...100) == 10)
        let encodedName = try QueryParameters("%6B=3", allowed: Self.allowed)
        #expect(encodedName["k"] == "3")
    }

    @Test func badInputIsRefusedWithItsReason() {
        #expect(throws: APIError.self) { try QueryParameters("device=%E0%A4%A", allowed: Self.allowed) }
        #expect(throws: APIError.self) { try QueryParameters("k=1&k=2", allowed: Self.allowed) }
        #expect(throws: APIError.self) { try QueryParameters("hour=3", allowed: Self.allowed) }
        #expect(throws: APIError.self) { try QueryParameters("k=ten", allowed: Self.allowed).integer("k", in: 1...100) }
    }

    @Test func pathIdsDecodeOnlyWhenEncoded() throws {
        #expect(try RecommendationQuery.pathId("user-42", name: "user id") == "user-42")
        #expect(try RecommendationQuery.pathId("u%20with%2Fslash", name: "user id") == "u with/slash")
        #expect(throws: APIError.self) { try RecommendationQuery.pathId("bad%ZZ", name: "user id") }
        #expect(throws: APIError.self) { try RecommendationQuery.pathId("", name: "user id") }
    }
}
