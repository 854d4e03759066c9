import LoupeConcurrency
import LoupeHTTP
import LoupeRandomness
import LoupeML
import CBLAS
import Foundation
import LoupeConfig
import LoupeEvents
import LoupeServing
import LoupeStore

public struct ServeBenchmarkError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension ServeBenchmark {
    public struct Options: Sendable {
        public var items = 50_000
        public var users = 1_000_000
        public var dimensions = [64, 128]
        /// Sequential in-process requests per measurement (and top-k queries).
        public var requests = 5_000
        public var topKQueries = 1_000
        /// Seconds of load per HTTP concurrency level.
        public var duration: Duration = .seconds(10)
        public var concurrency = [1, 8, 32, 64]
        public var k = 10
        public var python = "python3"
        public var faissScript = "ops/bench/faiss_topk.py"
        public var writer = WriterSettings()
        public var seed: UInt64 = 42
        /// Where to build the stores (`<directory>/d<dimension>`, kept afterwards); nil for a
        /// temporary directory removed at the end.
        public var storeDirectory: String?
        /// Slow clients attacking the server during an extra HTTP run (c3); 0 for none.
        public var slowClients = 0
        public init() {}
    }

    /// The whole benchmark for each dimension; `print` receives the report line by line.
    /// - Parameter server: the `server:` section the HTTP runs' server uses (host and port replaced).
    public static func run(
        _ options: Options, inference base: InferenceSettings, server serverSettings: ServerSettings = ServerSettings(),
        print: (String) -> Void, progress: (String, Int, Int) -> Void
    ) throws {
        var inference = base
        inference.numRecommendations = options.k
        let defaultThreads = openblas_get_num_threads()
        print(
            "bench serve: \(options.items) items, \(options.users) users, k = \(options.k), pool = \(inference.candidatePoolSize), "
                + "\(usableCores) usable core(s), OpenBLAS \(openblas_get_num_threads()) threads by default")
        print(
            "simulated learner: every \(Int(options.writer.interval.seconds * 1000)) ms one write transaction replacing "
                + "\(options.writer.usersPerCommit) user rows (embedding + record, version + 1) and \(options.writer.itemsPerCommit) item rows, "
                + "positions advanced; refresh() every \(inference.snapshotRefreshMs) ms")
        print("targets: p99 ≤ 5 ms in-process, ≤ 10 ms over HTTP (k = 10, pool 1,000); ≥ 2,000 requests/s over HTTP")
        for dimension in options.dimensions {
            let directory =
                options.storeDirectory.map { "\($0)/d\(dimension)" } ?? NSTemporaryDirectory() + "loupe-bench-serve-\(UUID().uuidString)"
            defer { if options.storeDirectory == nil { try? FileManager.default.removeItem(atPath: directory) } }
            if FileManager.default.fileExists(atPath: directory) {
                throw ServeBenchmarkError("\(directory) exists already: give --keep-store a new directory")
            }
            print("")
            print("== d = \(dimension)")
            let (store, summary) = try ServingStoreBuilder.build(
                directory: directory + "/data", items: options.items, users: options.users, dimension: dimension, seed: options.seed
            ) { progress("build d=\(dimension)", $0, options.users) }
            print(
                String(
                    format: "store built in %.1f s (%d items, %d users, %.0f MB data file), written directly with store transactions",
                    summary.seconds, summary.items, summary.users, Double(summary.fileBytes) / 1e6))

            // a. exact top-k search alone.
            let matrix = try store.read { try $0.itemEmbeddingMatrix() }
            var random = SplitMix64(seed: options.seed &+ UInt64(dimension))
            var queries = [Float](repeating: 0, count: options.topKQueries * dimension)
            try store.read { snapshot in
                try queries.withUnsafeMutableBufferPointer { queries in
                    for query in 0..<options.topKQueries {
                        let id = ServingStoreBuilder.userId(Int(random.next() % UInt64(options.users)))
                        _ = try snapshot.copyUserEmbedding(
                            id, into: UnsafeMutableBufferPointer(rebasing: queries[query * dimension..<(query + 1) * dimension]))
                    }
                }
            }
            let itemsByDimension = matrix.values.withUnsafeBufferPointer {
                ItemScoring.transposed($0, count: matrix.rowCount, dimension: dimension)
            }
            let topK = try TopKBenchmark.run(
                items: matrix.values, itemsByDimension: itemsByDimension, count: matrix.rowCount, dimension: dimension, queries: queries,
                ks: [options.k, inference.candidatePoolSize], python: options.python, script: options.faissScript)
            print("a. exact top-k of single queries over \(matrix.rowCount) items (\(options.topKQueries) queries; ours and baseline with 1 OpenBLAS thread)")
            print("   \(topK.faissNote)")
            for row in topK.rows {
                print("   k = \(row.k)")
                print("     ours (ItemScoring + TopSelection) \(row.ours.formatted)")
                print("     ours, heap selection only         \(row.oursHeap.formatted)")
                print("     ours, OpenBLAS default threads    \(row.oursAllThreads.formatted)")
                print("     baseline (sgemv + full sort)      \(row.baseline.formatted)")
                if let faiss = row.faiss {
                    print("     faiss IndexFlatIP                 \(faiss.formatted)")
                    print(
                        String(
                            format: "     ours / faiss: p50 %.2f, p99 %.2f; ours / baseline: p50 %.2f; same top-k set as faiss: %.1f %% of queries",
                            row.ours.p50 / faiss.p50, row.ours.p99 / faiss.p99, row.ours.p50 / row.baseline.p50,
                            100 * (row.faissAgreement ?? 0)))
                } else {
                    print(String(format: "     ours / baseline: p50 %.2f, p99 %.2f", row.ours.p50 / row.baseline.p50, row.ours.p99 / row.baseline.p99))
                }
            }

            openblas_set_num_threads(1)
            let batched = TopKBenchmark.batchedScoring(
                itemsByDimension: itemsByDimension, count: matrix.rowCount, dimension: dimension, queries: queries,
                batchSizes: [1, 2, 4, 8, 16, 32, 64], rounds: max(10, options.topKQueries / 50))
            openblas_set_num_threads(defaultThreads)
            print("a2. the scan for a batch of queries at once (ItemScoring, as coalesced requests run it; 1 OpenBLAS thread)")
            for row in batched {
                print(
                    String(
                        format: "   batch %2d: %.3f ms per query (%.2f × one query alone); per batch ", row.batch,
                        row.perQueryMilliseconds, row.perQueryMilliseconds / batched[0].perQueryMilliseconds)
                        + row.perBatch.formatted)
            }

            // b. in-process single requests.
            let loadStart = ContinuousClock.now
            let recommender = try Recommender(store: store, settings: inference)
            print(String(format: "b. in-process single requests (first snapshot loaded in %.2f s)", loadStart.duration(to: .now).seconds))
            let users = options.users
            var userRandom = SplitMix64(seed: options.seed &+ 7)
            // Warm-up (not reported): scratch buffers, code and the store's pages.
            _ = try sequential(
                "warm-up", recommender: recommender, count: min(500, options.requests), k: options.k,
                userIndex: { _ in Int(userRandom.next() % UInt64(users)) }, blasThreads: 1)
            let quiet = try sequential(
                "cold, no writer, 1 BLAS thread", recommender: recommender, count: options.requests, k: options.k,
                userIndex: { _ in Int(userRandom.next() % UInt64(users)) }, blasThreads: 1)
            let writer = startWriter(
                store: store, users: options.users, items: options.items, dimension: dimension, settings: options.writer,
                seed: options.seed &+ 11)
            let refresher = startRefresher(recommender, interval: .milliseconds(inference.snapshotRefreshMs))
            let busyDefault = try sequential(
                "cold, writer + refresh, \(defaultThreads) BLAS threads", recommender: recommender, count: options.requests,
                k: options.k, userIndex: { _ in Int(userRandom.next() % UInt64(users)) }, blasThreads: defaultThreads)
            var recent: [Int] = []
            let busySingle = try sequential(
                "cold, writer + refresh, 1 BLAS thread", recommender: recommender, count: options.requests, k: options.k,
                userIndex: { _ in
                    let user = Int(userRandom.next() % UInt64(users))
                    recent.append(user)
                    return user
                }, blasThreads: 1)
            // Each of 1,000 users twice in a row: the second answer comes from the cache (unless a
            // refresh moved the snapshot in between, which changes the model version in the key).
            let again = Array(recent.suffix(1_000))
            let cached = try sequential(
                "cached (same user again at once), writer + refresh", recommender: recommender, count: 2 * again.count,
                k: options.k, userIndex: { again[$0 / 2] }, blasThreads: 1, wantCached: true)
            for result in [quiet, busyDefault, busySingle, cached] {
                let cachedNote = result.cachedFraction > 0 ? String(format: ", %.0f %% cache hits", 100 * result.cachedFraction) : ""
                print("   \(result.name.padding(toLength: 62, withPad: " ", startingAt: 0)) \(result.latency.formatted)\(cachedNote)")
            }
            print("   target p99 ≤ 5 ms: \(busySingle.latency.p99 <= 5 ? "met" : "not met") (cold, writer + refresh, 1 BLAS thread)")

            // b2. concurrent in-process requests through the coalescing path.
            openblas_set_num_threads(1)
            /// Every concurrency level of concurrent in-process requests.
            func measureConcurrent(seed: UInt64) {
                for concurrency in options.concurrency {
                    let result = concurrent(
                        recommender: recommender, tasks: concurrency, duration: options.duration, users: options.users, k: options.k,
                        seed: seed &+ UInt64(concurrency))
                    print(
                        String(format: "   %2d concurrent: %.0f requests/s, ", concurrency, result.requestsPerSecond)
                            + result.latency.formatted
                            + String(format: ", %.1f requests per scan", result.requestsPerScan)
                            + (result.errors > 0 ? ", \(result.errors) errors (first: \(result.firstError ?? ""))" : ""))
                }
            }
            print("b2. concurrent in-process requests (recommendations(for:), scans coalesced), writer + refresh, 1 BLAS thread")
            measureConcurrent(seed: options.seed &+ 101)
            // The refresher runs through b and b2: a snapshot that stops moving while the learner
            // commits pins every page freed after it, and the store's file grows by each commit
            // (docs/state-store.md). The HTTP server refreshes the recommender itself.
            let refreshStatistics = refresher.stop()
            print(
                String(
                    format: "   refresh over b and b2: %d runs, %d moved the snapshot, mean %.1f ms each", refreshStatistics.runs,
                    refreshStatistics.changed, refreshStatistics.meanMilliseconds)
                    + (refreshStatistics.failures > 0
                        ? ", \(refreshStatistics.failures) failed: \(refreshStatistics.lastError ?? "")" : ""))

            // c. over HTTP on loopback (the server refreshes itself, as `loupe serve` does).
            openblas_set_num_threads(1)
            let port = try LoopbackHTTPConnection.freePort()
            let server = try InProcessServer(
                recommender: recommender, inference: inference, server: serverSettings, logDirectory: directory + "/log", port: port)
            print(
                "c. HTTP on 127.0.0.1:\(port), writer + refresh; in-process server and one client thread polling all connections, on the same cores, keep-alive, 1 BLAS thread"
            )
            /// Every concurrency level against the server; the latency target is read for single
            /// requests (one connection), the throughput target at the highest concurrency.
            func measureHTTP(seed: UInt64) throws {
                let highest = options.concurrency.max()
                for concurrency in options.concurrency {
                    let result = try load(
                        port: port, recommender: recommender, workers: concurrency, duration: options.duration,
                        users: options.users, k: options.k, seed: seed &+ UInt64(concurrency))
                    print(
                        String(format: "   concurrency %2d: %.0f requests/s, ", concurrency, result.requestsPerSecond)
                            + result.latency.formatted
                            + String(format: ", %.1f requests per scan", result.requestsPerScan)
                            + (result.errors > 0 ? ", \(result.errors) errors (first: \(result.firstError ?? ""))" : ""))
                    if concurrency == 1 {
                        print("     target p99 ≤ 10 ms for single requests: \(result.latency.p99 <= 10 ? "met" : "not met")")
                    }
                    if concurrency == highest {
                        print(
                            String(
                                format: "     target ≥ 2,000 requests/s: %@ (%.2f of it)",
                                result.requestsPerSecond >= 2_000 ? "met" : "not met", result.requestsPerSecond / 2_000))
                    }
                }
            }
            try measureHTTP(seed: options.seed)
            if options.slowClients > 0 {
                try measureUnderAttack(
                    port: port, recommender: recommender, options: options, server: serverSettings, print: print)
            }
            let writes = writer.stop()
            print("c2. the same without the simulated learner: what the 2 cores serve")
            try measureHTTP(seed: options.seed &+ 1_000)
            try server.stop()
            print("b3. b2 without the simulated learner: what the pipeline alone serves on the 2 cores, without HTTP")
            measureConcurrent(seed: options.seed &+ 2_101)
            openblas_set_num_threads(defaultThreads)
            print(
                String(format: "   simulated learner over b and c: %d commits, mean %.1f ms each", writes.runs, writes.meanMilliseconds)
                    + (writes.failures > 0 ? ", \(writes.failures) failed: \(writes.lastError ?? "")" : ""))
        }
    }
}
