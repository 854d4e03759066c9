import Foundation

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
/// `@unchecked Sendable`: all mutable state is guarded by `condition`.
final class ScoringQueue: @unchecked Sendable {
    /// One request's part: its query rows and where their scores go (query `q`'s at
    /// `scores + q · catalog.count`). The pointers stay valid until the job is resumed: they
    /// are the waiting request's scratch.
    struct Job: @unchecked Sendable {
        let snapshot: ServingSnapshot
        let queries: UnsafePointer<Float>
        let queryCount: Int
        let scores: UnsafeMutablePointer<Float>
        let continuation: CheckedContinuation<Void, Never>
    }

    /// Observes each pass: the number of requests and query rows it scored.
    typealias PassObserver = @Sendable (_ requests: Int, _ queries: Int) -> Void

    let maximumQueries: Int
    private let idleTimeout: TimeInterval
    private let condition = NSCondition()
    private var waiting: [Job] = []
    private var workerRunning = false
    private var observer: PassObserver?

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

    /// Scores one or two query rows against `snapshot`'s items into `scores` (`catalog.count`
    /// Floats per query, one after the other); returns when they are written.
    func score(_ snapshot: ServingSnapshot, queries: UnsafePointer<Float>, queryCount: Int, scores: UnsafeMutablePointer<Float>) async {
        precondition((1...2).contains(queryCount), "a request has one or two query rows")
        await withCheckedContinuation { continuation in
            let job = Job(snapshot: snapshot, queries: queries, queryCount: queryCount, scores: scores, continuation: continuation)
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

    private func work() {
        let workspace = ScoringWorkspace()
        while let batch = nextBatch() {
            let snapshot = batch[0].snapshot
            let catalog = snapshot.catalog
            let dimension = catalog.dimension
            let queryCount = batch.reduce(0) { $0 + $1.queryCount }
            workspace.reserve(queries: queryCount, dimension: dimension)
            var outputs: [UnsafeMutablePointer<Float>] = []
            outputs.reserveCapacity(queryCount)
            var row = 0
            for job in batch {
                (workspace.queries + row * dimension).update(from: job.queries, count: job.queryCount * dimension)
                for query in 0..<job.queryCount { outputs.append(job.scores + query * catalog.count) }
                row += job.queryCount
            }
            if catalog.count > 0 {
                catalog.embeddings.withUnsafeBufferPointer { items in
                    outputs.withUnsafeBufferPointer { outputs in
                        ItemScoring.score(
                            items: items.baseAddress!, itemCount: catalog.count, dimension: dimension,
                            queries: workspace.queries, queryCount: queryCount, outputs: outputs, workspace: workspace.block)
                    }
                }
            }
            for job in batch { job.continuation.resume() }
            condition.lock()
            let observer = self.observer
            condition.unlock()
            observer?(batch.count, queryCount)
        }
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

/// The worker's gathered query rows and block buffer, grown as batches need.
private final class ScoringWorkspace {
    private(set) var queries = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private var queryCapacity = 1
    private(set) var block = UnsafeMutableBufferPointer<Float>.allocate(capacity: 1)

    func reserve(queries count: Int, dimension: Int) {
        if count * dimension > queryCapacity {
            queries.deallocate()
            queryCapacity = count * dimension
            queries = .allocate(capacity: queryCapacity)
        }
        let blockCount = ItemScoring.workspaceCount(queries: count, dimension: dimension)
        if blockCount > block.count {
            block.deallocate()
            block = .allocate(capacity: blockCount)
        }
    }

    deinit {
        queries.deallocate()
        block.deallocate()
    }
}
