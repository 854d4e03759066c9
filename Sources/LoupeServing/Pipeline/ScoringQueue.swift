import LoupeML
import Foundation
import LoupeStore
import Synchronization

/// Coalesces the retrieval scans of concurrent requests: each request hands in its query rows
/// and waits (suspended, holding no thread); a worker thread takes every waiting request of the
/// same snapshot — up to `maximumQueries` rows — and scores them all in one pass over the item
/// matrix (`ItemScoring`), then resumes them.
///
/// Nothing waits for a batch to fill: when the worker is idle, a request is scored at once, on
/// its own. Batches form only from the requests that arrive while a pass runs, so under light
/// load a request costs what it did alone and under heavy load the item matrix is read once per
/// batch instead of once per request. The worker thread ends after `idleTimeout` without work
/// and is started again by the next request.
///
/// With one BLAS thread, a pass is cut into up to `scanParts` ranges of items (`partsToCut`,
/// `ItemScoring.parts`, `SharedParts`). The worker takes them in turn, and so does a helper job
/// on the requests' executor, which gets a thread only when one is free: a core that would wait
/// for the scan scores part of it instead, and when every thread is busy the helper finds
/// nothing left and ends. Single requests are then faster and concurrent ones are served at a
/// higher rate (`loupe bench serve`; the figures, at d = 128 on 2 cores, are in
/// docs/benchmarks.md).
///
/// `@unchecked Sendable`: all mutable state is guarded by `condition`.
final class ScoringQueue: @unchecked Sendable {
    /// One request's part: its query rows, valid until the job is resumed (they are the waiting
    /// request's scratch).
    struct Job: @unchecked Sendable {
        let snapshot: ServingSnapshot
        let queries: UnsafePointer<Float>
        let queryCount: Int
        /// The request's priority, which its batch's scan helper takes.
        let priority: TaskPriority
        let continuation: CheckedContinuation<BatchScores, Never>
    }

    /// A request's scores inside its batch's buffer: query `q`'s at `rows + q · catalog.count`.
    /// Valid until handed to `release`: the batch's requests share the buffer, which is reused
    /// once all of them have released it.
    struct BatchScores: @unchecked Sendable {
        fileprivate let buffer: ScoreBuffer
        let rows: UnsafeMutablePointer<Float>
    }

    /// Observes each pass: the number of requests and query rows it scored.
    typealias PassObserver = @Sendable (_ requests: Int, _ queries: Int) -> Void

    let maximumQueries: Int
    /// Released buffers kept for reuse; more are freed. Several batches are in flight under
    /// load (one scanned, the ones before it still read by their requests), and a new buffer
    /// costs a page fault per 4 KiB on first touch, so keep enough for them.
    static let spareBuffers = 8
    /// Buffers are sized in steps of this many rows, so that one serves batches of similar size.
    static let rowStep = 8
    private let idleTimeout: TimeInterval
    private let condition = NSCondition()
    private var waiting: [Job] = []
    private var workerRunning = false
    private var observer: PassObserver?
    private var spare: [ScoreBuffer] = []

    init(maximumQueries: Int = 64, idleTimeout: TimeInterval = 1) {
        self.maximumQueries = max(2, maximumQueries)
        self.idleTimeout = idleTimeout
    }

    /// Called after every pass, on the worker thread (metrics).
    func observePasses(_ observer: PassObserver?) {
        condition.lock()
        self.observer = observer
        condition.unlock()
    }

    /// Scores one or two query rows against `snapshot`'s items; returns when they are written.
    /// Hand the result to `release` when done with it.
    func score(_ snapshot: ServingSnapshot, queries: UnsafePointer<Float>, queryCount: Int) async -> BatchScores {
        precondition((1...2).contains(queryCount), "a request has one or two query rows")
        let priority = Task.currentPriority
        return await withCheckedContinuation { continuation in
            let job = Job(
                snapshot: snapshot, queries: queries, queryCount: queryCount, priority: priority, continuation: continuation)
            condition.lock()
            waiting.append(job)
            let startWorker = !workerRunning
            if startWorker { workerRunning = true }
            condition.signal()
            condition.unlock()
            if startWorker {
                let thread = Thread { [self] in work() }
                thread.name = "loupe-scoring"
                thread.start()
            }
        }
    }

    /// Ends a request's use of its scores.
    func release(_ scores: BatchScores) {
        condition.lock()
        defer { condition.unlock() }
        let buffer = scores.buffer
        buffer.holders -= 1
        guard buffer.holders == 0 else { return }
        if spare.count < Self.spareBuffers {
            spare.append(buffer)
        } else if let smallest = spare.indices.min(by: { spare[$0].capacity < spare[$1].capacity }),
            spare[smallest].capacity < buffer.capacity
        {
            spare[smallest] = buffer  // keep the larger: it serves every batch the smaller does
        }
    }

    private func work() {
        while let batch = nextBatch() {
            let snapshot = batch[0].snapshot
            let catalog = snapshot.catalog
            let dimension = catalog.dimension
            let queryCount = batch.reduce(0) { $0 + $1.queryCount }
            // Zero rows up to the count the matrix product costs anyway; their scores go unread.
            let scoredCount = ItemScoring.paddedQueryCount(queryCount)
            var rows = [Float]()
            rows.reserveCapacity(scoredCount * dimension)
            for job in batch { rows.append(contentsOf: UnsafeBufferPointer(start: job.queries, count: job.queryCount * dimension)) }
            rows.append(contentsOf: repeatElement(0, count: (scoredCount - queryCount) * dimension))
            // The batch's own copy: a helper may still be scoring its last part while this
            // thread gathers the next batch.
            let queries = rows
            let buffer = takeBuffer(rows: scoredCount, itemCount: catalog.count, holders: batch.count)
            condition.lock()
            let observer = self.observer
            condition.unlock()
            let parts = ItemScoring.parts(itemCount: catalog.count, dimension: dimension, parts: Self.partsToCut)
            let scan = SharedParts(count: parts.count) { part in
                catalog.embeddingsByDimension.withUnsafeBufferPointer { items in
                    queries.withUnsafeBufferPointer { queries in
                        ItemScoring.score(
                            itemsByDimension: items.baseAddress!, itemCount: catalog.count, dimension: dimension,
                            queries: queries.baseAddress!, queryCount: scoredCount, into: buffer.values, stride: catalog.count,
                            columns: parts[part])
                    }
                }
            } finish: {
                var row = 0
                for job in batch {
                    job.continuation.resume(returning: BatchScores(buffer: buffer, rows: buffer.values + row * catalog.count))
                    row += job.queryCount
                }
                observer?(batch.count, queryCount)
            }
            // A helper on the requests' executor: it runs once one of its threads has nothing
            // else to do, takes parts this thread has not started yet, and finds none left
            // (and ends at once) when the threads stayed busy until the scan was done.
            scan.offerToPool(priority: batch[0].priority)
            scan.run()
        }
    }

    /// Parts one scan is cut into, for its helper.
    static let scanParts = 16

    /// The parts to cut a scan into now: `scanParts` while OpenBLAS runs one thread per product
    /// (as servers set it, `BLASThreads.set(1)`), else 1. With threads of its own OpenBLAS
    /// already spreads each product over the cores, and the products of two callers at once
    /// only contend: beside the simulated learner, single requests were several times slower
    /// with 2 BLAS threads and scans shared this way than unshared (docs/benchmarks.md).
    static var partsToCut: Int { BLASThreads.count == 1 ? scanParts : 1 }

    /// A buffer for `rows` rows of `itemCount` scores, held by `holders` requests: the smallest
    /// spare one that fits, or a new one of `rows` rounded up to a `rowStep`.
    private func takeBuffer(rows: Int, itemCount: Int, holders: Int) -> ScoreBuffer {
        condition.lock()
        defer { condition.unlock() }
        let needed = rows * itemCount
        let buffer: ScoreBuffer
        if let index = spare.indices.lazy.filter({ self.spare[$0].capacity >= needed })
            .min(by: { self.spare[$0].capacity < self.spare[$1].capacity })
        {
            buffer = spare.remove(at: index)
        } else {
            let sizedRows = min(maximumQueries, (rows + Self.rowStep - 1) / Self.rowStep * Self.rowStep)
            buffer = ScoreBuffer(capacity: max(1, max(rows, sizedRows) * itemCount))
        }
        buffer.holders = holders
        return buffer
    }

    /// The next batch: the oldest waiting job and every other waiting job of its snapshot, up
    /// to `maximumQueries` rows, in arrival order. Nil (and the worker ends) after `idleTimeout`
    /// with nothing waiting.
    private func nextBatch() -> [Job]? {
        condition.lock()
        defer { condition.unlock() }
        while waiting.isEmpty {
            if !condition.wait(until: Date(timeIntervalSinceNow: idleTimeout)), waiting.isEmpty {
                workerRunning = false
                return nil
            }
        }
        let snapshot = waiting[0].snapshot
        var batch: [Job] = []
        var rest: [Job] = []
        var queries = 0
        for job in waiting {
            if job.snapshot === snapshot, queries + job.queryCount <= maximumQueries {
                batch.append(job)
                queries += job.queryCount
            } else {
                rest.append(job)
            }
        }
        waiting = rest
        return batch
    }
}

/// The scores of one batch, read by its requests in place. `holders` is guarded by the
/// queue's lock.
private final class ScoreBuffer {
    let values: UnsafeMutablePointer<Float>
    let capacity: Int
    var holders = 0

    init(capacity: Int) {
        self.capacity = capacity
        values = .allocate(capacity: capacity)
        HugePages.advise(UnsafeMutableRawBufferPointer(start: values, count: capacity * MemoryLayout<Float>.stride))
    }

    deinit { values.deallocate() }
}

/// Work cut into `count` parts that any number of threads take in turn (`run`): each part runs
/// once, and `finish` runs once, on the thread that completed the last part (at once in the
/// first `run` when there are no parts), after every part's effects.
///
/// `@unchecked Sendable`: `part` and `finish` are called as described, never concurrently for
/// the same part; what they touch is theirs to guard (the scan's parts write disjoint scores).
final class SharedParts: @unchecked Sendable {
    let count: Int
    private let part: (Int) -> Void
    private let finish: () -> Void
    private let next = Atomic<Int>(0)
    private let completed = Atomic<Int>(0)

    init(count: Int, part: @escaping (Int) -> Void, finish: @escaping () -> Void) {
        self.count = count
        self.part = part
        self.finish = finish
    }

    /// Runs parts until none is left to take.
    func run() {
        if count == 0 {
            if next.wrappingAdd(1, ordering: .relaxed).oldValue == 0 { finish() }
            return
        }
        while true {
            let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
            guard index < count else { return }
            part(index)
            // Acquiring and releasing: the thread that completes the last part sees every
            // other part's effects before it finishes.
            if completed.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue == count { finish() }
        }
    }

    /// A helper job on the concurrency pool that calls `run()` once a thread of the pool is
    /// free, unless there is a single part (nothing to share).
    func offerToPool(priority: TaskPriority?) {
        guard count > 1 else { return }
        Task.detached(priority: priority) { self.run() }
    }
}
