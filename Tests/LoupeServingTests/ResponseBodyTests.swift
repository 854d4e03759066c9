import Foundation
import Testing

@testable import LoupeHTTP
@testable import LoupeServing

/// Bodies written by `JSONBodyWriter` are byte for byte what the encoder of `JSONResponse`
/// writes for the same values.
@Suite struct ResponseBodyTests {
    static func encoded(_ body: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(body))
    }

    static let awkward = ["", "plain", "a/b", "quote\"d", "back\\slash", "tab\tnew\nline\rfeed\u{8}\u{C}", "\u{0}\u{1}\u{1F}\u{7F}", "lunettes-é", "😎", "\u{2028}"]

    @Test func recommendationsBodiesMatchTheEncoder() throws {
        let scores: [Float] = [0, -0.0, 1, -1, 0.1, 1e-7, 123_456_792, 3.4e38, -.leastNormalMagnitude, .leastNonzeroMagnitude, 0.333_333_34, 16_777_216]
        var bodies: [RecommendationsBody] = [
            RecommendationsBody(
                requestId: "r", userId: "u", variant: "control", modelId: "m", modelVersion: "1", snapshot: 0, positions: [:], userVersion: 0,
                coldStart: true, cached: false, items: [])
        ]
        for (index, text) in Self.awkward.enumerated() {
            let items = scores.enumerated().map { position, score in
                RecommendationsBody.Item(itemId: "\(text)-\(position)", score: score / Float(index + 1), reason: text, position: position)
            }
            bodies.append(
                RecommendationsBody(
                    requestId: text, userId: text, variant: text, modelId: text, modelVersion: text, snapshot: index * 1_000_003,
                    positions: ["interactions": [5, 0, 7], "catalog": [10], "face-analysis": [], "feedback": [Int64.max], text: [1]],
                    userVersion: index.isMultiple(of: 2) ? UInt64.max : UInt64(index), coldStart: index.isMultiple(of: 3),
                    cached: index.isMultiple(of: 2), items: items))
        }
        for body in bodies {
            let direct = try body.jsonBytes()
            let expected = try Self.encoded(body)
            #expect(direct == expected, "\(String(decoding: direct, as: UTF8.self))\n\(String(decoding: expected, as: UTF8.self))")
        }
    }

    /// A score that is not a number is refused, as the encoder refuses it.
    @Test func nonFiniteScoresAreRefusedLikeTheEncoderDoes() {
        for score in [Float.nan, .infinity, -.infinity] {
            let body = RecommendationsBody(
                requestId: "r", userId: "u", variant: "v", modelId: "m", modelVersion: "1", snapshot: 9, positions: [:], userVersion: 1, coldStart: false,
                cached: false, items: [RecommendationsBody.Item(itemId: "i", score: score, reason: "popular", position: 0)])
            #expect(throws: JSONBodyWriter.InvalidValue.self) { try body.jsonBytes() }
            #expect(throws: EncodingError.self) { try Self.encoded(body) }
        }
    }
}
