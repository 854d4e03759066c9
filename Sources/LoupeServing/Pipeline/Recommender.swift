import Foundation
import LoupeConfig
import LoupeEvents
import LoupeStore
import Synchronization

/// The recommendation pipeline on store snapshots: candidates (exact inner-product top-N with
/// BLAS, recent history, face-shape fit, popularity), filters, rerank, maximal marginal
/// relevance, the top k; a prediction cache; variant assignment, each variant served by its own
/// model (`inference.variants`). docs/serving.md describes it.
///
/// Every request is answered from one snapshot of the store (one LMDB read transaction), which
/// `refresh()` replaces with a newer one when the store has changed; call it every
/// `inference.snapshot_refresh_ms` from a background task. Safe to use from any number of
/// threads at once.
public final class Recommender: RecommendationService {
    let settings: InferenceSettings
    let pipeline: PipelineSettings
    private let now: @Sendable () -> Double
    private let cache: PredictionCache?
    private let variants: VariantAssignment
    /// Every model a variant serves, in key order.
    private let models: [ServedModel]
    /// Variant name → the model it serves.
    private let modelOfVariant: [String: ServedModel]
    /// `inference.model`: batch inference and similar items.
    private let defaultModel: ServedModel
    /// Serialises refreshes; requests that find no snapshot wait on it for the one being opened.
    private let refreshLock = NSLock()
    /// Coalesces the scans of concurrent `recommendations(for:)` calls.
    let scoring = ScoringQueue()

    /// Opens the first snapshots of every model a variant serves (`inference.variants`, else
    /// `inference.model`) in the store of data directory `directory`. A store or a model that
    /// does not exist yet is not an error: the recommender reports it not ready (and requests it
    /// would serve throw `ServingError.notReady`) until a refresh finds it.
    /// - Parameters:
    ///   - reranker: the rerank stage; the online model's score by default.
    ///   - now: seconds on a monotonic clock, for the cache's TTL and the snapshot's age (tests
    ///     inject their own).
    public init(
        directory: String, settings: InferenceSettings, reranker: any Reranker = OnlineModelReranker(),
        now: (@Sendable () -> Double)? = nil
    ) throws {
        self.settings = settings
        pipeline = PipelineSettings(poolSize: settings.candidatePoolSize, lambda: Float(settings.mmrLambda), reranker: reranker)
        let clock = now ?? Self.monotonicSeconds()
        self.now = clock
        cache =
            settings.cacheMaxMB > 0
            ? PredictionCache(ttl: Double(settings.cacheTTL), maximumBytes: settings.cacheMaxMB << 20, now: clock) : nil
        variants = VariantAssignment(salt: settings.experimentSalt, variants: settings.variants)
        var served: [ModelKey: ServedModel] = [:]
        for key in settings.servedModels + [settings.model] where served[key] == nil {
            served[key] = ServedModel(key, directory: directory)
        }
        models = served.keys.sorted().map { served[$0]! }
        modelOfVariant = Dictionary(uniqueKeysWithValues: settings.variants.keys.map { ($0, served[settings.model(ofVariant: $0)]!) })
        defaultModel = served[settings.model]!
        try refresh()
    }

    /// `init(directory:…)` on the data directory of `store`.
    public convenience init(
        store: StateStore, settings: InferenceSettings, reranker: any Reranker = OnlineModelReranker(),
        now: (@Sendable () -> Double)? = nil
    ) throws {
        try self.init(directory: store.directory, settings: settings, reranker: reranker, now: now)
    }

    static func monotonicSeconds() -> @Sendable () -> Double {
        let start = ContinuousClock.now
        return {
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        }
    }

    // MARK: snapshots

    /// Moves every served model to the store's latest state where it differs from its current
    /// snapshot's (by LMDB transaction id): opens a new read transaction, loads the model's item
    /// side and swaps it in. Requests in flight finish on the snapshot they started with.
    /// Returns whether any model moved.
    @discardableResult
    public func refresh() throws -> Bool {
        refreshLock.lock()
        defer { refreshLock.unlock() }
        var moved = false
        for model in models { moved = try refresh(model) || moved }
        return moved
    }

    private func refresh(_ model: ServedModel) throws -> Bool {
        var previous = model.current.withLock { $0 }
        guard let view = try openViewIfNeeded(model) else {
            model.current.withLock { $0 = nil }
            return previous != nil
        }
        var opened = try view.openSnapshot(waitingAtMost: .milliseconds(500))
        if opened == nil {
            // Another process grew the map: this process may re-map it only with none of its read
            // transactions open, so let every model's go (requests wait on the refresh lock) and wait.
            for other in models { other.current.withLock { $0 = nil } }
            previous = nil
            opened = try view.openSnapshot()
        }
        guard let held = opened else { return false }
        if let previous, previous.transactionId == held.transactionId { return false }
        let capacity = max(settings.candidatePoolSize, settings.maxRecommendations)
        guard
            let loaded = try ServingSnapshot.load(held, capacity: capacity, openedAt: now())
        else {
            model.notReadyReason.withLock { $0 = "model \(model.key) has nothing learned yet" }
            model.current.withLock { $0 = nil }
            return previous != nil
        }
        model.current.withLock { $0 = loaded }
        return true
    }

    /// The model's view of the store once the store and the model exist; nil (with the reason
    /// recorded) until then. Opening tables may start a transaction of its own, which must not
    /// wait for a map re-mapping that a held snapshot blocks: it happens only before the
    /// model's first snapshot, under the refresh lock.
    private func openViewIfNeeded(_ model: ServedModel) throws -> StateStore? {
        if let view = model.view.withLock({ $0 }) { return view }
        let view: StateStore
        do {
            view = try StateStore(directory: model.directory, model: model.key, readOnly: true)
        } catch StoreError.storeNotFound(let path) {
            model.notReadyReason.withLock { $0 = "no state store at \(path) yet (nothing learned)" }
            return nil
        } catch StoreError.modelNotFound(_, _, let available) {
            let held = available.isEmpty ? "none yet" : available.joined(separator: ", ")
            model.notReadyReason.withLock { $0 = "the store holds no model \(model.key) (it holds: \(held))" }
            return nil
        }
        model.view.withLock { $0 = view }
        return view
    }

    /// The snapshot of the model a user's variant serves.
    func acquire(variant: String) throws -> ServingSnapshot {
        try acquire(modelOfVariant[variant] ?? defaultModel)
    }

    /// The snapshot of `inference.model`.
    func acquire() throws -> ServingSnapshot {
        try acquire(defaultModel)
    }

    private func acquire(_ model: ServedModel) throws -> ServingSnapshot {
        if let snapshot = model.current.withLock({ $0 }) { return snapshot }
        // Perhaps a refresh is re-opening it: wait for that one.
        refreshLock.lock()
        refreshLock.unlock()
        if let snapshot = model.current.withLock({ $0 }) { return snapshot }
        throw ServingError.notReady(model.notReadyReason.withLock { $0 })
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
        let variant = variants.variant(of: request.userId)
        let snapshot = try acquire(variant: variant)
        let scratch = snapshot.scratches.take()
        defer { snapshot.scratches.giveBack(scratch) }
        switch try prepare(request, snapshot: snapshot, scratch: scratch, cache: cache) {
        case .answered(let list):
            return list
        case .needsScores(var prepared):
            prepared.variant = variant
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
        let variant = variants.variant(of: request.userId)
        let snapshot = try acquire(variant: variant)
        return try snapshot.scratches.withScratch { scratch in
            switch try prepare(request, snapshot: snapshot, scratch: scratch, cache: cache) {
            case .answered(let list):
                return list
            case .needsScores(var prepared):
                prepared.variant = variant
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
        /// The user's variant.
        var variant: String?

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
                let lookup = PredictionKey(
                    request, userVersion: record?.version ?? 0, model: snapshot.model, snapshot: snapshot.transactionId)
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
            userId: request.userId, items: ranked.items, variant: prepared.variant, model: snapshot.model,
            snapshot: snapshot.transactionId, positions: snapshot.positions, userVersion: user.record?.version ?? 0,
            coldStart: ranked.coldStart, cached: false)
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
        return SimilarItems(
            itemId: itemId, items: items, model: snapshot.model, snapshot: snapshot.transactionId, positions: snapshot.positions)
    }

    public func variant(of userId: String) -> String {
        variants.variant(of: userId)
    }

    public var status: ServingStatus {
        let statistics = cache?.statistics ?? PredictionCache.Statistics(hits: 0, misses: 0, entries: 0, bytes: 0)
        let models = models.map { model in
            let snapshot = model.current.withLock { $0 }
            return ModelStatus(
                model: model.key, ready: snapshot != nil, reason: snapshot == nil ? model.notReadyReason.withLock { $0 } : nil,
                snapshot: snapshot?.transactionId, snapshotAgeSeconds: snapshot.map { max(0, now() - $0.openedAt) } ?? 0,
                positions: snapshot?.positions ?? [], itemCount: snapshot?.catalog.count ?? 0)
        }
        return ServingStatus(
            models: models, cacheHits: statistics.hits, cacheMisses: statistics.misses, cacheEntries: statistics.entries,
            cacheBytes: statistics.bytes)
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

/// One model the recommender serves: its view of the store once it exists, and its current
/// snapshot.
final class ServedModel: Sendable {
    let key: ModelKey
    let directory: String
    let view = Mutex<StateStore?>(nil)
    let current = Mutex<ServingSnapshot?>(nil)
    let notReadyReason = Mutex<String>("no snapshot opened yet")

    init(_ key: ModelKey, directory: String) {
        self.key = key
        self.directory = directory
    }
}
