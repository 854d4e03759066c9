import Foundation
import LoupeLog
import Testing

/// The `EventLog` contract, run against both backends.
@Suite struct ConformanceTests {
    @Test(arguments: Backend.allCases)
    func applyCreatesTopicsOnceAndReportsConflicts(_ backend: Backend) throws {
        let fixture = try LogFixture(backend)
        defer { fixture.close() }
        let log = fixture.log
        let wide = LogFixture.uniqueName("apply-wide")
        let narrow = LogFixture.uniqueName("apply-narrow")
        let specs = [
            TopicSpec(name: wide, partitions: 3, key: "user_id", config: ["retention.ms": "-1"]),
            TopicSpec(name: narrow, partitions: 1, key: "item_id", config: ["cleanup.policy": "compact"]),
        ]
        #expect(try log.apply(specs) == [wide: .created, narrow: .created])
        #expect(try log.partitionCount(of: wide) == 3)
        #expect(try log.partitionCount(of: narrow) == 1)
        #expect(try log.apply(specs) == [wide: .unchanged, narrow: .unchanged])

        let changed = TopicSpec(name: wide, partitions: 5, key: "user_id", config: [:])
        let outcome = try #require(try log.apply([changed])[wide])
        guard case .conflict(let message) = outcome else {
            Issue.record("a partition mismatch gave \(outcome), not a conflict")
            return
        }
        #expect(message.contains("has 3 partitions"))
        #expect(message.contains("5"))
        #expect(try log.partitionCount(of: wide) == 3)
    }

    @Test(arguments: Backend.allCases)
    func recordsComeBackInOffsetOrderWithKeysValuesAndTimestamps(_ backend: Backend) throws {
        let fixture = try LogFixture(backend)
        defer { fixture.close() }
        let topic = try fixture.topic("roundtrip", partitions: 3)
        let base = nowMilliseconds() - 60_000
        let sent = (0..<90).map { index in
            (key: "user-\(index % 17)".bytes, value: "{\"event\":\(index)}".bytes, timestamp: base + Int64(index))
        }
        let producer = try fixture.producer()
        for record in sent {
            try producer.send(topic: topic, key: record.key, value: record.value, timestamp: record.timestamp)
        }
        try producer.flush()

        let consumer = try fixture.consumer(group: nil)
        try consumer.assign(Dictionary(uniqueKeysWithValues: (0..<3).map { (TopicPartition(topic, $0), .beginning) }))
        #expect(consumer.assignment() == (0..<3).map { TopicPartition(topic, $0) })
        let received = try LogFixture.read(consumer, count: sent.count)
        try #require(received.count == sent.count)

        for partition in Int32(0)..<3 {
            let inPartition = received.filter { $0.partition == partition }
            #expect(inPartition.map(\.offset) == (0..<Int64(inPartition.count)).map { $0 })
            let expected = sent.filter { Murmur2.partition(for: $0.key, partitions: 3) == partition }
            #expect(inPartition.map(\.key) == expected.map(\.key))
            #expect(inPartition.map(\.value) == expected.map(\.value))
            #expect(inPartition.map(\.timestamp) == expected.map(\.timestamp))
            #expect(consumer.position(TopicPartition(topic, partition)) == Int64(inPartition.count))
            #expect(
                try fixture.log.watermarks(TopicPartition(topic, partition))
                    == Watermarks(low: 0, high: Int64(expected.count)))
        }
        #expect(received.allSatisfy { $0.topic == topic })
        #expect(try consumer.poll(maxRecords: 10, timeout: .milliseconds(100)).isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func forEachRecordReadsEachPartitionFromItsStartToItsEndAsOfTheCall(_ backend: Backend) throws {
        let fixture = try LogFixture(backend)
        defer { fixture.close() }
        let topic = try fixture.topic("each", partitions: 2)
        let producer = try fixture.producer()
        let time = nowMilliseconds()
        // Partition 0 gets keys a0…a9, partition 1 b0…b9 (whatever Murmur2 says, each key to one).
        var sent: [Int32: [String]] = [:]
        for index in 0..<40 {
            let key = "k-\(index)"
            sent[Murmur2.partition(for: key.bytes, partitions: 2), default: []].append(key)
            try producer.send(topic: topic, key: key.bytes, value: key.bytes, timestamp: time + Int64(index))
        }
        try producer.flush()
        let partitions = try fixture.log.partitions(of: [topic])
        #expect(partitions == [TopicPartition(topic, 0), TopicPartition(topic, 1)])

        var read: [(Int32, Int64, String)] = []
        try fixture.log.forEachRecord(in: partitions, from: [TopicPartition(topic, 1): 3]) { record in
            read.append((record.partition, record.offset, String(decoding: record.value, as: UTF8.self)))
            // Appended while reading: not read, since each partition ends where it was at its turn.
            if read.count == 1 {
                for key in ["late-0", "late-1", "late-2"] {
                    try producer.send(topic: topic, key: key.bytes, value: key.bytes, timestamp: time + 100)
                }
                try producer.flush()
            }
        }
        let fromZero = read.filter { $0.0 == 0 }
        let fromOne = read.filter { $0.0 == 1 }
        #expect(fromZero.map(\.2) == sent[0]!)
        #expect(fromZero.map(\.1) == (0..<Int64(sent[0]!.count)).map { $0 })
        // Partition 1 came second, so it ends at its watermark then, after the late records.
        let late = ["late-0", "late-1", "late-2"].filter { Murmur2.partition(for: $0.bytes, partitions: 2) == 1 }
        #expect(fromOne.map(\.2) == Array(sent[1]!.dropFirst(3)) + late)
        #expect(fromOne.first?.1 == 3)
        try producer.close()
    }

    @Test(arguments: Backend.allCases)
    func recordsWithoutKeyOrValueSurvive(_ backend: Backend) throws {
        let fixture = try LogFixture(backend)
        defer { fixture.close() }
        let topic = try fixture.topic("nokey", partitions: 1)
        let producer = try fixture.producer()
        let time = nowMilliseconds()
        try producer.send(topic: topic, key: nil, value: "no key".bytes, timestamp: time)
        try producer.send(topic: topic, key: "empty value".bytes, value: [], timestamp: time + 1)
        try producer.close()

        let consumer = try fixture.consumer(group: nil)
        try consumer.assign([TopicPartition(topic, 0): .beginning])
        let records = try LogFixture.read(consumer, count: 2)
        #expect(records.map(\.key) == [nil, "empty value".bytes])
        #expect(records.map(\.value) == ["no key".bytes, []])
    }

    @Test(arguments: Backend.allCases)
    func seekToBeginningOffsetTimestampAndEnd(_ backend: Backend) throws {
        let fixture = try LogFixture(backend)
        defer { fixture.close() }
        let topic = try fixture.topic("seek", partitions: 1)
        let partition = TopicPartition(topic, 0)
        let base = nowMilliseconds() - 100_000
        let producer = try fixture.producer()
        for index in 0..<10 {
            try producer.send(
                topic: topic, key: "k".bytes, value: "\(index)".bytes, timestamp: base + Int64(index) * 1_000)
        }
        try producer.flush()

        let consumer = try fixture.consumer(group: nil)
        try consumer.assign([partition: .offset(3)])
        #expect(consumer.position(partition) == 3)
        #expect(try LogFixture.read(consumer, count: 7).map(\.offset) == Array(3..<10))
        #expect(consumer.position(partition) == 10)

        try consumer.seek(partition, to: .beginning)
        #expect(consumer.position(partition) == 0)
        #expect(try LogFixture.read(consumer, count: 10).map(\.offset) == Array(0..<10))

        // The first record at or after the time: offset 4 has base + 4000.
        try consumer.seek(partition, to: .timestamp(base + 3_500))
        #expect(consumer.position(partition) == 4)
        #expect(try LogFixture.read(consumer, count: 1).first?.offset == 4)
        try consumer.seek(partition, to: .timestamp(base + 4_000))
        #expect(consumer.position(partition) == 4)
        try consumer.seek(partition, to: .timestamp(base + 60_000))
        #expect(consumer.position(partition) == 10)

        try consumer.seek(partition, to: .offset(7))
        #expect(try LogFixture.read(consumer, count: 1).map(\.value) == ["7".bytes])
        try consumer.seek(partition, to: .offset(1_000))
        #expect(consumer.position(partition) == 10)
        try consumer.seek(partition, to: .end)
        #expect(consumer.position(partition) == 10)
        #expect(try consumer.poll(maxRecords: 10, timeout: .milliseconds(200)).isEmpty)

        #expect(throws: LogError.self) { try consumer.seek(TopicPartition(topic, 5), to: .beginning) }
    }

    @Test(arguments: Backend.allCases)
    func consumerAtTheEndSeesOnlyNewRecords(_ backend: Backend) throws {
        let fixture = try LogFixture(backend)
        defer { fixture.close() }
        let topic = try fixture.topic("tail", partitions: 1)
        let partition = TopicPartition(topic, 0)
        let producer = try fixture.producer()
        let time = nowMilliseconds()
        for index in 0..<5 {
            try producer.send(topic: topic, key: nil, value: "old \(index)".bytes, timestamp: time)
        }
        try producer.flush()

        let consumer = try fixture.consumer(group: nil)
        try consumer.assign([partition: .end])
        #expect(consumer.position(partition) == 5)
        #expect(try consumer.poll(maxRecords: 10, timeout: .milliseconds(300)).isEmpty)
        for index in 0..<3 {
            try producer.send(topic: topic, key: nil, value: "new \(index)".bytes, timestamp: time)
        }
        try producer.flush()
        let records = try LogFixture.read(consumer, count: 3)
        #expect(records.map(\.offset) == [5, 6, 7])
        #expect(records.map(\.value) == (0..<3).map { "new \($0)".bytes })
    }

    @Test(arguments: Backend.allCases)
    func aGroupResumesFromItsCommittedPositions(_ backend: Backend) throws {
        let fixture = try LogFixture(backend)
        defer { fixture.close() }
        let topic = try fixture.topic("resume", partitions: 2)
        let partitions = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
        let producer = try fixture.producer()
        let time = nowMilliseconds()
        for index in 0..<40 {
            try producer.send(topic: topic, key: "user-\(index)".bytes, value: "\(index)".bytes, timestamp: time)
        }
        try producer.flush()
        let group = LogFixture.uniqueName("group")

        let first = try fixture.consumer(group: group)
        try first.subscribe([topic], fallback: .beginning)
        let early = try LogFixture.read(first, count: 15, maxRecords: 5)
        try #require(early.count == 15)
        #expect(first.assignment() == partitions)
        try first.commit()
        var expected: [TopicPartition: Int64] = [:]
        for partition in partitions {
            let read = early.filter { $0.topicPartition == partition }
            expected[partition] = read.last.map { $0.offset + 1 } ?? 0
            #expect(first.position(partition) == expected[partition])
        }
        #expect(try first.committed(partitions) == expected)
        first.close()

        // A new member starts at the group's positions, not at its fallback.
        let second = try fixture.consumer(group: group)
        try second.subscribe([topic], fallback: .end)
        let rest = try LogFixture.read(second, count: 25)
        #expect(rest.count == 25)
        for partition in partitions {
            #expect(rest.first { $0.topicPartition == partition }?.offset == expected[partition])
        }
        #expect(Set((early + rest).map(\.value)) == Set((0..<40).map { "\($0)".bytes }))

        let stranger = try fixture.consumer(group: LogFixture.uniqueName("other-group"))
        #expect(try stranger.committed(partitions).isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func subscribeFallsBackWhenTheGroupHasNoPositions(_ backend: Backend) throws {
        let fixture = try LogFixture(backend)
        defer { fixture.close() }
        let topic = try fixture.topic("fallback", partitions: 1)
        let producer = try fixture.producer()
        try producer.send(topic: topic, key: nil, value: "before".bytes, timestamp: nowMilliseconds())
        try producer.flush()

        let consumer = try fixture.consumer(group: LogFixture.uniqueName("group"))
        try consumer.subscribe([topic], fallback: .end)
        // Kafka assigns partitions during poll: wait until the consumer has its partition.
        let deadline = ContinuousClock.now + .seconds(30)
        while consumer.assignment().isEmpty, ContinuousClock.now < deadline {
            #expect(try consumer.poll(maxRecords: 10, timeout: .milliseconds(100)).isEmpty)
        }
        #expect(consumer.position(TopicPartition(topic, 0)) == 1)
        try producer.send(topic: topic, key: nil, value: "after".bytes, timestamp: nowMilliseconds())
        try producer.flush()
        #expect(try LogFixture.read(consumer, count: 1).map(\.value) == ["after".bytes])
    }

    @Test(arguments: Backend.allCases)
    func commitNeedsAGroup(_ backend: Backend) throws {
        let fixture = try LogFixture(backend)
        defer { fixture.close() }
        let topic = try fixture.topic("nogroup", partitions: 1)
        let consumer = try fixture.consumer(group: nil)
        try consumer.assign([TopicPartition(topic, 0): .beginning])
        let error = #expect(throws: LogError.self) { try consumer.commit() }
        #expect(error?.message.contains("commit needs a consumer group") == true)
    }

    @Test(arguments: Backend.allCases)
    func pollWaitsForTheTimeoutAndWakesForANewRecord(_ backend: Backend) throws {
        let fixture = try LogFixture(backend)
        defer { fixture.close() }
        let topic = try fixture.topic("wake", partitions: 1)
        let consumer = try fixture.consumer(group: nil)
        try consumer.assign([TopicPartition(topic, 0): .end])

        let clock = ContinuousClock()
        var records: [LogRecord] = []
        let idle = try clock.measure { records = try consumer.poll(maxRecords: 10, timeout: .milliseconds(400)) }
        #expect(records.isEmpty)
        #expect(idle >= .milliseconds(380))
        #expect(idle < .seconds(3))

        let log = fixture.log
        let failure = ProducerFailure()
        let writer = Thread {
            do {
                Thread.sleep(forTimeInterval: 0.3)
                let producer = try log.makeProducer()
                try producer.send(topic: topic, key: nil, value: "wake up".bytes, timestamp: nowMilliseconds())
                try producer.close()
            } catch {
                failure.set(error)
            }
        }
        writer.start()
        let woken = try clock.measure { records = try consumer.poll(maxRecords: 10, timeout: .seconds(20)) }
        #expect(failure.get() == nil)
        #expect(records.map(\.value) == ["wake up".bytes])
        #expect(woken < .seconds(5))
    }

    @Test(arguments: Backend.allCases)
    func describeTopicsListsTopicsWithWatermarksAndConfig(_ backend: Backend) throws {
        let fixture = try LogFixture(backend)
        defer { fixture.close() }
        let first = try fixture.topic("describe-a", partitions: 2)
        let second = try fixture.topic("describe-b", partitions: 1, config: ["cleanup.policy": "compact"])
        let producer = try fixture.producer()
        for index in 0..<7 {
            try producer.send(topic: first, key: "user-\(index)".bytes, value: [1, 2, 3], timestamp: nowMilliseconds())
        }
        try producer.flush()

        let descriptions = try fixture.log.describeTopics()
        #expect(descriptions.map(\.name) == descriptions.map(\.name).sorted())
        let a = try #require(descriptions.first { $0.name == first })
        let b = try #require(descriptions.first { $0.name == second })
        #expect(a.partitions.count == 2)
        #expect(a.partitions.allSatisfy { $0.low == 0 })
        #expect(a.retainedRecords == 7)
        #expect(a.config["retention.ms"] == "-1")
        #expect(b.partitions == [Watermarks(low: 0, high: 0)])
        #expect(b.config["cleanup.policy"] == "compact")
    }

    @Test(arguments: Backend.allCases)
    func missingTopicsAreErrors(_ backend: Backend) throws {
        let fixture = try LogFixture(backend)
        defer { fixture.close() }
        let missing = LogFixture.uniqueName("missing")
        let error = #expect(throws: LogError.self) { try fixture.log.partitionCount(of: missing) }
        #expect(error?.message.contains(missing) == true)
        #expect(throws: LogError.self) { try fixture.log.watermarks(TopicPartition(missing, 0)) }
        let consumer = try fixture.consumer(group: nil)
        let assignError = #expect(throws: LogError.self) {
            try consumer.assign([TopicPartition(missing, 0): .beginning])
        }
        #expect(assignError?.message.contains(missing) == true)
        // Asking did not create it.
        #expect(try !fixture.log.describeTopics().contains { $0.name == missing })
        #expect(throws: LogError.self) { try fixture.log.partitionCount(of: missing) }

        let topic = try fixture.topic("one-partition", partitions: 1)
        let partitionError = #expect(throws: LogError.self) {
            try consumer.assign([TopicPartition(topic, 3): .beginning])
        }
        #expect(partitionError?.message.contains("no partition 3") == true)
        #expect(throws: LogError.self) { try fixture.log.watermarks(TopicPartition(topic, 3)) }
    }
}

/// An error from a producer thread, for the test thread to check.
final class ProducerFailure: @unchecked Sendable {
    private let lock = NSLock()
    private var error: (any Error)?

    func set(_ error: any Error) {
        lock.withLock { self.error = error }
    }

    func get() -> (any Error)? {
        lock.withLock { error }
    }
}

/// Pausing partitions, which the merging reader of the learner relies on.
@Suite struct PauseConformanceTests {
    @Test(arguments: Backend.allCases)
    func pausedPartitionsYieldNothingUntilResumedAndLoseNothing(_ backend: Backend) throws {
        let fixture = try LogFixture(backend)
        defer { fixture.close() }
        let topic = try fixture.topic("pause", partitions: 2)
        let producer = try fixture.producer()
        let time = nowMilliseconds()
        var perPartition: [Int32: [String]] = [0: [], 1: []]
        for index in 0..<200 {
            let key = "user-\(index)".bytes
            let value = "\(index)"
            perPartition[Murmur2.partition(for: key, partitions: 2)]!.append(value)
            try producer.send(topic: topic, key: key, value: value.bytes, timestamp: time)
        }
        try producer.close()
        let first = TopicPartition(topic, 0)
        let second = TopicPartition(topic, 1)

        let consumer = try fixture.consumer(group: nil)
        try consumer.assign([first: .beginning, second: .beginning])
        try consumer.pause([first])
        var received: [Int32: [String]] = [0: [], 1: []]
        let secondCount = perPartition[1]!.count
        while received[1]!.count < secondCount {
            let batch = try consumer.poll(maxRecords: 50, timeout: .seconds(10))
            try #require(!batch.isEmpty, "stalled before reading the unpaused partition")
            for record in batch { received[record.partition]!.append(String(decoding: record.value, as: UTF8.self)) }
        }
        #expect(try consumer.poll(maxRecords: 50, timeout: .milliseconds(500)).allSatisfy { $0.partition != 0 })
        let readBeforePause = received[0]!.count

        try consumer.resume([first])
        while received[0]!.count < perPartition[0]!.count {
            let batch = try consumer.poll(maxRecords: 50, timeout: .seconds(10))
            try #require(!batch.isEmpty, "stalled after resuming")
            for record in batch { received[record.partition]!.append(String(decoding: record.value, as: UTF8.self)) }
        }
        #expect(received[0] == perPartition[0], "nothing lost or repeated across pause and resume (\(readBeforePause) read while paused)")
        #expect(received[1] == perPartition[1])
        #expect(consumer.position(first) == Int64(perPartition[0]!.count))
    }
}
