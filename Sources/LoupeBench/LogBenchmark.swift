import LoupeConcurrency
import LoupeEvents
import LoupeLog

/// `loupe bench log`: events per second through a log backend, each way, with the work a real
/// producer and consumer do included — validation and canonical JSON encoding on the way in
/// (`EventIngestor`, as `loupe produce` does), JSON decoding and validation on the way out.
public enum LogBenchmark {
    public struct Result: Sendable {
        public var backend: String
        public var events: Int
        public var bytes: Int
        public var produceSeconds: Double
        public var consumeSeconds: Double

        public var produceRate: Double { Double(events) / produceSeconds }
        public var consumeRate: Double { Double(events) / consumeSeconds }
    }

    /// Events per batch, each way: what `loupe produce` validates at once, and a consumer's poll.
    public static let batchSize = 4096

    /// Produces `lines` (JSON events) through `log` and consumes them back.
    /// The topics must exist; records already in them are not read (consumption starts at the
    /// high watermarks taken before producing), so the benchmark can run on a used log.
    public static func run(log: any EventLog, lines: [[UInt8]], progress: (String, Int) -> Void = { _, _ in }) throws -> Result {
        var partitions: [TopicPartition] = []
        for topic in Topic.allCases {
            let count = try log.partitionCount(of: topic.rawValue)
            partitions += (0..<Int32(count)).map { TopicPartition(topic.rawValue, $0) }
        }
        var before: [TopicPartition: Int64] = [:]
        for partition in partitions { before[partition] = try log.watermarks(partition).high }

        let producer = try log.makeProducer()
        let ingestor = EventIngestor(producer: producer, source: "bench", clock: { 0 })
        let produceStart = ContinuousClock.now
        for start in stride(from: 0, to: lines.count, by: batchSize) {
            try ingestor.ingest(batch: Array(lines[start..<min(lines.count, start + batchSize)]), origin: "bench", firstIndex: start)
            progress("produce", start)
        }
        try producer.close()
        let produceSeconds = seconds(since: produceStart)
        guard ingestor.summary.acceptedCount == lines.count else {
            throw LogError("benchmark input had \(ingestor.summary.rejectedCount) invalid events: \(ingestor.summary.rejected)")
        }

        var after: [TopicPartition: Int64] = [:]
        for partition in partitions { after[partition] = try log.watermarks(partition).high }
        let expected = partitions.reduce(Int64(0)) { $0 + after[$1]! - before[$1]! }

        let consumer = try log.makeConsumer(group: nil)
        defer { consumer.close() }
        try consumer.assign(Dictionary(uniqueKeysWithValues: partitions.map { ($0, StartPosition.offset(before[$0]!)) }))
        let consumeStart = ContinuousClock.now
        var consumed: Int64 = 0
        var bytes = 0
        while consumed < expected {
            let records = try consumer.poll(maxRecords: batchSize, timeout: .seconds(10)).filter { $0.offset < after[$0.topicPartition]! }
            if records.isEmpty { throw LogError("consumer stalled after \(consumed) of \(expected) records from \(log.description)") }
            let decoded = parallelMap(count: records.count) { index in
                Swift.Result { () throws(EventValidationError) -> Event in
                    try EventCodec.decode(records[index].value, topic: Topic(rawValue: records[index].topic))
                }
            }
            for (record, outcome) in zip(records, decoded) {
                _ = try outcome.get()
                bytes += record.value.count
                consumed += 1
            }
            progress("consume", Int(consumed))
        }
        return Result(
            backend: log.description, events: lines.count, bytes: bytes, produceSeconds: produceSeconds,
            consumeSeconds: seconds(since: consumeStart))
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
