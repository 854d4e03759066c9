import LoupeConcurrency
import LoupeServing
import Logging
import LoupeEvents
import LoupeLog
import LoupeStore

/// Asks the log, off the event loops and with a time limit, whether it answers and how far the
/// served state is behind it. Each question is asked at most once at a time, and its answer is
/// shared and reused for `freshFor` (`SharedLogQuery`), so probes cannot pile up on a slow log.
struct LogProbe: Sendable {
    /// What `/readyz` says about a log that does not answer, and what only the server log says.
    struct Problem: Sendable, Equatable {
        /// Stable, for the readiness body's `checks.log`: `timed_out` or `failed`.
        var check: String
        /// For clients: no internal details, and the request id under which they are logged.
        var message: String
    }

    let log: any EventLog
    let logger: Logger
    private let reachability: SharedLogQuery<Int>
    private let watermarks: SharedLogQuery<[TopicPartition: Watermarks]>

    init(log: any EventLog, timeout: Duration = .seconds(2), freshFor: Duration = .seconds(1), logger: Logger) {
        self.log = log
        self.logger = logger
        let queue = BlockingQueue(label: "loupe.log-probe")
        reachability = SharedLogQuery(queue: queue, timeout: timeout, freshFor: freshFor)
        watermarks = SharedLogQuery(queue: queue, timeout: timeout, freshFor: freshFor)
    }

    /// nil when the log answers and has the impressions topic (where served lists go); else why
    /// not. The request whose probe found the problem logs its details at error level.
    func problem(requestId: String) async -> Problem? {
        let answer = await reachability.answer(key: Topic.impressions.rawValue, requestId: requestId) { [log] in
            try log.partitionCount(of: Topic.impressions.rawValue)
        }
        let check: String
        let detail: String
        switch answer.outcome {
        case .answered:
            return nil
        case .timedOut:
            check = "timed_out"
            detail = "the log (\(log.description)) did not answer within \(reachability.timeout)"
        case .failed(let error):
            check = "failed"
            detail = "the log (\(log.description)) is not usable: \(error)"
        }
        if answer.askedBy == requestId {
            logger.error("readiness: \(detail)", metadata: ["request_id": .string(requestId)])
        }
        return Problem(
            check: check, message: "the log is unreachable; see the server log, request id \(answer.askedBy)")
    }

    /// Records in the log after `positions`, per topic: for every partition of each topic the
    /// positions mention, the high watermark minus the next offset the state will consume (the
    /// low watermark when the state has none for that partition). nil when the log fails or
    /// does not answer in time.
    func consumerLag(after positions: [StorePosition], requestId: String) async -> [String: Int64]? {
        let next = Dictionary(positions.map { (TopicPartition($0.topic, $0.partition), $0.offset) }, uniquingKeysWith: max)
        let topics = Set(positions.map(\.topic)).sorted()
        let answer = await watermarks.answer(key: topics.joined(separator: ","), requestId: requestId) { [log] in
            var all: [TopicPartition: Watermarks] = [:]
            for topic in topics {
                for partition in 0..<Int32(try log.partitionCount(of: topic)) {
                    all[TopicPartition(topic, partition)] = try log.watermarks(TopicPartition(topic, partition))
                }
            }
            return all
        }
        guard case .answered(let all) = answer.outcome else { return nil }
        var lag: [String: Int64] = [:]
        for topic in topics { lag[topic] = 0 }
        for (partition, watermarks) in all {
            let consumed = next[partition] ?? watermarks.low
            lag[partition.topic, default: 0] += max(0, watermarks.high - consumed)
        }
        return lag
    }
}
