import LoupeConcurrency
import LoupeRandomness
import LoupeEvents

/// The one way untrusted events enter the log (`loupe produce`, `POST /v1/events`): each input
/// is validated; a valid event is re-encoded canonically and sent to its topic, keyed by its
/// key; an invalid one goes to `dead-letter` with the reason. Nothing is dropped, and the
/// counts say what happened to every input.
public final class EventIngestor {
    public struct Summary: Sendable, Equatable {
        public var accepted: [Topic: Int] = [:]
        public var rejected: [EventValidationError.Code: Int] = [:]

        public init() {}

        public var acceptedCount: Int { accepted.values.reduce(0, +) }
        public var rejectedCount: Int { rejected.values.reduce(0, +) }
    }

    private let producer: any LogProducer
    private let source: String
    private let topic: Topic?
    private let accepted: Set<Topic>
    private let clock: @Sendable () -> Int64
    public private(set) var summary = Summary()

    /// - Parameters:
    ///   - source: who is ingesting, recorded in dead-letter records (`produce`, `http`).
    ///   - topic: when set, every input must be an event of this topic (`wrong_topic` otherwise).
    ///   - accepting: the topics whose events are taken; an event of another topic is rejected
    ///     with `internal_topic`. Client topics only, unless a tool writes internal topics on
    ///     purpose (benchmarks and tests building a log).
    ///   - clock: epoch milliseconds, for the timestamps of dead-letter records.
    public init(
        producer: any LogProducer, source: String, topic: Topic? = nil, accepting: Set<Topic> = Topic.clientTopics,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.producer = producer
        self.source = source
        self.topic = topic
        self.accepted = accepting
        self.clock = clock
    }

    /// Validates one input as an event of a topic this ingestor takes.
    private static func validate(_ bytes: [UInt8], topic: Topic?, accepted: Set<Topic>) throws(EventValidationError) -> Event {
        let event = try EventCodec.decode(bytes, topic: topic)
        guard accepted.contains(event.topic) else {
            throw EventValidationError(
                .internalTopic, field: "type",
                "\"\(event.type)\" events belong to the internal topic \(event.topic.rawValue), which only Loupe's own roles write; "
                    + "clients send \(Topic.clientTopics.map(\.rawValue).sorted().joined(separator: ", ")) events")
        }
        return event
    }

    /// Validates a batch of inputs — on every core — and sends each, in input order, to its
    /// topic or to dead-letter. Input `i` is located at `origin:(firstIndex + i)` in dead-letter
    /// records (`stdin:42`). Returns each input's outcome. Throws only when the log itself
    /// fails; bad input is never an error here.
    @discardableResult
    public func ingest(batch inputs: [[UInt8]], origin: String, firstIndex: Int) throws -> [Result<Event, EventValidationError>] {
        let topic = self.topic
        let accepted = self.accepted
        let validated = parallelMap(count: inputs.count) { index in
            Result { () throws(EventValidationError) -> (event: Event, key: [UInt8], value: [UInt8]) in
                let event = try Self.validate(inputs[index], topic: topic, accepted: accepted)
                return (event, Array(event.key.utf8), EventCodec.encode(event))
            }
        }
        var outcomes: [Result<Event, EventValidationError>] = []
        outcomes.reserveCapacity(inputs.count)
        for (index, outcome) in validated.enumerated() {
            switch outcome {
            case .success(let (event, key, value)):
                try producer.send(topic: event.topic.rawValue, key: key, value: value, timestamp: event.timestamp)
                summary.accepted[event.topic, default: 0] += 1
                outcomes.append(.success(event))
            case .failure(let error):
                try deadLetter(inputs[index], error: error, location: "\(origin):\(firstIndex + index)")
                outcomes.append(.failure(error))
            }
        }
        return outcomes
    }

    /// Validates one input and sends it to its topic or to dead-letter.
    @discardableResult
    public func ingest(_ bytes: [UInt8], location: String) throws -> Result<Event, EventValidationError> {
        let event: Event
        do {
            event = try Self.validate(bytes, topic: topic, accepted: accepted)
        } catch {
            try deadLetter(bytes, error: error, location: location)
            return .failure(error)
        }
        try producer.send(
            topic: event.topic.rawValue, key: Array(event.key.utf8), value: EventCodec.encode(event), timestamp: event.timestamp)
        summary.accepted[event.topic, default: 0] += 1
        return .success(event)
    }

    /// Sends everything ingested so far durably to the log.
    public func flush() throws {
        try producer.flush()
    }

    private func deadLetter(_ bytes: [UInt8], error: EventValidationError, location: String) throws {
        let intendedTopic = topic?.rawValue ?? Self.intendedTopic(of: bytes)
        let record = DeadLetter(
            rejecting: bytes, error: error, source: source, sourceTopic: intendedTopic, location: location,
            eventId: "dl-\(source)-\(Self.fingerprint(bytes, location))", timestamp: clock())
        let event = Event.deadLetter(record)
        try producer.send(
            topic: Topic.deadLetter.rawValue, key: Array(event.key.utf8), value: EventCodec.encode(event), timestamp: record.timestamp)
        summary.rejected[error.code, default: 0] += 1
    }

    /// The topic an invalid input was probably meant for, from its `type`, when it parses.
    private static func intendedTopic(of bytes: [UInt8]) -> String? {
        guard bytes.count <= EventCodec.maximumEventBytes,
            case .object(let object)? = try? JSONParser.parse(bytes),
            case .string(let type)? = object["type"]
        else { return nil }
        return Event.topicOfType[type]?.rawValue
    }

    /// FNV-1a over location and payload: the same bad input from the same place gets the same
    /// dead-letter id, so re-running an import does not look like new failures.
    private static func fingerprint(_ bytes: [UInt8], _ location: String) -> String {
        var hasher = FNV1a()
        hasher.combine(location.utf8)
        hasher.combine(bytes)
        let hex = String(hasher.value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
