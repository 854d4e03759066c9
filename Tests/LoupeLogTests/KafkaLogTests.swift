import LoupeKafka
import Foundation
import Testing

@testable import LoupeLog

/// What only the Kafka backend does: librdkafka properties, and delivery failures that the
/// broker reports after `send` has returned. The shared behaviour is in ConformanceTests.
@Suite struct KafkaLogTests {
    static func log(_ properties: [String: String] = [:]) throws -> KafkaLog {
        try KafkaLog(brokers: TestBroker.address(), properties: properties)
    }

    @Test func describesItsBrokers() throws {
        let brokers = try TestBroker.address()
        #expect(try Self.log().description == "Kafka at \(brokers)")
    }

    @Test func brokersAreRequired() {
        let error = #expect(throws: LogError.self) { try KafkaLog(brokers: " ", properties: [:]) }
        #expect(error?.message.contains("no Kafka brokers") == true)
    }

    @Test func anUnknownPropertyIsAClearError() throws {
        let error = #expect(throws: LogError.self) { try Self.log(["no.such.property": "1"]) }
        #expect(error?.message.contains("no.such.property") == true)
        #expect(error?.message.contains("No such configuration property") == true)
    }

    @Test func anInvalidValueIsAClearError() throws {
        let error = #expect(throws: LogError.self) { try Self.log(["linger.ms": "soon"]) }
        #expect(error?.message.contains("linger.ms") == true)
        #expect(error?.message.contains("soon") == true)
    }

    @Test func secretsStayOutOfErrorMessages() throws {
        let error = #expect(throws: LogError.self) {
            try Self.log(["sasl.password": "hunter2", "no.such.property": "x"])
        }
        #expect(error?.message.contains("hunter2") == false)
        let valueError = #expect(throws: LogError.self) {
            try Self.log(["ssl.key.password": "hunter2", "linger.ms": "soon"])
        }
        #expect(valueError?.message.contains("hunter2") == false)
    }

    @Test func propertiesOverrideLoupesDefaults() throws {
        // Loupe's producer is idempotent, which needs acks=all: the user's acks=1 wins and
        // librdkafka refuses the combination when the producer is made.
        let log = try Self.log(["acks": "1"])
        let error = #expect(throws: LogError.self) { try log.makeProducer() }
        #expect(error?.message.contains("cannot create a Kafka producer") == true)
        #expect(error?.message.contains("acks") == true)
        // Overriding both is accepted.
        let relaxed = try Self.log(["acks": "1", "enable.idempotence": "false"])
        try relaxed.makeProducer().close()
    }

    @Test func producingToAMissingTopicFailsTheFlushAndCreatesNothing() throws {
        let log = try Self.log(["topic.metadata.propagation.max.ms": "500"])
        let topic = LogFixture.uniqueName("never-created")
        let producer = try log.makeProducer()
        defer { try? producer.close() }
        try producer.send(topic: topic, key: "k".bytes, value: "v".bytes, timestamp: nowMilliseconds())
        try producer.send(topic: topic, key: "k".bytes, value: "w".bytes, timestamp: nowMilliseconds())
        let error = #expect(throws: LogError.self) { try producer.flush() }
        #expect(error?.message.contains(topic) == true)
        #expect(error?.message.contains("Unknown topic or partition") == true)
        #expect(error?.message.contains("1 more") == true)
        #expect(throws: LogError.self) { try log.partitionCount(of: topic) }
        // The failure is reported once; the producer goes on working.
        try producer.flush()
    }

    @Test func aRecordOverTheTopicsSizeLimitFailsTheFlush() throws {
        let log = try Self.log()
        let fixture = LogFixture(log)
        defer { fixture.close() }
        let topic = try fixture.topic("small", partitions: 1, config: ["max.message.bytes": "2000"])
        let producer = try fixture.producer()
        try producer.send(
            topic: topic, key: nil, value: [UInt8](repeating: 7, count: 10_000), timestamp: nowMilliseconds())
        let error = #expect(throws: LogError.self) { try producer.flush() }
        #expect(error?.message.contains("\(topic)/0") == true)
        #expect(error?.message.contains("MSG_SIZE_TOO_LARGE") == true)
        #expect(try log.watermarks(TopicPartition(topic, 0)) == Watermarks(low: 0, high: 0))
    }

    @Test func subscribingToAMissingTopicFailsThePoll() throws {
        // Kafka learns of the missing topic from the group's metadata, so poll reports it
        // (the embedded log already refuses the subscription).
        let log = try Self.log()
        let consumer = try log.makeConsumer(group: LogFixture.uniqueName("group"))
        defer { consumer.close() }
        let missing = LogFixture.uniqueName("missing")
        let error = #expect(throws: LogError.self) {
            try consumer.subscribe([missing], fallback: .beginning)
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                _ = try consumer.poll(maxRecords: 1, timeout: .milliseconds(200))
            }
        }
        #expect(error?.message.contains(missing) == true)
        #expect(throws: LogError.self) { try log.partitionCount(of: missing) }
    }

    @Test func groupMembersShareThePartitions() throws {
        let log = try Self.log()
        let fixture = LogFixture(log)
        defer { fixture.close() }
        let topic = try fixture.topic("shared", partitions: 2)
        let producer = try fixture.producer()
        for index in 0..<20 {
            try producer.send(
                topic: topic, key: "user-\(index)".bytes, value: "\(index)".bytes, timestamp: nowMilliseconds())
        }
        try producer.flush()

        let group = LogFixture.uniqueName("group")
        let members = [try fixture.consumer(group: group), try fixture.consumer(group: group)]
        for member in members { try member.subscribe([topic], fallback: .beginning) }
        var values: Set<[UInt8]> = []
        let deadline = ContinuousClock.now + .seconds(60)
        // Both members must keep polling to take part in the rebalance.
        while ContinuousClock.now < deadline {
            for member in members {
                values.formUnion(try member.poll(maxRecords: 100, timeout: .milliseconds(100)).map(\.value))
            }
            if members.allSatisfy({ $0.assignment().count == 1 }), values.count == 20 { break }
        }
        let assignments = members.map { $0.assignment() }
        #expect(assignments.map(\.count) == [1, 1])
        #expect(Set(assignments.flatMap { $0 }) == [TopicPartition(topic, 0), TopicPartition(topic, 1)])
        #expect(values == Set((0..<20).map { "\($0)".bytes }))
        for member in members {
            for partition in member.assignment() {
                #expect(member.position(partition) == (try log.watermarks(partition)).high)
            }
        }
    }

    @Test func closingTwiceIsHarmlessAndAClosedConsumerRefusesWork() throws {
        let log = try Self.log()
        let consumer = try log.makeConsumer(group: LogFixture.uniqueName("group"))
        consumer.close()
        consumer.close()
        let error = #expect(throws: LogError.self) { try consumer.poll(maxRecords: 1, timeout: .zero) }
        #expect(error?.message.contains("closed") == true)
        let producer = try log.makeProducer()
        try producer.close()
        try producer.close()
        #expect(throws: LogError.self) { try producer.send(topic: "t", key: nil, value: [], timestamp: 0) }
    }
}
