import LoupeConcurrency
import LoupeHTTP
import LoupeEmbeddedLog
import LoupeRandomness
import CBLAS
import Dispatch
import Foundation
import LoupeConfig
import LoupeEvents
import LoupeLog
import LoupeServing
import LoupeStore
import Synchronization

/// `loupe bench serve`: single-request latency of the recommender in-process and over HTTP on
/// loopback, while a simulated learner writes into the same store.
public enum ServeBenchmark {
    /// What the simulated learner does: every `interval`, one write transaction that replaces
    /// the rows of `usersPerCommit` random users (embedding and record, version + 1) and of
    /// `itemsPerCommit` random items (embedding), and advances the positions.
    public struct WriterSettings: Sendable {
        public var usersPerCommit = 8_192
        public var itemsPerCommit = 8_192
        public var interval: Duration = .milliseconds(200)
        public init() {}
    }

    /// Counters of a background loop.
    public struct LoopStatistics: Sendable {
        public var runs = 0
        public var changed = 0
        public var totalSeconds = 0.0
        public var failures = 0
        public var lastError: String?
        public var meanMilliseconds: Double { runs == 0 ? 0 : 1_000 * totalSeconds / Double(runs) }
    }

    /// A thread running `body` every `interval` until stopped; `body` returns whether it did
    /// something (a refresh that moved the snapshot).
    final class BackgroundLoop: Sendable {
        private let stopping = Atomic<Bool>(false)
        private let statistics = Mutex(LoopStatistics())
        private let finished = DispatchSemaphore(value: 0)

        init(name: String, interval: Duration, _ body: @escaping @Sendable () throws -> Bool) {
            let thread = Thread { [self] in
                while !stopping.load(ordering: .relaxed) {
                    let start = ContinuousClock.now
                    do {
                        let changed = try body()
                        let spent = start.duration(to: .now)
                        statistics.withLock {
                            $0.runs += 1
                            $0.totalSeconds += spent.seconds
                            if changed { $0.changed += 1 }
                        }
                    } catch {
                        statistics.withLock {
                            $0.failures += 1
                            $0.lastError = "\(error)"
                        }
                    }
                    let rest = interval - start.duration(to: .now)
                    if rest > .zero { Thread.sleep(forTimeInterval: rest.seconds) }
                }
                finished.signal()
            }
            thread.name = name
            thread.start()
        }

        /// Stops the loop after its current run and returns its counters.
        func stop() -> LoopStatistics {
            stopping.store(true, ordering: .relaxed)
            finished.wait()
            return statistics.withLock { $0 }
        }
    }

    /// Starts the simulated learner on `store` (users and items named as `ServingStoreBuilder` names them).
    static func startWriter(
        store: StateStore, users: Int, items: Int, dimension: Int, settings: WriterSettings, seed: UInt64
    ) -> BackgroundLoop {
        let state = Mutex((random: SplitMix64(seed: seed), offset: Int64(users)))
        return BackgroundLoop(name: "bench-writer", interval: settings.interval) {
            try checkMapHeadroom(store)
            try state.withLock { state in
                var row = [Float](repeating: 0, count: dimension)
                let scale = 1 / Float(dimension).squareRoot()
                state.offset += Int64(settings.usersPerCommit)
                var random = state.random
                let offset = state.offset
                try store.write { transaction in
                    for _ in 0..<settings.usersPerCommit {
                        let id = ServingStoreBuilder.userId(Int(random.next() % UInt64(users)))
                        random.fillNormal(&row, scale: scale)
                        try transaction.putUserEmbedding(id, row)
                        var record = try transaction.user(id) ?? UserRecord()
                        record.version += 1
                        try transaction.putUser(id, record)
                    }
                    for _ in 0..<settings.itemsPerCommit {
                        random.fillNormal(&row, scale: scale)
                        try transaction.putItemEmbedding(ServingStoreBuilder.itemId(Int(random.next() % UInt64(items))), row)
                    }
                    for partition in 0..<12 {
                        try transaction.setPosition(StorePosition(topic: Topic.interactions.rawValue, partition: Int32(partition), offset: offset))
                    }
                }
                state.random = random
            }
            return true
        }
    }

    /// Room the simulated learner leaves free in the store's map. Each commit copies 30–45 MB
    /// of pages at d = 128, and LMDB reuses them only once no snapshot can see them: a snapshot
    /// that stops moving (a refresh that stalls or is not running) makes the file grow by every
    /// commit. This process holds snapshots, so it must never grow the map: that waits until
    /// none of them is open, which the recommenders, seeing no new commit, never arrange
    /// (docs/state-store.md).
    static let mapHeadroom = 2 << 30

    /// Throws, so that the writer stops with a reason instead of waiting forever, when the data
    /// file has come within `mapHeadroom` of the end of the map.
    static func checkMapHeadroom(_ store: StateStore, headroom: Int = mapHeadroom) throws {
        let used = try store.fileBytes()
        guard store.mapSize - used >= headroom else {
            throw ServeBenchmarkError(
                "the simulated learner stopped: \(store.path)/data.mdb is \(used >> 20) MiB of a \(store.mapSize >> 20) MiB map, "
                    + "and growing the map in a process that holds snapshots would wait for them forever")
        }
    }

    /// Refreshes `recommender` every `interval` (as `loupe serve` does).
    static func startRefresher(_ recommender: Recommender, interval: Duration) -> BackgroundLoop {
        BackgroundLoop(name: "bench-refresh", interval: interval) { try recommender.refresh() }
    }

    public struct InProcessResult: Sendable {
        public var name: String
        public var latency: LatencySummary
        public var cachedFraction: Double
    }

    /// `count` single requests one after another from this thread, for users `userIndex(i)`;
    /// latencies of the cached answers when `wantCached`, else of the computed ones.
    static func sequential(
        _ name: String, recommender: Recommender, count: Int, k: Int, userIndex: (Int) -> Int, blasThreads: Int32,
        wantCached: Bool = false
    ) throws -> InProcessResult {
        openblas_set_num_threads(blasThreads)
        var samples: [UInt64] = []
        samples.reserveCapacity(count)
        var cached = 0
        for index in 0..<count {
            let request = RecommendationRequest(userId: ServingStoreBuilder.userId(userIndex(index)), k: k)
            let start = monotonicNanoseconds()
            let list = try recommender.recommend(request)
            let end = monotonicNanoseconds()
            if list.cached { cached += 1 }
            // A cold measurement counts only computed lists (a random user may repeat).
            if list.cached == wantCached { samples.append(end - start) }
        }
        return InProcessResult(
            name: name, latency: LatencySummary(nanoseconds: samples), cachedFraction: Double(cached) / Double(max(1, count)))
    }

    public struct LoadResult: Sendable {
        public var concurrency: Int
        public var latency: LatencySummary
        public var requestsPerSecond: Double
        /// Mean requests coalesced into one scan of the item matrix.
        public var requestsPerScan: Double
        public var errors: Int
        /// Responses with a 5xx status (also counted in `errors`).
        public var serverErrors: Int
        public var firstError: String?
    }

    public struct ConcurrentResult: Sendable {
        public var latency: LatencySummary
        public var requestsPerSecond: Double
        /// Mean requests coalesced into one scan of the item matrix.
        public var requestsPerScan: Double
        public var errors: Int
        public var firstError: String?
    }

    /// `tasks` concurrent tasks, each requesting random users' recommendations through
    /// `recommendations(for:)` one after another for `duration`.
    static func concurrent(
        recommender: Recommender, tasks: Int, duration: Duration, users: Int, k: Int, seed: UInt64
    ) -> ConcurrentResult {
        let tally = ConcurrentTally()
        let scans = ScanCount(recommender)
        defer { scans.stop() }
        let start = monotonicNanoseconds()
        let deadline = start + UInt64(duration.seconds * 1e9)
        let done = DispatchSemaphore(value: 0)
        Task {
            await withTaskGroup(of: Void.self) { group in
                for task in 0..<tasks {
                    group.addTask {
                        var random = SplitMix64(seed: seed &+ UInt64(task))
                        var samples: [UInt64] = []
                        var errors = 0
                        var firstError: String?
                        while monotonicNanoseconds() < deadline {
                            let request = RecommendationRequest(
                                userId: ServingStoreBuilder.userId(Int(random.next() % UInt64(users))), k: k)
                            let begin = monotonicNanoseconds()
                            do {
                                let list = try await recommender.recommendations(for: request)
                                if !list.cached { samples.append(monotonicNanoseconds() - begin) }
                            } catch {
                                errors += 1
                                firstError = firstError ?? "\(error)"
                            }
                        }
                        let finished = (samples, errors, firstError)
                        tally.results.withLock {
                            $0.samples.append(contentsOf: finished.0)
                            $0.errors += finished.1
                            if $0.firstError == nil { $0.firstError = finished.2 }
                        }
                    }
                }
            }
            done.signal()
        }
        done.wait()
        let elapsed = Double(monotonicNanoseconds() - start) / 1e9
        return tally.results.withLock {
            ConcurrentResult(
                latency: LatencySummary(nanoseconds: $0.samples), requestsPerSecond: Double($0.samples.count) / elapsed,
                requestsPerScan: scans.requestsPerScan, errors: $0.errors, firstError: $0.firstError)
        }
    }

    /// Counts the recommender's coalesced scans from creation until `stop`.
    private final class ScanCount: Sendable {
        private let recommender: Recommender
        private let counts = Mutex<(passes: Int, requests: Int)>((0, 0))

        init(_ recommender: Recommender) {
            self.recommender = recommender
            recommender.observeScoringPasses { [self] requests, _ in
                counts.withLock {
                    $0.passes += 1
                    $0.requests += requests
                }
            }
        }

        func stop() { recommender.observeScoringPasses(nil) }

        var requestsPerScan: Double {
            counts.withLock { $0.passes == 0 ? 0 : Double($0.requests) / Double($0.passes) }
        }
    }

    private final class ConcurrentTally: Sendable {
        let results = Mutex<(samples: [UInt64], errors: Int, firstError: String?)>(([], 0, nil))
    }

    /// `workers` connections driven by one client thread (`LoopbackLoadClient`), each
    /// requesting random users' recommendations one after another for `duration`.
    static func load(
        port: Int, recommender: Recommender, workers: Int, duration: Duration, users: Int, k: Int, seed: UInt64
    ) throws -> LoadResult {
        let scans = ScanCount(recommender)
        defer { scans.stop() }
        let start = monotonicNanoseconds()
        let deadline = start + UInt64(duration.seconds * 1e9)
        var random = SplitMix64(seed: seed)
        let outcome = try LoopbackLoadClient(port: port, connections: workers).run(until: deadline) {
            "/v1/users/\(ServingStoreBuilder.userId(Int(random.next() % UInt64(users))))/recommendations?k=\(k)"
        }
        let elapsed = Double(monotonicNanoseconds() - start) / 1e9
        return LoadResult(
            concurrency: workers, latency: LatencySummary(nanoseconds: outcome.samples),
            requestsPerSecond: Double(outcome.samples.count) / elapsed, requestsPerScan: scans.requestsPerScan,
            errors: outcome.errors, serverErrors: outcome.serverErrors, firstError: outcome.firstError)
    }

    /// Runs `loupe serve`'s HTTP application in this process on 127.0.0.1:`port` until `stop`.
    final class InProcessServer: Sendable {
        private let running: RunningServer

        /// - Parameter server: the configuration's `server:` section (timeouts, connection
        ///   limit); its host and port are replaced.
        init(recommender: Recommender, inference: InferenceSettings, server: ServerSettings, logDirectory: String, port: Int) throws {
            let log = try EmbeddedLog(directory: logDirectory)
            _ = try log.apply(TopicDefinitions.builtIn)
            var server = server
            server.host = "127.0.0.1"
            server.port = port
            let http = try HTTPServer(
                service: recommender, log: log, settings: HTTPSettings(server: server, inference: inference),
                refresh: { try recommender.refresh() })
            running = http.start()
            // Ready when /healthz answers.
            let deadline = ContinuousClock.now + .seconds(30)
            while true {
                if let connection = try? LoopbackHTTPConnection(port: port), (try? connection.get("/healthz")) == 200 { break }
                guard ContinuousClock.now < deadline else {
                    try? stop()
                    throw LoopbackHTTPConnection.Failure(description: "the HTTP server did not answer on port \(port) within 30 s")
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }

        /// Shuts the server down gracefully (in-flight requests finish, impressions are
        /// written) and waits for it; rethrows what stopped it, if it failed.
        func stop() throws {
            let running = self.running
            try waitFor { try await running.stop() }
        }
    }
}
