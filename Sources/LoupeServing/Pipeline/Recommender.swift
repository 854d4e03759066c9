import Foundation
import LoupeConfig
import LoupeStore
import Synchronization

/// The recommendation pipeline on store snapshots: candidates (exact inner-product top-N with
/// BLAS, recent history, face-shape fit, popularity), filters, rerank, maximal marginal
/// relevance, the top k; a prediction cache; variant assignment. docs/serving.md describes it.
///
/// Every request is answered from one snapshot of the store (one LMDB read transaction), which
/// `refresh()` replaces with a newer one when the store has changed; call it every
/// `inference.snapshot_refresh_ms` from a background task. Safe to use from any number of
/// threads at once.
public final class Recommender: RecommendationService {
    private let store: StateStore
    let settings: InferenceSettings
    let pipeline: PipelineSettings
    private let now: @Sendable () -> Double
    private let cache: PredictionCache?
    private let variants: VariantAssignment
    private let current = Mutex<ServingSnapshot?>(nil)
    private let notReadyReason = Mutex<String>("no snapshot opened yet")
    /// Serialises refreshes; requests that find no snapshot wait on it for the one being opened.
    private let refreshLock = NSLock()
    private let groupsTable = Mutex<RawTable?>(nil)
    /// Coalesces the scans of concurrent `recommendations(for:)` calls.
    let scoring = ScoringQueue()

    static let groupsTableName = "learner_groups"

    /// Opens the first snapshot. A store with no model yet is not an error: the recommender
    /// reports not ready (and `recommend` throws `ServingError.notReady`) until a refresh finds one.
    /// - Parameters:
    ///   - reranker: the rerank stage; the online model's score by default.
    ///   - now: seconds on a monotonic clock, for the cache's TTL and the snapshot's age (tests
    ///     inject their own).
    public init(
        store: StateStore, settings: InferenceSettings, reranker: any Reranker = OnlineModelReranker(),
        now: (@Sendable () -> Double)? = nil
    ) throws {
        self.store = store
        self.settings = settings
        pipeline = PipelineSettings(poolSize: settings.candidatePoolSize, lambda: Float(settings.mmrLambda), reranker: reranker)
        let clock = now ?? Self.monotonicSeconds()
        self.now = clock
        cache =
            settings.cacheMaxMB > 0
            ? PredictionCache(ttl: Double(settings.cacheTTL), maximumBytes: settings.cacheMaxMB << 20, now: clock) : nil
        variants = VariantAssignment(salt: settings.experimentSalt, variants: settings.variants)
        try refresh()
    }

    static func monotonicSeconds() -> @Sendable () -> Double {
        let start = ContinuousClock.now
        return {
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        }
    }

    // MARK: snapshots

    /// Moves to the store's latest state if it differs from the current snapshot's (by LMDB
    /// transaction id): opens a new read transaction, loads its item side and swaps it in.
    /// Requests in flight finish on the snapshot they started with. Returns whether it moved.
    @discardableResult
    public func refresh() throws -> Bool {
        refreshLock.lock()
        defer { refreshLock.unlock() }
        var previous = current.withLock { $0 }
        if previous == nil { openGroupsTableIfNeeded() }
        var opened = try store.openSnapshot(waitingAtMost: .milliseconds(500))
        if opened == nil {
            // Another process grew the map: this process may re-map it only with none of its read
            // transactions open, so let ours go (requests wait on the refresh lock) and wait.
            current.withLock { $0 = nil }
            previous = nil
            openGroupsTableIfNeeded()
            opened = try store.openSnapshot()
        }
        guard let held = opened else { return false }
        if let previous, previous.transactionId == held.transactionId { return false }
        let capacity = max(settings.candidatePoolSize, settings.maxRecommendations)
        guard
            let loaded = try ServingSnapshot.load(
                held, groups: groupsTable.withLock { $0 }, capacity: capacity, openedAt: now())
        else {
            notReadyReason.withLock { $0 = "the store has no model yet (nothing learned)" }
            current.withLock { $0 = nil }
            return previous != nil
        }
        current.withLock { $0 = loaded }
        return true
    }

    /// Opens `learner_groups` unless already open. Only called while this recommender holds no
    /// snapshot: opening a table may start a transaction of its own, which must not wait for a
    /// map re-mapping that our own held snapshot blocks.
    private func openGroupsTableIfNeeded() {
        guard groupsTable.withLock({ $0 }) == nil else { return }
        let table = try? store.table(named: Self.groupsTableName)
        groupsTable.withLock { $0 = table }
    }

    func acquire() throws -> ServingSnapshot {
        if let snapshot = current.withLock({ $0 }) { return snapshot }
        // Perhaps a refresh is re-opening it: wait for that one.
        refreshLock.lock()
        refreshLock.unlock()
        if let snapshot = current.withLock({ $0 }) { return snapshot }
        throw ServingError.notReady(notReadyReason.withLock { $0 })
    }

    // MARK: RecommendationService

    public func recommend(_ request: RecommendationRequest) throws -> RecommendationList {
        try answer(request, cache: cache)
    }

    /// Recommendations for one user, as `recommend` gives them, with the retrieval scan
    /// coalesced with those of concurrent callers (`ScoringQueue`): the HTTP service's path.
    /// The request waits suspended, holding no thread, while its scan runs.
    public func recommendations(for request: RecommendationRequest) async throws -> RecommendationList {
        try validate(request)
        let snapshot = try acquire()
        let scratch = snapshot.scratches.take()
        defer { snapshot.scratches.giveBack(scratch) }
        switch try prepare(request, snapshot: snapshot, scratch: scratch, cache: cache) {
        case .answered(let list):
            return list
        case .needsScores(let prepared):
            guard prepared.queryCount > 0 else {
                return finish(request, prepared, snapshot: snapshot, scratch: scratch, scores: scratch.scores.baseAddress!, cache: cache)
            }
            // The scores are read in place from the batch's buffer, released when the list is made.
            let scores = await scoring.score(
                snapshot, queries: UnsafePointer(scratch.queries.baseAddress!), queryCount: prepared.queryCount)
            defer { scoring.release(scores) }
            return finish(request, prepared, snapshot: snapshot, scratch: scratch, scores: scores.rows, cache: cache)
        }
    }

    /// One request through the pipeline on the calling thread, reading and filling `cache`
    /// when there is one.
    func answer(_ request: RecommendationRequest, cache: PredictionCache?) throws -> RecommendationList {
        try validate(request)
        let snapshot = try acquire()
        return try snapshot.scratches.withScratch { scratch in
            switch try prepare(request, snapshot: snapshot, scratch: scratch, cache: cache) {
            case .answered(let list):
                return list
            case .needsScores(let prepared):
                snapshot.score(queryCount: prepared.queryCount, scratch: scratch)
                return finish(request, prepared, snapshot: snapshot, scratch: scratch, scores: scratch.scores.baseAddress!, cache: cache)
            }
        }
    }

    /// A request read from its snapshot, its query rows in `scratch.queries`, waiting for
    /// their scores.
    struct PreparedRequest {
        var key: PredictionKey?
        var user: UserInputs
        var hasHistory: Bool
        var rejected: [Int]

        /// Query rows to score: 0 (no embedding: cold start), 1 (the user's row) or 2 (and the
        /// recent history's).
        var queryCount: Int { user.hasEmbedding ? (hasHistory ? 2 : 1) : 0 }
    }

    enum Preparation {
        case answered(RecommendationList)
        case needsScores(PreparedRequest)
    }

    /// Reads the user inside the snapshot's transaction; answers from the cache when it can,
    /// else writes the query rows.
    func prepare(
        _ request: RecommendationRequest, snapshot: ServingSnapshot, scratch: RequestScratch, cache: PredictionCache?
    ) throws -> Preparation {
        let dimension = snapshot.catalog.dimension
        var key: PredictionKey?
        var hit: RecommendationList?
        let inputs = try snapshot.held.withSnapshot { store -> UserInputs? in
            let record = try store.user(request.userId)
            if let cache {
                let lookup = PredictionKey(request, userVersion: record?.version ?? 0, modelVersion: snapshot.modelVersion)
                key = lookup
                hit = cache.lookup(lookup)
                if hit != nil { return nil }
            }
            return try snapshot.readUser(
                request.userId, record: record, from: store,
                into: UnsafeMutableBufferPointer(rebasing: scratch.queries[0..<dimension]))
        }
        if var hit {
            hit.cached = true
            return .answered(hit)
        }
        let user = inputs!
        var rejected: [Int] = []
        let hasHistory =
            snapshot.historyQuery(
                user.history, into: UnsafeMutableBufferPointer(rebasing: scratch.queries[dimension..<2 * dimension]),
                rejected: &rejected) && user.hasEmbedding
        return .needsScores(
            PreparedRequest(
                key: key, user: user, hasHistory: hasHistory, rejected: rejected))
    }

    /// Filters, candidates, rerank and diversification once the scores are at `scores` (user row,
    /// then history row, `catalog.count` each).
    func finish(
        _ request: RecommendationRequest, _ prepared: PreparedRequest, snapshot: ServingSnapshot, scratch: RequestScratch,
        scores: UnsafeMutablePointer<Float>, cache: PredictionCache?
    ) -> RecommendationList {
        let user = prepared.user
        snapshot.prepareMask(request, purchases: user.purchases, rejected: prepared.rejected, scratch: scratch)
        let ranked = snapshot.rank(
            request, user: user, hasHistory: prepared.hasHistory, scores: scores,
            scratch: scratch, settings: pipeline)
        let list = RecommendationList(
            userId: request.userId, items: ranked.items, modelVersion: snapshot.modelVersion, positions: snapshot.positions,
            userVersion: user.record?.version ?? 0, coldStart: ranked.coldStart, cached: false)
        if let cache, let key = prepared.key { cache.store(list, under: key) }
        return list
    }

    /// Calls `observer` after each coalesced scan with the number of requests and query rows
    /// it scored (metrics, benchmarks); nil stops.
    public func observeScoringPasses(_ observer: (@Sendable (_ requests: Int, _ queries: Int) -> Void)?) {
        scoring.observePasses(observer)
    }

    public func similar(to itemId: String, k: Int) throws -> SimilarItems {
        guard (1...settings.maxRecommendations).contains(k) else {
            throw ServingError.invalidRequest("k must be between 1 and \(settings.maxRecommendations), got \(k)")
        }
        let snapshot = try acquire()
        guard let row = snapshot.catalog.row(of: itemId) else { throw ServingError.unknownItem(itemId) }
        let items = snapshot.scratches.withScratch { snapshot.similar(toRow: row, k: k, scratch: $0) }
        return SimilarItems(itemId: itemId, items: items, modelVersion: snapshot.modelVersion, positions: snapshot.positions)
    }

    public func variant(of userId: String) -> String {
        variants.variant(of: userId)
    }

    public var status: ServingStatus {
        let snapshot = current.withLock { $0 }
        let statistics = cache?.statistics ?? PredictionCache.Statistics(hits: 0, misses: 0, entries: 0, bytes: 0)
        return ServingStatus(
            ready: snapshot != nil, reason: snapshot == nil ? notReadyReason.withLock { $0 } : nil,
            modelVersion: snapshot?.modelVersion, snapshotAgeSeconds: snapshot.map { max(0, now() - $0.openedAt) } ?? 0,
            positions: snapshot?.positions ?? [], itemCount: snapshot?.catalog.count ?? 0, cacheHits: statistics.hits,
            cacheMisses: statistics.misses, cacheEntries: statistics.entries, cacheBytes: statistics.bytes)
    }

    func validate(_ request: RecommendationRequest) throws {
        guard (1...settings.maxRecommendations).contains(request.k) else {
            throw ServingError.invalidRequest("k must be between 1 and \(settings.maxRecommendations), got \(request.k)")
        }
        for (name, price) in [("min_price", request.minPrice), ("max_price", request.maxPrice)] {
            if let price, !price.isFinite || price < 0 {
                throw ServingError.invalidRequest("\(name) must be a non-negative number, got \(price)")
            }
        }
        if let low = request.minPrice, let high = request.maxPrice, low > high {
            throw ServingError.invalidRequest("min_price (\(low)) exceeds max_price (\(high))")
        }
        if let hour = request.hour, !(0...23).contains(hour) {
            throw ServingError.invalidRequest("hour must be between 0 and 23, got \(hour)")
        }
    }
}
