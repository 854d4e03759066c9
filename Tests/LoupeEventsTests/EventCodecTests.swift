import LoupeEvents
import Testing

@Suite struct EventCodecTests {
    /// One event of every family and type, with optional fields both present and absent.
    static let samples: [Event] = {
        let t: Int64 = 1_772_366_400_000
        let context = Context(device: .mobile, channel: "app", locale: "en-GB", hour: 13)
        let measurements = FaceMeasurements(
            faceLengthMM: 188.5, foreheadWidthMM: 132, cheekboneWidthMM: 138.2, jawWidthMM: 118.4, pupillaryDistanceMM: 62.5)
        let frame = CatalogItem(
            style: .catEye, frameWidthMM: 140, lensHeightMM: 52.5, bridgeMM: 18, templeLengthMM: 145, price: 129.99,
            currency: "EUR", material: "acetate", color: "black", features: [0.5, -1.25, 1e-9, 3e20])
        var events: [Event] = []
        for kind in InteractionKind.allCases {
            events.append(
                .interaction(Interaction(eventId: "i-\(kind)", timestamp: t, kind: kind, userId: "u-1", itemId: "f-1", sessionId: "s-1")))
        }
        events.append(
            .interaction(
                Interaction(
                    eventId: "i-full", timestamp: t, kind: .click, userId: "u-1", itemId: "f-1", sessionId: "s-1", requestId: "r-1",
                    context: context)))
        events.append(
            .interaction(
                Interaction(eventId: "i-empty", timestamp: 0, kind: .view, userId: "ü", itemId: "\"", sessionId: "\\", context: Context(channel: "\n\u{1}"))))
        for kind in FeedbackKind.allCases {
            events.append(
                .feedback(
                    Feedback(
                        eventId: "f-\(kind)", timestamp: t, kind: kind, userId: "u-1", itemId: "f-1", rating: kind == .rating ? 5 : nil)))
        }
        for kind in SessionKind.allCases {
            events.append(
                .session(Session(eventId: "s-\(kind)", timestamp: t, kind: kind, userId: "u-1", sessionId: "s-1", context: context)))
        }
        events.append(
            .session(Session(eventId: "s-empty", timestamp: t, kind: .sessionEnd, userId: "u-1", sessionId: "s-1", context: Context())))
        for shape in FaceShape.allCases.map(Optional.some) + [nil] {
            events.append(
                .faceAnalysis(
                    FaceAnalysis(
                        eventId: "fa-\(shape?.rawValue ?? "none")", timestamp: t, userId: "u-1", faceShape: shape,
                        measurements: measurements, confidence: 0.5)))
        }
        events.append(.catalog(CatalogEvent(eventId: "c-1", timestamp: t, itemId: "f-1", item: frame)))
        var plain = frame
        plain.features = nil
        events.append(.catalog(CatalogEvent(eventId: "c-2", timestamp: t, itemId: "f-2", item: plain)))
        events.append(.catalog(CatalogEvent(eventId: "c-3", timestamp: t, itemId: "f-1", item: nil)))
        events.append(
            .impression(
                Impression(
                    eventId: "im-1", timestamp: t, requestId: "r-1", userId: "u-1",
                    items: [.init(itemId: "f-1", score: 0.9, position: 0), .init(itemId: "f-2", score: -3, position: 1)],
                    modelVersion: "m-1",
                    variant: "control")))
        events.append(
            .impression(
                Impression(
                    eventId: "im-2", timestamp: t, requestId: "r-2", userId: "u-1", items: [], modelVersion: "m-1", variant: "canary")))
        for kind in ModelEventKind.allCases {
            events.append(
                .modelEvent(
                    ModelEvent(
                        eventId: "me-\(kind)", timestamp: t, kind: kind, modelId: "two-tower", modelVersion: "v3",
                        positions: ["interactions": [10, 0, 7], "feedback": []], metrics: ["auc": 0.8, "loss": 0.25],
                        decision: kind == .canaryDecision ? .continue : nil, reason: "because")))
        }
        events.append(
            .modelEvent(ModelEvent(eventId: "me-min", timestamp: t, kind: .modelPromoted, modelId: "two-tower", modelVersion: "v3")))
        events.append(
            .evalMetric(
                EvalMetric(
                    eventId: "em-1", timestamp: t, metric: "ndcg@10", value: 0.41, windowStart: t - 3_600_000, windowEnd: t, count: 9,
                    modelVersion: "v3", variant: "control")))
        events.append(
            .evalMetric(EvalMetric(eventId: "em-2", timestamp: t, metric: "auc", value: -0, windowStart: t, windowEnd: t, count: 0)))
        events.append(
            .driftAlert(
                DriftAlert(
                    eventId: "da-1", timestamp: t, detector: "psi", status: .firing, severity: .critical, statistic: 0.3, threshold: 0.2,
                    message: "shifted", details: ["p_value": 1e-6])))
        events.append(
            .driftAlert(
                DriftAlert(
                    eventId: "da-2", timestamp: t, detector: "psi", status: .resolved, severity: .info, statistic: 0, threshold: 0.2,
                    message: "ok")))
        events.append(
            .deadLetter(
                DeadLetter(
                    eventId: "dl-1", timestamp: t, source: "produce", sourceTopic: "interactions", reasonCode: "missing_field",
                    reason: "required field is missing", field: "user_id", location: "stdin:1", payload: "{\"type\":\"view\"}",
                    payloadBase64: nil, payloadBytes: 15, payloadTruncated: false)))
        events.append(
            .deadLetter(
                DeadLetter(
                    eventId: "dl-2", timestamp: t, source: "http", sourceTopic: nil, reasonCode: "invalid_utf8",
                    reason: "input is not valid UTF-8",
                    field: nil, location: nil, payload: nil, payloadBase64: "/w==", payloadBytes: 1, payloadTruncated: true)))
        events.append(
            .learnerBatch(
                LearnerBatch(
                    eventId: "lb-1", timestamp: t, learner: "online-mf", sequence: 7,
                    positions: ["interactions": [10, 0, 7], "feedback": []])))
        events.append(
            .learnerBatch(LearnerBatch(eventId: "lb-2", timestamp: t, learner: "online-mf", sequence: 1, positions: [:])))
        return events
    }()

    // MARK: round trips

    @Test(arguments: samples)
    func roundTrips(_ event: Event) throws {
        let bytes = EventCodec.encode(event)
        #expect(try EventCodec.decode(bytes) == event)
        #expect(try EventCodec.decode(bytes, topic: event.topic) == event)
        #expect(Event.topicOfType[event.type] == event.topic)
    }

    @Test func everyTypeIsSampled() {
        #expect(Set(Self.samples.map(\.type)) == Set(Event.topicOfType.keys))
    }

    @Test func canonicalEncodingIsCompactOrderedAndInEpochMilliseconds() throws {
        let input = """
            {
              "context": {"hour": 13, "device": "mobile", "locale": null},
              "timestamp": "2026-03-01T14:00:00.250+02:00",
              "request_id": null,
              "session_id": "s-1", "item_id": "f-1", "user_id": "u-1",
              "type": "click", "schema_version": 1.0, "event_id": "e-1"
            }
            """
        let event = try EventCodec.decode(Array(input.utf8))
        let canonical = String(decoding: EventCodec.encode(event), as: UTF8.self)
        #expect(
            canonical
                == #"{"event_id":"e-1","schema_version":1,"type":"click","timestamp":1772366400250,"user_id":"u-1","item_id":"f-1","session_id":"s-1","context":{"device":"mobile","hour":13}}"#
        )
    }

    @Test func nullOptionalFieldsAreTheSameAsAbsentOnes() throws {
        let absent = try decode(
            #"{"event_id":"e","schema_version":1,"type":"view","timestamp":0,"user_id":"u","item_id":"i","session_id":"s"}"#)
        let null = try decode(
            #"{"event_id":"e","schema_version":1,"type":"view","timestamp":0,"user_id":"u","item_id":"i","session_id":"s","request_id":null,"context":null}"#
        )
        #expect(absent == null)
    }

    @Test func recordKeys() {
        for event in Self.samples {
            switch event {
            case .interaction(let body): #expect(event.key == body.userId)
            case .feedback(let body): #expect(event.key == body.userId)
            case .session(let body): #expect(event.key == body.userId)
            case .faceAnalysis(let body): #expect(event.key == body.userId)
            case .catalog(let body): #expect(event.key == body.itemId)
            case .impression(let body): #expect(event.key == body.userId)
            case .modelEvent(let body): #expect(event.key == body.modelId)
            case .evalMetric(let body): #expect(event.key == body.metric)
            case .driftAlert(let body): #expect(event.key == body.detector)
            case .deadLetter(let body): #expect(event.key == (body.sourceTopic ?? "unknown"))
            case .learnerBatch(let body): #expect(event.key == body.learner)
            }
        }
    }

    // MARK: size limit

    @Test func acceptsExactlyTheLimitAndRejectsOneByteMore() throws {
        let event = EventCodec.encode(Self.samples[0])
        let padding = EventCodec.maximumEventBytes - event.count
        let atLimit = event + Array(repeating: UInt8(ascii: " "), count: padding)
        #expect(atLimit.count == 65_536)
        #expect(try EventCodec.decode(atLimit) == Self.samples[0])
        let error = #expect(throws: EventValidationError.self) { try EventCodec.decode(atLimit + [UInt8(ascii: " ")]) }
        #expect(error?.code == .tooLarge)
    }

    @Test func checksTheSizeBeforeParsing() {
        let garbage = Array(repeating: UInt8(0xFF), count: 70_000)
        let error = #expect(throws: EventValidationError.self) { try EventCodec.decode(garbage) }
        #expect(error?.code == .tooLarge)
    }

    /// `8e15` is four bytes of input and sixteen of canonical output: an event under the limit
    /// whose canonical encoding is over it would be stored and then fail to decode.
    @Test(arguments: [(3000, false), (4000, true)])
    func rejectsEventsWhoseCanonicalEncodingIsTooLarge(offsets: Int, tooLarge: Bool) throws {
        let list = Array(repeating: "8e15", count: offsets).joined(separator: ",")
        let input = Array(
            #"{"event_id":"e","schema_version":1,"type":"model_published","timestamp":0,"model_id":"m","model_version":"v","positions":{"interactions":[\#(list)]}}"#
                .utf8)
        #expect(input.count < EventCodec.maximumEventBytes)
        if tooLarge {
            let error = #expect(throws: EventValidationError.self) { try EventCodec.decode(input) }
            #expect(error?.code == .tooLarge)
        } else {
            let event = try EventCodec.decode(input)
            #expect(EventCodec.encode(event).count <= EventCodec.maximumEventBytes)
        }
    }

    // MARK: topics

    @Test(arguments: samples)
    func rejectsEventsOfAnotherTopic(_ event: Event) {
        let bytes = EventCodec.encode(event)
        for topic in Topic.allCases where topic != event.topic {
            let error = #expect(throws: EventValidationError.self) { try EventCodec.decode(bytes, topic: topic) }
            #expect(error?.code == .wrongTopic)
            #expect(error?.field == "type")
        }
    }

    // MARK: errors

    /// Envelopes to build the inputs of the error tests from.
    private static let view = #""event_id":"e","schema_version":1,"type":"view","timestamp":0"#
    private static let viewFields = #"\#(view),"user_id":"u","item_id":"i","session_id":"s""#
    private static let face = #""event_id":"e","schema_version":1,"type":"face_analysis","timestamp":0,"user_id":"u","face_shape":null"#
    private static let impression = #""event_id":"e","schema_version":1,"type":"impression","timestamp":0,"request_id":"r","user_id":"u""#
    private static let upsert =
        #""event_id":"e","schema_version":1,"type":"item_upsert","timestamp":0,"item_id":"i","style":"round","frame_width_mm":1,"#
        + #""lens_height_mm":1,"bridge_mm":1,"temple_length_mm":1,"price":1,"currency":"EUR","material":"m","color":"c""#

    @Test(arguments: [
        (#"{\#(viewFields),"context":{"hour":24}}"#, EventValidationError.Code.invalidValue, "context.hour"),
        (#"{\#(viewFields),"context":{"zone":1}}"#, .unknownField, "context.zone"),
        (#"{\#(viewFields),"context":[]}"#, .wrongType, "context"),
        (#"{\#(view),"item_id":"i","session_id":"s"}"#, .missingField, "user_id"),
        (
            #"{"event_id":"e","schema_version":1,"type":"view","timestamp":"yesterday","user_id":"u","item_id":"i","session_id":"s"}"#,
            .invalidValue, "timestamp"
        ),
        (#"{"event_id":"e","schema_version":2,"type":"view","timestamp":0,"surprise":true}"#, .unsupportedSchemaVersion, "schema_version"),
        (
            #"{"event_id":"e","schema_version":1,"type":"rating","timestamp":0,"user_id":"u","item_id":"i","rating":3.5}"#, .wrongType,
            "rating"
        ),
        (
            #"{\#(impression),"items":[{"item_id":"a","score":1,"position":0},{"item_id":"b","score":"x","position":1}],"model_version":"m","variant":"v"}"#,
            .wrongType, "items[1].score"
        ),
        (
            #"{\#(face),"measurements":{"face_length_mm":1,"forehead_width_mm":1,"cheekbone_width_mm":1,"jaw_width_mm":0,"pupillary_distance_mm":1},"confidence":1}"#,
            .invalidValue, "measurements.jaw_width_mm"
        ),
        (
            #"{"event_id":"e","schema_version":1,"type":"model_published","timestamp":0,"model_id":"m","model_version":"v","positions":{"interactions":[1,-1]}}"#,
            .invalidValue, "positions.interactions[1]"
        ),
        (#"{\#(upsert),"features":[1,true]}"#, .wrongType, "features[1]"),
        (
            #"{"event_id":"e","schema_version":1,"type":"eval_metric","timestamp":0,"metric":"auc","value":1,"window_start":10,"window_end":9,"count":1}"#,
            .invalidValue, "window_end"
        ),
        (#"{"schema_version":1,"event_id":"e","timestamp":0}"#, .missingField, "type"),
        (#"{"type":null,"schema_version":1,"event_id":"e","timestamp":0}"#, .missingField, "type"),
    ])
    func reportsTheCodeAndTheFieldPath(json: String, code: EventValidationError.Code, field: String) {
        let error = #expect(throws: EventValidationError.self) { try decode(json) }
        #expect(error?.code == code)
        #expect(error?.field == field)
    }

    @Test(arguments: [
        (#""timestamp":1.7723664e12"#, true),
        (#""timestamp":1772366400000.0"#, true),
        (#""timestamp":1772366400000.5"#, false),
        (#""timestamp":true"#, false),
    ])
    func integersMayBeWrittenAsIntegralNumbers(timestampField: String, accepted: Bool) {
        let json = #"{"event_id":"e","schema_version":1,"type":"view",\#(timestampField),"user_id":"u","item_id":"i","session_id":"s"}"#
        if accepted {
            #expect(throws: Never.self) { try decode(json) }
        } else {
            let error = #expect(throws: EventValidationError.self) { try decode(json) }
            #expect(error?.code == .wrongType)
        }
    }

    /// Integers written with a fraction or an exponent must stay below 9e15, where doubles
    /// still hold every integer exactly; docs/events.md says so.
    @Test func largeIntegersMustBeWrittenPlainly() throws {
        let prefix =
            #"{"event_id":"e","schema_version":1,"type":"eval_metric","timestamp":0,"metric":"m","value":1,"window_start":0,"window_end":0,"count":"#
        #expect(throws: Never.self) { try decode(prefix + "10000000000000000}") }
        let error = #expect(throws: EventValidationError.self) { try decode(prefix + "1e16}") }
        #expect(error?.code == .wrongType)
    }

    @Test(arguments: ["", "[]", "\"view\"", "42", "null"])
    func rejectsDocumentsThatAreNotObjects(json: String) {
        let error = #expect(throws: EventValidationError.self) { try decode(json) }
        #expect(error?.code == (json.isEmpty ? .invalidJSON : .notAnObject))
    }

    @Test func tellsInvalidUTF8FromInvalidJSON() {
        let utf8 = #expect(throws: EventValidationError.self) { try EventCodec.decode([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D]) }
        #expect(utf8?.code == .invalidUTF8)
        let json = #expect(throws: EventValidationError.self) { try EventCodec.decode(Array("{\"é\":}".utf8)) }
        #expect(json?.code == .invalidJSON)
    }

    private func decode(_ json: String) throws(EventValidationError) -> Event {
        try EventCodec.decode(Array(json.utf8))
    }
}
