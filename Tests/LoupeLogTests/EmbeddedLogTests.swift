@testable import LoupeEmbeddedLog
import Foundation
import Glibc
@testable import LoupeLog
import Testing

/// What only the embedded backend does: cleaning, several writers, waiting without spinning.
/// The behaviour both backends share is in ConformanceTests.
@Suite struct EmbeddedLogTests {
    static func freshLog() throws -> EmbeddedLog {
        try EmbeddedLog(directory: NSTemporaryDirectory() + "loupe-embedded-\(UUID().uuidString)")
    }

    static func readAll(_ log: EmbeddedLog, _ topic: String) throws -> [LogRecord] {
        let consumer = try log.makeConsumer(group: nil)
        defer { consumer.close() }
        try consumer.subscribe([topic], fallback: .beginning)
        var records: [LogRecord] = []
        while true {
            let batch = try consumer.poll(maxRecords: 10_000, timeout: .zero)
            if batch.isEmpty { return records }
            records += batch
        }
    }

    @Test func retentionDeletesOldRecordsAndKeepsOffsets() throws {
        let log = try Self.freshLog()
        _ = try log.apply([TopicSpec(name: "short", partitions: 1, key: "k", config: ["retention.ms": "60000"])])
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let producer = try log.makeProducer()
        for timestamp in [now - 200_000, now - 100_000, now - 1_000, now] {
            try producer.send(topic: "short", key: nil, value: Array("\(timestamp)".utf8), timestamp: timestamp)
        }
        // The first flush of a log runs the cleaner: the two records older than a minute go.
        try producer.close()
        #expect(try log.watermarks(TopicPartition("short", 0)) == Watermarks(low: 2, high: 4))
        #expect(try Self.readAll(log, "short").map(\.offset) == [2, 3])
        // Seeking to a time whose records are gone starts at the oldest retained record.
        let consumer = try log.makeConsumer(group: nil)
        try consumer.assign([TopicPartition("short", 0): .timestamp(now - 150_000)])
        #expect(consumer.position(TopicPartition("short", 0)) == 2)
        // Later, the rest expires too; offsets keep counting.
        #expect(try EmbeddedCleaner(log: log).run(now: now + 120_000) == 2)
        #expect(try log.watermarks(TopicPartition("short", 0)) == Watermarks(low: 4, high: 4))
    }

    @Test func compactionKeepsTheNewestRecordPerKey() throws {
        let log = try Self.freshLog()
        _ = try log.apply([TopicSpec(name: "items", partitions: 1, key: "item_id", config: ["cleanup.policy": "compact", "retention.ms": "-1"])])
        let producer = try log.makeProducer()
        for (index, key) in ["a", "b", "a", "c", "b", "a"].enumerated() {
            try producer.send(topic: "items", key: Array(key.utf8), value: Array("\(key)\(index)".utf8), timestamp: Int64(index))
        }
        try producer.close()
        try EmbeddedCleaner(log: log).run(now: 1_000_000)
        let records = try Self.readAll(log, "items")
        #expect(records.map(\.offset) == [3, 4, 5])
        #expect(records.map { String(decoding: $0.value, as: UTF8.self) } == ["c3", "b4", "a5"])
    }

    @Test func concurrentProducersGetContiguousOffsets() async throws {
        let directory = NSTemporaryDirectory() + "loupe-embedded-\(UUID().uuidString)"
        let setup = try EmbeddedLog(directory: directory)
        _ = try setup.apply([TopicSpec(name: "shared", partitions: 2, key: "k", config: [:])])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    // Each writer opens the log on its own, as separate processes would.
                    let log = try EmbeddedLog(directory: directory)
                    let producer = try log.makeProducer()
                    for index in 0..<2_500 {
                        try producer.send(topic: "shared", key: Array("w\(writer)-\(index % 10)".utf8), value: Array("\(writer):\(index)".utf8), timestamp: 1)
                        if index % 100 == 0 { try producer.flush() }
                    }
                    try producer.close()
                }
            }
            try await group.waitForAll()
        }
        let records = try Self.readAll(setup, "shared")
        #expect(records.count == 10_000)
        #expect(Set(records.map { String(decoding: $0.value, as: UTF8.self) }).count == 10_000)
        for partition in [Int32(0), 1] {
            let offsets = records.filter { $0.partition == partition }.map(\.offset)
            #expect(offsets == Array(0..<Int64(offsets.count)))
        }
    }

    @Test func waitingReaderSleepsUntilARecordArrives() throws {
        let directory = NSTemporaryDirectory() + "loupe-embedded-\(UUID().uuidString)"
        let log = try EmbeddedLog(directory: directory)
        _ = try log.apply([TopicSpec(name: "wake", partitions: 1, key: "k", config: [:])])
        let consumer = try log.makeConsumer(group: nil)
        try consumer.assign([TopicPartition("wake", 0): .end])

        // Idle: a one-second poll on an empty topic must not burn the CPU.
        let cpuBefore = Self.threadCPUSeconds()
        #expect(try consumer.poll(maxRecords: 10, timeout: .seconds(1)).isEmpty)
        #expect(Self.threadCPUSeconds() - cpuBefore < 0.3)

        // A record produced by another writer wakes the reader long before its timeout.
        let writer = Thread {
            usleep(200_000)
            let producer = try! EmbeddedLog(directory: directory).makeProducer()
            try! producer.send(topic: "wake", key: nil, value: Array("hello".utf8), timestamp: 1)
            try! producer.close()
        }
        writer.start()
        let start = ContinuousClock.now
        let records = try consumer.poll(maxRecords: 10, timeout: .seconds(30))
        #expect(records.map { String(decoding: $0.value, as: UTF8.self) } == ["hello"])
        #expect(ContinuousClock.now - start < .seconds(20))
    }

    @Test func invalidTopicNamesAreRejected() throws {
        let log = try Self.freshLog()
        #expect(throws: LogError.self) { try log.apply([TopicSpec(name: "no spaces", partitions: 1, key: "k", config: [:])]) }
        #expect(throws: LogError.self) { try log.apply([TopicSpec(name: "zero", partitions: 0, key: "k", config: [:])]) }
    }

    /// CPU time of the calling thread (other tests run in parallel in this process).
    static func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
