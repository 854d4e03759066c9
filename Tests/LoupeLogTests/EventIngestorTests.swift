import LoupeEmbeddedLog
import Foundation
import LoupeEvents
import LoupeLog
import Testing

/// `loupe produce` and `POST /v1/events` take client events only: events of Loupe's internal
/// topics are rejected with `internal_topic` and dead-lettered, never written where they claim
/// to belong.
@Suite struct EventIngestorTests {
    static let internalEvents: [String] = [
        #"{"event_id":"i1","schema_version":1,"type":"impression","timestamp":1,"request_id":"r","user_id":"u","items":[],"model_version":"m","variant":"control"}"#,
        #"{"event_id":"b1","schema_version":1,"type":"learner_batch","timestamp":1,"learner":"learner","sequence":99,"positions":{}}"#,
        #"{"event_id":"m1","schema_version":1,"type":"model_promoted","timestamp":1,"model_id":"m","model_version":"v"}"#,
        #"{"event_id":"d1","schema_version":1,"type":"drift_alert","timestamp":1,"detector":"psi","status":"firing","severity":"warning","statistic":1,"threshold":0.5,"message":"m"}"#,
    ]
    static let clientEvent =
        #"{"event_id":"c1","schema_version":1,"type":"click","timestamp":1,"user_id":"u","item_id":"i","session_id":"s"}"#

    @Test func internalEventsAreRejectedAndDeadLettered() throws {
        let directory = NSTemporaryDirectory() + "loupe-ingestor-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try EmbeddedLog(directory: directory)
        _ = try log.apply(TopicDefinitions.builtIn)
        let producer = try log.makeProducer()
        let ingestor = EventIngestor(producer: producer, source: "test", clock: { 0 })
        let inputs = (Self.internalEvents + [Self.clientEvent]).map { Array($0.utf8) }
        let outcomes = try ingestor.ingest(batch: inputs, origin: "test", firstIndex: 1)
        try producer.close()

        for (index, outcome) in outcomes.dropLast().enumerated() {
            guard case .failure(let error) = outcome else {
                Issue.record("input \(index) was accepted: \(outcome)")
                continue
            }
            #expect(error.code == .internalTopic && error.field == "type", "\(error)")
        }
        #expect((try? outcomes.last?.get())?.topic == .interactions)
        #expect(ingestor.summary.accepted == [.interactions: 1])
        #expect(ingestor.summary.rejected == [.internalTopic: Self.internalEvents.count])
        for topic in Topic.allCases where !topic.isClientTopic && topic != .deadLetter {
            let count = try (0..<Int32(log.partitionCount(of: topic.rawValue))).reduce(Int64(0)) { total, partition in
                total + (try log.watermarks(TopicPartition(topic.rawValue, partition)).high)
            }
            #expect(count == 0, "\(topic) was written")
        }
    }
}
