import LoupeConcurrency
import LoupeServing
import Foundation
import LoupeEvents
import LoupeLog
import ServiceLifecycle

/// Where `POST /v1/events` puts events: the log, through `EventIngestor` (the validation
/// `loupe produce` uses; rejected input goes to dead-letter with the reason). One producer,
/// used only on the sink's own thread: the producer blocks, the event loops must not.
public final class EventSink: @unchecked Sendable {
    /// What happened to one request's events, in input order.
    struct Outcome: Sendable {
        var results: [Result<Event, EventValidationError>]
        var summary: EventIngestor.Summary
    }

    /// Touched only on `queue`.
    private let producer: any LogProducer
    private let queue = BlockingQueue(label: "loupe.http.events")
    private let clock: @Sendable () -> Int64

    public init(log: any EventLog, clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) throws
    {
        producer = try log.makeProducer()
        self.clock = clock
    }

    /// Validates and writes a batch, and returns once everything (the valid events and the
    /// dead-letter records of the invalid ones) is durably in the log. `origin` locates the
    /// inputs in dead-letter records (`http:<request id>:<index>`).
    func ingest(_ inputs: [[UInt8]], origin: String) async throws -> Outcome {
        try await queue.run { [self] in
            let ingestor = EventIngestor(producer: producer, source: "http", clock: clock)
            let results = try ingestor.ingest(batch: inputs, origin: origin, firstIndex: 0)
            try ingestor.flush()
            return Outcome(results: results, summary: ingestor.summary)
        }
    }

    /// Flushes and releases the producer.
    func close() async throws {
        try await queue.run { [self] in try producer.close() }
    }
}

extension EventSink: Service {
    /// Runs until graceful shutdown, which comes after the HTTP server's (services shut down in
    /// reverse order), then closes the producer.
    public func run() async throws {
        try? await gracefulShutdown()
        try await close()
    }
}
