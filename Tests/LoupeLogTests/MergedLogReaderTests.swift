import Foundation
import LoupeLog
import Testing

/// The learner's fold order: a function of the log, whatever the read sizes and restarts.
@Suite struct MergedLogReaderTests {
    /// The order computed directly from the records: running-maximum clocks per partition,
    /// then sorted by (clock, partition rank, offset).
    static func referenceOrder(_ records: [LogRecord], partitions: [TopicPartition]) -> [LogRecord] {
        var keyed: [(clock: Int64, rank: Int, offset: Int64, record: LogRecord)] = []
        for (rank, partition) in partitions.enumerated() {
            var clock = Int64.min
            for record in records.filter({ $0.topicPartition == partition }).sorted(by: { $0.offset < $1.offset }) {
                clock = max(clock, record.timestamp)
                keyed.append((clock, rank, record.offset, record))
            }
        }
        return keyed.sorted { ($0.clock, $0.rank, $0.offset) < ($1.clock, $1.rank, $1.offset) }.map(\.record)
    }

    @Test(arguments: Backend.allCases)
    func orderIsTheSameWhateverTheReadSizesAndRestarts(_ backend: Backend) throws {
        let fixture = try LogFixture(backend)
        defer { fixture.close() }
        let busy = try fixture.topic("merge-busy", partitions: 3)
        let quiet = try fixture.topic("merge-quiet", partitions: 1)
        let producer = try fixture.producer()
        var random = UInt64(42)
        func next(_ bound: Int) -> Int {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(random >> 33) % bound
        }
        let base = nowMilliseconds() - 3_600_000
        for index in 0..<600 {
            // Timestamps drift forward with jitter, so partitions hold some out-of-order records.
            let time = base + Int64(index * 10 + next(200))
            try producer.send(topic: busy, key: "user-\(next(50))".bytes, value: "b\(index)".bytes, timestamp: time)
            if index % 40 == 0 {
                try producer.send(topic: quiet, key: "item-\(index)".bytes, value: "q\(index)".bytes, timestamp: time)
            }
        }
        try producer.close()
        let partitions = [TopicPartition(quiet, 0)] + (0..<3).map { TopicPartition(busy, $0) }
        let everything = try LogFixture.read(try {
            let consumer = try fixture.consumer(group: nil)
            try consumer.assign(Dictionary(uniqueKeysWithValues: partitions.map { ($0, .beginning) }))
            return consumer
        }(), count: 615)
        try #require(everything.count == 615)
        let expected = Self.referenceOrder(everything, partitions: partitions).map(\.value)

        // Read in uneven pieces, starting a new consumer from the cursors each time.
        var cursors: [TopicPartition: MergedLogReader.Cursor] = [:]
        var merged: [[UInt8]] = []
        var ends: [TopicPartition: Int64] = [:]
        for partition in partitions { ends[partition] = try fixture.log.watermarks(partition).high }
        while merged.count < expected.count {
            let reader = try MergedLogReader(consumer: try fixture.consumer(group: nil), partitions: partitions, cursors: cursors)
            let piece = try reader.read(maxRecords: 1 + next(120), timeout: .seconds(10), ends: ends)
            try #require(!piece.isEmpty, "the reader stalled after \(merged.count) records")
            merged += piece.map(\.value)
            cursors = reader.cursors
        }
        #expect(merged == expected)
    }

    @Test(arguments: Backend.allCases)
    func anEmptyPartitionHoldsTheMergeUntilItHasARecordOrReachesItsEnd(_ backend: Backend) throws {
        let fixture = try LogFixture(backend)
        defer { fixture.close() }
        let topic = try fixture.topic("merge-wait", partitions: 2)
        let keyFor = { (partition: Int32) -> [UInt8] in
            (0...).lazy.map { "k\($0)".bytes }.first { Murmur2.partition(for: $0, partitions: 2) == partition }!
        }
        let producer = try fixture.producer()
        let time = nowMilliseconds()
        try producer.send(topic: topic, key: keyFor(0), value: "early".bytes, timestamp: time)
        try producer.send(topic: topic, key: keyFor(0), value: "later".bytes, timestamp: time + 10)
        try producer.flush()
        let partitions = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
        let reader = try MergedLogReader(consumer: try fixture.consumer(group: nil), partitions: partitions, cursors: [:])

        #expect(try reader.read(maxRecords: 10, timeout: .milliseconds(500)).isEmpty)
        #expect(reader.waitingFor() == [TopicPartition(topic, 1)])

        // A record in the other partition at time + 5 lets "early" through, and holds "later".
        try producer.send(topic: topic, key: keyFor(1), value: "middle".bytes, timestamp: time + 5)
        try producer.flush()
        let values = try reader.read(maxRecords: 10, timeout: .seconds(10)).map { String(decoding: $0.value, as: UTF8.self) }
        #expect(values == ["early", "middle"])
        // At its end, the other partition no longer holds the merge.
        let rest = try reader.read(maxRecords: 10, timeout: .seconds(10), ends: [TopicPartition(topic, 1): 1])
        #expect(rest.map { String(decoding: $0.value, as: UTF8.self) } == ["later"])
        #expect(reader.cursors[TopicPartition(topic, 0)] == MergedLogReader.Cursor(next: 2, clock: time + 10))
        try producer.close()
    }
}
