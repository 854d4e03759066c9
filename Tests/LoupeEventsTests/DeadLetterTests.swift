import Foundation
import LoupeEvents
import Testing

/// A dead letter is an event too: whatever Loupe rejects, the record it writes must decode.
@Suite struct DeadLetterTests {
    @Test(arguments: ExampleFile.invalid)
    func recordOfEveryInvalidExampleDecodes(_ example: ExampleFile) throws {
        let bytes = try example.bytes
        let record = try reject(bytes, topic: example.topic)
        #expect(record.payloadBytes == bytes.count)
        #expect(!record.payloadTruncated)
        if let text = String(validating: bytes, as: UTF8.self) {
            #expect(record.payload == text)
        } else {
            #expect(record.payloadBase64.flatMap { Data(base64Encoded: $0) } == Data(bytes))
        }
    }

    @Test func tooLargeInputKeepsAPrefixThatFits() throws {
        let input = Array(#"{"type":"view","pad":""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: 80_000)
        let record = try reject(input)
        #expect(record.payloadTruncated)
        #expect(record.payloadBytes == input.count)
        let payload = try #require(record.payload)
        #expect(input.starts(with: Array(payload.utf8)))
        #expect(payload.utf8.count > 60_000)
    }

    @Test func escapingCountsAgainstTheLimit() throws {
        let input = Array(repeating: UInt8(0x01), count: 20_000)
        let record = try reject(input)
        #expect(record.payloadTruncated)
        let payload = try #require(record.payload)
        #expect(payload.utf8.count < 65_536 / 6)
        #expect(payload.utf8.allSatisfy { $0 == 0x01 })
    }

    @Test func cutsBetweenCharacters() throws {
        let input = Array(String(repeating: "é", count: 40_000).utf8)
        let record = try reject(input)
        let payload = try #require(record.payload)
        #expect(record.payloadTruncated)
        #expect(payload.allSatisfy { $0 == "é" })
    }

    @Test func invalidUTF8IsKeptAsBase64() throws {
        let input = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 | 0x80) }
        let record = try reject(input)
        #expect(record.payload == nil)
        #expect(record.payloadTruncated)
        let kept = try #require(record.payloadBase64.flatMap { Data(base64Encoded: $0) })
        #expect(kept.count > 40_000)
        #expect(input.starts(with: kept))
    }

    @Test func longTextFromTheInputIsCut() throws {
        let longType = String(repeating: "x", count: 50_000)
        let unknownType = try reject(Array(#"{"type":"\#(longType)"}"#.utf8))
        #expect(unknownType.reasonCode == "unknown_type")
        #expect(unknownType.reason.utf8.count <= 4096)

        let longKey = String(repeating: "k", count: 300)
        let unknownField = try reject(
            Array(
                #"{"event_id":"e","schema_version":1,"type":"view","timestamp":0,"user_id":"u","item_id":"i","session_id":"s","\#(longKey)":1}"#
                    .utf8))
        #expect(unknownField.reasonCode == "unknown_field")
        #expect(unknownField.field == String(longKey.prefix(256)))
    }

    @Test func anEmptyFieldNameIsLeftOut() throws {
        let record = try reject(
            Array(
                #"{"event_id":"e","schema_version":1,"type":"view","timestamp":0,"user_id":"u","item_id":"i","session_id":"s","":1}"#.utf8))
        #expect(record.reasonCode == "unknown_field")
        #expect(record.field == nil)
    }

    /// Rejects `bytes` as `loupe produce` would, and checks that the dead-letter record
    /// round-trips through the codec within the size limit.
    private func reject(_ bytes: [UInt8], topic: Topic? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> DeadLetter {
        let error = try #require(throws: EventValidationError.self, sourceLocation: sourceLocation) {
            try EventCodec.decode(bytes, topic: topic)
        }
        let record = DeadLetter(
            rejecting: bytes, error: error, source: "produce", sourceTopic: topic?.rawValue, location: "stdin:1",
            eventId: "dl-1", timestamp: 1_772_366_400_000)
        let encoded = EventCodec.encode(.deadLetter(record))
        #expect(encoded.count <= EventCodec.maximumEventBytes, sourceLocation: sourceLocation)
        #expect(try EventCodec.decode(encoded, topic: .deadLetter) == .deadLetter(record), sourceLocation: sourceLocation)
        return record
    }
}
