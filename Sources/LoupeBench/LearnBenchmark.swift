import Foundation
import LoupeEvents
import LoupeLearning
import LoupeLog
import LoupeStore

/// `loupe bench learn`: events per second from the log to committed state, and the time to
/// replay the same events into a fresh store.
public enum LearnBenchmark {
    public struct Result: Sendable {
        public var events: Int
        public var dimension: Int
        public var learnSeconds: Double
        public var replaySeconds: Double

        public var learnRate: Double { Double(events) / learnSeconds }
    }

    /// Produces `lines` into `log` (not timed), learns them into a store under `directory`, then
    /// replays the learner's batches into a second store there.
    public static func run(log: any EventLog, lines: [[UInt8]], dimension: Int, directory: String) throws -> Result {
        _ = try log.apply(TopicDefinitions.builtIn)
        let producer = try log.makeProducer()
        let ingestor = EventIngestor(producer: producer, source: "bench", clock: { 0 })
        for start in stride(from: 0, to: lines.count, by: LogBenchmark.batchSize) {
            try ingestor.ingest(batch: Array(lines[start..<min(lines.count, start + LogBenchmark.batchSize)]), origin: "bench", firstIndex: start)
        }
        try producer.close()

        var settings = LearnerSettings()
        settings.model.dimension = dimension
        settings.learnerId = "bench-\(dimension)-\(UUID().uuidString.prefix(8))"
        let learnStart = ContinuousClock.now
        let summary = try OnlineLearner(store: try StateStore(directory: directory + "/live"), log: log, settings: settings)
            .learn(untilEnd: true)
        let learnSeconds = LogBenchmark.seconds(since: learnStart)
        guard summary.records >= lines.count else {
            throw LearnerError("the learner applied \(summary.records) of \(lines.count) events")
        }
        let replayStart = ContinuousClock.now
        _ = try OnlineLearner(store: try StateStore(directory: directory + "/replayed"), log: log, settings: settings).replay()
        return Result(
            events: lines.count, dimension: dimension, learnSeconds: learnSeconds, replaySeconds: LogBenchmark.seconds(since: replayStart))
    }
}
