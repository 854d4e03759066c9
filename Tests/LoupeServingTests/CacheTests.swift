import LoupeEvents
import LoupeStore
import Testing

@testable import LoupeHTTP
@testable import LoupeServing

@Suite struct CacheTests {
    func list(_ user: String, items: Int = 10) -> RecommendationList {
        RecommendationList(
            userId: user, items: (0..<items).map { RecommendedItem(itemId: "item-\($0)", score: 1, reason: .popular) },
            variant: "control", model: Self.model, snapshot: 7, positions: [], userVersion: 1, coldStart: false, cached: false)
    }

    static let model = try! ModelKey(parsing: "m@1")

    func key(_ user: String, version: UInt64 = 1, model: String = "m@1", snapshot: Int = 7) -> PredictionKey {
        PredictionKey(
            RecommendationRequest(userId: user, k: 10), userVersion: version, model: try! ModelKey(parsing: model), snapshot: snapshot)
    }

    @Test func entriesExpireAfterTheTTL() {
        let clock = ManualClock()
        let cache = PredictionCache(ttl: 60, maximumBytes: 1 << 20, now: clock.now)
        cache.store(list("u"), under: key("u"))
        clock.advance(by: 59)
        #expect(cache.lookup(key("u"))?.userId == "u")
        clock.advance(by: 1)
        #expect(cache.lookup(key("u")) == nil)
        #expect(cache.statistics == PredictionCache.Statistics(hits: 1, misses: 1, entries: 0, bytes: 0))
    }

    @Test func keysCoverStateVersionsAndParameters() {
        let cache = PredictionCache(ttl: 60, maximumBytes: 1 << 20, now: { 0 })
        cache.store(list("u"), under: key("u"))
        #expect(cache.lookup(key("u", version: 2)) == nil)
        #expect(cache.lookup(key("u", model: "m2@1")) == nil)
        #expect(cache.lookup(key("u", model: "m@2")) == nil)
        #expect(cache.lookup(key("u", snapshot: 8)) == nil)
        let excluding = PredictionKey(
            RecommendationRequest(userId: "u", k: 10, exclude: ["b", "a", "b"]), userVersion: 1, model: Self.model, snapshot: 7)
        #expect(cache.lookup(excluding) == nil)
        cache.store(list("u"), under: excluding)
        let reordered = PredictionKey(
            RecommendationRequest(userId: "u", k: 10, exclude: ["a", "b"]), userVersion: 1, model: Self.model, snapshot: 7)
        #expect(cache.lookup(reordered) != nil)
        let withContext = PredictionKey(RecommendationRequest(userId: "u", k: 10, hour: 3), userVersion: 1, model: Self.model, snapshot: 7)
        #expect(cache.lookup(withContext) == nil)
    }

    @Test func theMemoryBoundEvictsTheLeastRecentlyUsed() {
        let entryBytes = PredictionCache.estimatedBytes(key("u0"), list("u0"))
        // Item ids of 6 bytes are inline: the estimate counts strides and headers.
        #expect(entryBytes > 10 * MemoryLayout<RecommendedItem>.stride)
        let cache = PredictionCache(ttl: 60, maximumBytes: 3 * entryBytes + entryBytes / 2, now: { 0 })
        for user in ["u0", "u1", "u2"] { cache.store(list(user), under: key(user)) }
        #expect(cache.lookup(key("u0")) != nil)  // u0 is now the most recently used
        cache.store(list("u3"), under: key("u3"))
        #expect(cache.lookup(key("u1")) == nil)
        #expect(cache.lookup(key("u0")) != nil && cache.lookup(key("u2")) != nil && cache.lookup(key("u3")) != nil)
        #expect(cache.statistics.entries == 3 && cache.statistics.bytes == 3 * entryBytes)
        // An entry larger than the whole bound is not stored.
        cache.store(list("big", items: 1000), under: key("big"))
        #expect(cache.lookup(key("big")) == nil && cache.statistics.entries == 3)
    }

    @Test func recommenderServesFromCacheUntilTheUserChanges() throws {
        let store = try ServingStores.store(
            dimension: 4, items: ServingStores.axisItems, users: [("u", ServingStores.axisUser, UserRecord(version: 1))])
        let clock = ManualClock()
        let recommender = try Recommender(store: store, settings: ServingStores.settings(), now: clock.now)
        let request = RecommendationRequest(userId: "u", k: 2)
        let first = try recommender.recommend(request)
        let second = try recommender.recommend(request)
        #expect(!first.cached && second.cached && second.items == first.items)
        #expect(recommender.status.cacheHits == 1 && recommender.status.cacheMisses == 1 && recommender.status.cacheEntries == 1)
        try store.write { transaction in
            try transaction.putUserEmbedding("u", [0, 0, 0, 1])
            try transaction.putUser("u", UserRecord(version: 2))
        }
        try recommender.refresh()
        let third = try recommender.recommend(request)
        #expect(!third.cached && third.userVersion == 2 && third.items.map(\.itemId) == ["i3", "i7"])
        #expect(try recommender.recommend(request).cached)
        clock.advance(by: 3600)
        #expect(try !recommender.recommend(request).cached)
        #expect(recommender.status.cacheHits == 2 && recommender.status.cacheMisses == 3)
    }
}
