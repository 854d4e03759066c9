import LoupeEvents
import LoupeLog
import LoupeStore

/// Asks the log, off the event loops and with a time limit, whether it answers and how far the
/// served state is behind it.
struct LogProbe: Sendable {
    let log: any EventLog
    var timeout: Duration = .seconds(2)
    private let queue = BlockingQueue(label: "loupe.log-probe")

    init(log: any EventLog) {
        self.log = log
    }

    /// nil when the log answers and has the impressions topic (where served lists go); else why not.
    func problem() async -> String? {
        do {
            guard
                try await queue.run(timeout: timeout, { [log] in try log.partitionCount(of: Topic.impressions.rawValue) }) != nil
            else {
                return "the log (\(log.description)) did not answer within \(timeout)"
            }
            return nil
        } catch {
            return "the log (\(log.description)) is not usable: \(error)"
        }
    }

    /// Records in the log after `positions`, per topic: for every partition of each topic the
    /// positions mention, the high watermark minus the next offset the state will consume (the
    /// low watermark when the state has none for that partition). nil when the log fails or
    /// does not answer in time.
    func consumerLag(after positions: [StorePosition]) async -> [String: Int64]? {
        let next = Dictionary(positions.map { (TopicPartition($0.topic, $0.partition), $0.offset) }, uniquingKeysWith: max)
        let topics = Set(positions.map(\.topic))
        return try? await queue.run(timeout: timeout) { [log] in
            var lag: [String: Int64] = [:]
            for topic in topics {
                var total: Int64 = 0
                for partition in 0..<Int32(try log.partitionCount(of: topic)) {
                    let watermarks = try log.watermarks(TopicPartition(topic, partition))
                    let consumed = next[TopicPartition(topic, partition)] ?? watermarks.low
                    total += max(0, watermarks.high - consumed)
                }
                lag[topic] = total
            }
            return lag
        }
    }
}
