import LoupeConcurrency
import Foundation
import LoupeEvents
import LoupeLog

/// A batch read from the log and decoded, waiting to be recorded and applied.
struct DecodedBatch {
    var records: [LogRecord]
    var decoded: [Result<Event, EventValidationError>]
    /// The reader's positions after the batch.
    var cursors: [TopicPartition: MergedLogReader.Cursor]
}

/// Reads and decodes the learner's next batch on a thread of its own while the learner folds
/// and writes the current one, so that the two cores share the work: reading the merged log and
/// decoding take about a third of the time, folding and writing the rest.
///
/// It only reads: live, the learner records each batch in `learner-batches` when it takes it,
/// just before applying it, so a batch read ahead and never taken (the learner stopped) was
/// never recorded, and is simply read again by the next learner.
final class ReadAhead: @unchecked Sendable {
    /// Where batches end.
    enum Plan {
        /// Live: up to `batchSize` records, waiting up to `maxDelay` for more; with `untilEnd`,
        /// until the high watermarks of the start, else following the log as it grows.
        case live(batchSize: Int, maxDelay: Duration, untilEnd: Bool)
        /// Recorded batches (their sequence numbers and positions): each exactly the records
        /// below its positions.
        case recorded([(sequence: Int64, ends: [TopicPartition: Int64])])
    }

    private let condition = NSCondition()
    /// The batch read ahead; nil while the thread reads the next one.
    private var ready: DecodedBatch?
    private var failure: (any Error)?
    private var finished = false
    private var stopping = false
    private let exited = DispatchSemaphore(value: 0)

    /// Starts reading `partitions` of `log` from `cursors`, batch by batch as `plan` says.
    init(log: any EventLog, partitions: [TopicPartition], cursors: [TopicPartition: MergedLogReader.Cursor], plan: Plan) {
        let source = UncheckedLog(log: log)
        let thread = Thread { [self] in
            defer { exited.signal() }
            do {
                let consumer = try source.log.makeConsumer(group: nil)
                defer { consumer.close() }
                let reader = try MergedLogReader(consumer: consumer, partitions: partitions, cursors: cursors)
                switch plan {
                case .live(let batchSize, let maxDelay, let untilEnd):
                    try readLive(source.log, reader, partitions, batchSize, maxDelay, untilEnd)
                case .recorded(let ends):
                    try readRecorded(reader, partitions, ends)
                }
            } catch {
                condition.lock()
                failure = error
                condition.broadcast()
                condition.unlock()
            }
        }
        thread.name = "loupe-read-ahead"
        thread.start()
    }

    private func readLive(
        _ log: any EventLog, _ reader: MergedLogReader, _ partitions: [TopicPartition], _ batchSize: Int, _ maxDelay: Duration,
        _ untilEnd: Bool
    ) throws {
        var endsAtStart: [TopicPartition: Int64] = [:]
        for partition in partitions { endsAtStart[partition] = try log.watermarks(partition).high }
        while !isStopping {
            var ends = endsAtStart
            if !untilEnd {
                for partition in partitions { ends[partition] = try log.watermarks(partition).high }
            }
            let records = try reader.read(maxRecords: batchSize, timeout: maxDelay, ends: ends)
            if records.isEmpty {
                if untilEnd, partitions.allSatisfy({ reader.cursors[$0]!.next >= endsAtStart[$0]! }) { break }
                continue
            }
            offer(DecodedBatch(records: records, decoded: Self.decode(records), cursors: reader.cursors))
        }
        finish()
    }

    private func readRecorded(
        _ reader: MergedLogReader, _ partitions: [TopicPartition], _ batches: [(sequence: Int64, ends: [TopicPartition: Int64])]
    ) throws {
        for (sequence, ends) in batches where !isStopping {
            var records: [LogRecord] = []
            while partitions.contains(where: { reader.position(of: $0).next < ends[$0]! }) {
                let piece = try reader.read(maxRecords: 65_536, timeout: .seconds(30), ends: ends)
                if piece.isEmpty {
                    throw LearnerError("the log no longer holds the records of batch \(sequence) (retention?)")
                }
                records += piece
            }
            offer(DecodedBatch(records: records, decoded: Self.decode(records), cursors: reader.cursors))
        }
        finish()
    }

    /// Waits until the previous batch was taken (or the reading stops), then leaves `batch`.
    private func offer(_ batch: DecodedBatch) {
        condition.lock()
        while ready != nil, !stopping { condition.wait() }
        if !stopping { ready = batch }
        condition.broadcast()
        condition.unlock()
    }

    private func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    private var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopping
    }

    /// What `next(waiting:)` found.
    enum Next {
        case batch(DecodedBatch)
        /// Nothing within the wait (a quiet log): ask again, after checking for a stop.
        case nothing
        /// The plan is done: the end of the log as of the start with `untilEnd`, or the last
        /// recorded batch.
        case finished
    }

    /// The next batch, waiting for it up to `wait`. Rethrows what stopped the reading.
    func next(waiting wait: Duration) throws -> Next {
        let deadline = Date(timeIntervalSinceNow: Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18)
        condition.lock()
        defer { condition.unlock() }
        while ready == nil, failure == nil, !finished {
            if !condition.wait(until: deadline) { break }
        }
        if let failure { throw failure }
        guard let batch = ready else { return finished ? .finished : .nothing }
        ready = nil
        condition.broadcast()
        return .batch(batch)
    }

    /// Stops the reading and waits for the thread to end (its batch read ahead, if any, is dropped).
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        exited.wait()
    }

    /// Every record decoded on all cores; a record that is not a valid event keeps its error.
    static func decode(_ records: [LogRecord]) -> [Result<Event, EventValidationError>] {
        // A batch holds a few topics in runs: name each run's topic once.
        var last: (name: String, topic: Topic?)?
        let topics = records.map { record in
            if last?.name != record.topic { last = (record.topic, Topic(rawValue: record.topic)) }
            return last!.topic
        }
        return parallelMap(count: records.count) { index in
            Result { () throws(EventValidationError) -> Event in
                try EventCodec.decode(records[index].value, topic: topics[index])
            }
        }
    }
}

/// The log, handed to the read-ahead thread, which alone uses the consumer it makes.
private struct UncheckedLog: @unchecked Sendable {
    let log: any EventLog
}
