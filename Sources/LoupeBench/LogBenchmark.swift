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
        for (index, line) in lines.enumerated() {
            try ingestor.ingest(line, location: "bench:\(index)")
            if index % 65_536 == 0 { progress("produce", index) }
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
            let records = try consumer.poll(maxRecords: 4096, timeout: .seconds(10))
            if records.isEmpty { throw LogError("consumer stalled after \(consumed) of \(expected) records from \(log.description)") }
            for record in records where record.offset < after[record.topicPartition]! {
                _ = try EventCodec.decode(record.value, topic: Topic(rawValue: record.topic))
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
