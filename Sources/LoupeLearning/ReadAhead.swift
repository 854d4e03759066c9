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
/// It only reads: the learner records each batch in `learner-batches` when it takes it, just
/// before applying it, so a batch read ahead and never taken (the learner stopped) was never
/// recorded, and is simply read again by the next learner.
final class ReadAhead: @unchecked Sendable {
    private let condition = NSCondition()
    /// The batch read ahead; nil while the thread reads the next one.
    private var ready: DecodedBatch?
    private var failure: (any Error)?
    private var finished = false
    private var stopping = false
    private let exited = DispatchSemaphore(value: 0)

    /// Starts reading `partitions` of `log` from `cursors`, `batchSize` records at most per
    /// batch, waiting up to `maxDelay` for more. With `untilEnd`, stops at the high watermarks
    /// of the start; otherwise follows the log as it grows.
    init(
        log: any EventLog, partitions: [TopicPartition], cursors: [TopicPartition: MergedLogReader.Cursor], batchSize: Int,
        maxDelay: Duration, untilEnd: Bool
    ) {
        let source = UncheckedLog(log: log)
        let thread = Thread { [self] in
            defer { exited.signal() }
            do {
                try run(source.log, partitions, cursors, batchSize, maxDelay, untilEnd)
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

    private func run(
        _ log: any EventLog, _ partitions: [TopicPartition], _ cursors: [TopicPartition: MergedLogReader.Cursor], _ batchSize: Int,
        _ maxDelay: Duration, _ untilEnd: Bool
    ) throws {
        let consumer = try log.makeConsumer(group: nil)
        defer { consumer.close() }
        let reader = try MergedLogReader(consumer: consumer, partitions: partitions, cursors: cursors)
        var endsAtStart: [TopicPartition: Int64] = [:]
        for partition in partitions { endsAtStart[partition] = try log.watermarks(partition).high }
        while !isStopping {
            var ends = endsAtStart
            if !untilEnd {
                for partition in partitions { ends[partition] = try log.watermarks(partition).high }
            }
            let records = try reader.read(maxRecords: batchSize, timeout: maxDelay, ends: ends)
            if records.isEmpty {
                if untilEnd, partitions.allSatisfy({ reader.cursors[$0]!.next >= endsAtStart[$0]! }) {
                    condition.lock()
                    finished = true
                    condition.broadcast()
                    condition.unlock()
                    return
                }
                continue
            }
            let batch = DecodedBatch(records: records, decoded: Self.decode(records), cursors: reader.cursors)
            condition.lock()
            while ready != nil, !stopping { condition.wait() }
            if !stopping { ready = batch }
            condition.broadcast()
            condition.unlock()
        }
    }

    private var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopping
    }

    /// The next batch, waiting for it; nil once the log's end (as of the start) is reached with
    /// `untilEnd`. Rethrows what stopped the reading.
    func next() throws -> DecodedBatch? {
        condition.lock()
        defer { condition.unlock() }
        while ready == nil, failure == nil, !finished { condition.wait() }
        if let failure { throw failure }
        guard let batch = ready else { return nil }
        ready = nil
        condition.broadcast()
        return batch
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
