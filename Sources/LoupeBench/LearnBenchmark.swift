import LoupeML
import Foundation
import Glibc
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
        /// CPU time (user + system, every thread) the process spent while learning.
        public var learnCPUSeconds: Double
        public var replaySeconds: Double

        public var learnRate: Double { Double(events) / learnSeconds }
    }

    /// Produces `lines` into `log` (not timed), learns them into a store under `directory`, then
    /// replays the learner's batches into a second store there.
    /// `settings` are the learner's (batch size, model, …) with the dimension to measure.
    public static func run(log: any EventLog, lines: [[UInt8]], settings: LearnerSettings, directory: String) throws -> Result {
        _ = try log.apply(TopicDefinitions.builtIn)
        let producer = try log.makeProducer()
        let ingestor = EventIngestor(producer: producer, source: "bench", clock: { 0 })
        for start in stride(from: 0, to: lines.count, by: LogBenchmark.batchSize) {
            try ingestor.ingest(batch: Array(lines[start..<min(lines.count, start + LogBenchmark.batchSize)]), origin: "bench", firstIndex: start)
        }
        try producer.close()

        var settings = settings
        settings.learnerId = "bench-\(settings.model.dimension)-\(UUID().uuidString.prefix(8))"
        let cpuStart = processCPUSeconds()
        let learnStart = ContinuousClock.now
        let summary = try OnlineLearner(store: try StateStore(directory: directory + "/live", model: settings.modelKey), log: log, settings: settings)
            .learn(untilEnd: true)
        let learnSeconds = LogBenchmark.seconds(since: learnStart)
        let learnCPUSeconds = processCPUSeconds() - cpuStart
        guard summary.records >= lines.count else {
            throw LearnerError("the learner applied \(summary.records) of \(lines.count) events")
        }
        let replayStart = ContinuousClock.now
        _ = try OnlineLearner(store: try StateStore(directory: directory + "/replayed", model: settings.modelKey), log: log, settings: settings).replay()
        return Result(
            events: lines.count, dimension: settings.model.dimension, learnSeconds: learnSeconds, learnCPUSeconds: learnCPUSeconds,
            replaySeconds: LogBenchmark.seconds(since: replayStart))
    }

    /// User plus system CPU time of the whole process so far (`times(2)`, in clock ticks of
    /// 10 ms: ample for runs of seconds; `getrusage`'s `timeval` is declared twice in the
    /// toolchain's C modules, which the release build cannot tell apart).
    static func processCPUSeconds() -> Double {
        var usage = tms()
        _ = times(&usage)
        return Double(usage.tms_utime + usage.tms_stime) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
