import LoupeKafka
import LoupeEmbeddedLog
import Foundation
import LoupeLog
import Testing

/// The two log backends, for tests that run against both (`@Test(arguments: Backend.allCases)`).
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case embedded
    case kafka

    var testDescription: String { rawValue }

    /// A log to test with: a fresh embedded log in a temporary directory, or the test broker
    /// (shared between tests, which therefore use unique topic and group names).
    func makeLog() throws -> any EventLog {
        switch self {
        case .embedded:
            return try EmbeddedLog(directory: NSTemporaryDirectory() + "loupe-test-\(UUID().uuidString)")
        case .kafka:
            return try KafkaLog(brokers: TestBroker.address(), properties: [:])
        }
    }
}

/// The Kafka-compatible broker that `ops/broker.sh` runs; its address comes from the environment.
enum TestBroker {
    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "LOUPE_TEST_BROKERS is not set, so the Kafka tests cannot run. Start the broker: "
                + "ops/broker.sh start, export LOUPE_TEST_BROKERS=$(ops/broker.sh address)"
        }
    }

    static func address() throws -> String {
        guard let brokers = ProcessInfo.processInfo.environment["LOUPE_TEST_BROKERS"], !brokers.isEmpty else {
            throw Missing()
        }
        return brokers
    }
}

/// One test's log, unique names, and the producers and consumers it made, which `close()`
/// releases. Kafka group members that are not closed can stall their group on the test broker.
final class LogFixture {
    let log: any EventLog
    private var consumers: [any LogConsumer] = []
    private var producers: [any LogProducer] = []

    init(_ backend: Backend) throws {
        log = try backend.makeLog()
    }

    init(_ log: any EventLog) {
        self.log = log
    }

    /// A topic or group name no other test (or earlier run against the same broker) uses.
    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(12).lowercased())"
    }

    /// Creates a topic with a unique name that keeps its records forever (test timestamps may
    /// be old), and returns the name.
    @discardableResult
    func topic(_ prefix: String, partitions: Int, config: [String: String] = [:]) throws -> String {
        let name = Self.uniqueName(prefix)
        let spec = TopicSpec(
            name: name, partitions: partitions, key: "test",
            config: ["retention.ms": "-1"].merging(config) { $1 })
        let outcome = try log.apply([spec])
        #expect(outcome == [name: .created])
        return name
    }

    func producer() throws -> any LogProducer {
        let producer = try log.makeProducer()
        producers.append(producer)
        return producer
    }

    func consumer(group: String?) throws -> any LogConsumer {
        let consumer = try log.makeConsumer(group: group)
        consumers.append(consumer)
        return consumer
    }

    func close() {
        for consumer in consumers { consumer.close() }
        for producer in producers { try? producer.close() }
        consumers = []
        producers = []
    }

    /// Polls until `count` records have arrived or `timeout` has passed.
    static func read(
        _ consumer: any LogConsumer, count: Int, maxRecords: Int = 10_000, timeout: Duration = .seconds(30)
    )
        throws -> [LogRecord]
    {
        let deadline = ContinuousClock.now + timeout
        var records: [LogRecord] = []
        while records.count < count, ContinuousClock.now < deadline {
            records += try consumer.poll(
                maxRecords: min(maxRecords, count - records.count), timeout: .milliseconds(200))
        }
        return records
    }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}

/// Now, in epoch milliseconds.
func nowMilliseconds() -> Int64 {
    Int64(Date().timeIntervalSince1970 * 1000)
}
