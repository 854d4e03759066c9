import LoupeServing
import Foundation
import Logging
import LoupeEvents
import LoupeLog
import ServiceLifecycle

/// Writes every served list to the `impressions` topic without making a request wait for it.
///
/// `submit` only appends to a bounded queue; a thread of the writer's own drains the queue in
/// batches (at least every `flushInterval`), sends them with one producer and flushes. When the
/// queue is full the impression is dropped, counted in `loupe_impressions_dropped_total` and
/// logged — a request is never blocked. A batch whose write fails is tried again, up to
/// `writeAttempts` times in all with a doubling wait from `retryBackoff`, before it is counted
/// as lost in `loupe_impressions_failed_total`; a retry resends the whole batch, so a record
/// the failed attempt did write appears twice, with the same `event_id`. On graceful shutdown,
/// which comes after the HTTP server's, everything queued is written before the producer is closed.
public final class ImpressionWriter: @unchecked Sendable {
    /// Guards every variable below it.
    private let condition = NSCondition()
    private var pending: [Impression] = []
    private var closing = false
    private var finished: CheckedContinuation<Void, Never>?
    /// When the last "queue full" warning was logged, to log at most one a second.
    private var lastDropWarning: Date = .distantPast
    private var droppedSinceWarning = 0

    /// Touched only on the writer's thread (and in `init`).
    private let producer: any LogProducer
    private let capacity: Int
    private let flushInterval: TimeInterval
    private let batchSize = 1000
    private let writeAttempts: Int
    private let retryBackoff: TimeInterval
    private let metrics: ServingMetrics
    private let logger: Logger

    /// The longest wait between two attempts, however many attempts there are.
    static let longestRetryWait: TimeInterval = 30

    init(
        log: any EventLog, capacity: Int, flushInterval: Duration, writeAttempts: Int = 1, retryBackoff: Duration = .zero,
        metrics: ServingMetrics, logger: Logger
    ) throws {
        producer = try log.makeProducer()
        self.capacity = max(1, capacity)
        self.flushInterval = Self.seconds(flushInterval)
        self.writeAttempts = max(1, writeAttempts)
        self.retryBackoff = Self.seconds(retryBackoff)
        self.metrics = metrics
        self.logger = logger
    }

    /// Queues an impression; never blocks. Returns false when it was dropped (queue full or
    /// writer shut down).
    @discardableResult
    func submit(_ impression: Impression) -> Bool {
        condition.lock()
        guard !closing, pending.count < capacity else {
            droppedSinceWarning += 1
            let now = Date()
            let warn = now.timeIntervalSince(lastDropWarning) >= 1
            let dropped = droppedSinceWarning
            if warn {
                lastDropWarning = now
                droppedSinceWarning = 0
            }
            let reason = closing ? "the writer is shutting down" : "the queue is full (\(capacity))"
            condition.unlock()
            metrics.recordImpressionDropped()
            if warn {
                logger.warning(
                    "impressions dropped: \(reason); \(dropped) since the last warning (loupe_impressions_dropped_total)")
            }
            return false
        }
        pending.append(impression)
        metrics.recordImpressionsQueued(pending.count)
        if pending.count >= batchSize { condition.signal() }
        condition.unlock()
        return true
    }

    /// Writes batches until `closing` is set and the queue is empty.
    private func drain() {
        while true {
            condition.lock()
            let deadline = Date(timeIntervalSinceNow: flushInterval)
            while pending.count < batchSize, !closing, condition.wait(until: deadline) {}
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            metrics.recordImpressionsQueued(0)
            let done = closing
            condition.unlock()
            if !batch.isEmpty { write(batch) }
            if done {
                condition.lock()
                let empty = pending.isEmpty
                condition.unlock()
                if empty { break }
            }
        }
        do {
            try producer.close()
        } catch {
            logger.error("closing the impressions producer failed: \(error)")
        }
        condition.lock()
        let continuation = finished
        finished = nil
        condition.unlock()
        continuation?.resume()
    }

    /// Writes a batch, trying again after a failure until `writeAttempts` attempts have failed.
    private func write(_ batch: [Impression]) {
        var attempt = 1
        while true {
            do {
                for impression in batch {
                    let event = Event.impression(impression)
                    try producer.send(
                        topic: Topic.impressions.rawValue, key: Array(event.key.utf8), value: EventCodec.encode(event),
                        timestamp: impression.timestamp)
                }
                try producer.flush()
                metrics.recordImpressionsWritten(batch.count)
                return
            } catch {
                guard attempt < writeAttempts else {
                    metrics.recordImpressionsFailed(batch.count)
                    logger.error(
                        "writing \(batch.count) impressions to the log failed \(attempt) time(s); counted as lost in loupe_impressions_failed_total (some may have been written): \(error)"
                    )
                    return
                }
                let wait = min(Self.longestRetryWait, retryBackoff * pow(2, Double(attempt - 1)))
                metrics.recordImpressionWriteRetry()
                logger.warning(
                    "writing \(batch.count) impressions to the log failed (attempt \(attempt) of \(writeAttempts)); trying again in \(wait) s: \(error)"
                )
                if wait > 0 { Thread.sleep(forTimeInterval: wait) }
                attempt += 1
            }
        }
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}

extension ImpressionWriter: Service {
    public func run() async throws {
        let thread = Thread { [self] in drain() }
        thread.name = "loupe.impressions"
        thread.start()
        try? await gracefulShutdown()
        await withCheckedContinuation { continuation in
            condition.lock()
            finished = continuation
            closing = true
            condition.signal()
            condition.unlock()
        }
    }
}
