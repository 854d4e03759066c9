import LoupeEvents
import Testing

@Suite struct ExampleFilesTests {
    @Test func everyFamilyHasExamplesAndATopic() {
        #expect(ExampleFile.families() == ExampleFile.topicOfFamily.keys.sorted())
        for family in ExampleFile.topicOfFamily.keys {
            #expect(ExampleFile.valid.contains { $0.family == family }, "no valid example for \(family)")
            #expect(ExampleFile.invalid.contains { $0.family == family }, "no invalid example for \(family)")
        }
    }

    @Test func everyTypeHasAValidExample() throws {
        var types: Set<String> = []
        for example in ExampleFile.valid {
            if let event = try? EventCodec.decode(example.bytes) { types.insert(event.type) }
        }
        #expect(types == Set(Event.topicOfType.keys))
    }

    /// `too_large` needs more than 64 KiB of input, which EventCodecTests builds in memory;
    /// `internal_topic` is no property of an event but of where it is offered (EventIngestor).
    @Test func everyReasonCodeHasAnInvalidExample() {
        let codes = Set(ExampleFile.invalid.compactMap(\.expectedCode))
        #expect(codes == Set(EventValidationError.Code.allCases).subtracting([.tooLarge, .internalTopic]))
    }

    @Test(arguments: ExampleFile.valid)
    func validExampleDecodesAndRoundTrips(_ example: ExampleFile) throws {
        let event = try EventCodec.decode(try example.bytes, topic: example.topic)
        #expect(event.topic == example.topic)
        let canonical = EventCodec.encode(event)
        let decoded = try EventCodec.decode(canonical, topic: example.topic)
        #expect(decoded == event)
        #expect(EventCodec.encode(decoded) == canonical, "the canonical encoding is a fixed point")
    }

    @Test(arguments: ExampleFile.invalid)
    func invalidExampleIsRejectedWithItsReason(_ example: ExampleFile) throws {
        let expected = try #require(example.expectedCode, "name invalid examples <reason_code>--<what>.json")
        let bytes = try example.bytes
        let error = #expect(throws: EventValidationError.self) {
            try EventCodec.decode(bytes, topic: example.topic)
        }
        #expect(error?.code == expected, "\(error?.description ?? "accepted")")
    }
}
