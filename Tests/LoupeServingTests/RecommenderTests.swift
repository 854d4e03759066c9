import LoupeEvents
import Foundation
import LoupeConfig
import LoupeStore
import Synchronization
import Testing

@testable import LoupeHTTP
@testable import LoupeServing

/// Small stores for the pipeline's tests.
enum ServingStores {
    struct Item {
        var id: String
        var vector: [Float]
        var price: Double = 100
        var style: Int? = 0
        var deleted = false
        var interactions: UInt64 = 0
        var bias: Float?
        var popularity: Double?
    }

    static func directory() -> String {
        NSTemporaryDirectory() + "loupe-serving-\(UUID().uuidString)"
    }

    /// A store of dimension `dimension` with `items` and users (id → row, record).
    static func store(
        dimension: Int, items: [Item], users: [(String, [Float]?, UserRecord?)] = [], position: Int64 = 1,
        directory: String = directory(), model: ModelKey = .onlineLearner
    ) throws -> StateStore {
        let store = try StateStore(directory: directory, model: model)
        try store.write { transaction in
            try transaction.setDimension(dimension)
            for item in items {
                try transaction.putItemEmbedding(item.id, item.vector)
                try transaction.putItem(
                    item.id,
                    ItemRecord(
                        version: 1, styleIndex: item.style, price: item.price, deleted: item.deleted,
                        interactionCount: item.interactions))
                if let bias = item.bias { try transaction.putItemBias(item.id, bias) }
                if let popularity = item.popularity { try transaction.putItemPopularity(item.id, popularity) }
            }
            for (id, row, record) in users {
                if let row { try transaction.putUserEmbedding(id, row) }
                if let record { try transaction.putUser(id, record) }
            }
            try transaction.setPosition(StorePosition(topic: "interactions", partition: 0, offset: position))
        }
        return store
    }

    /// Face-shape group `group` with `members` users whose rows add up to `sum`.
    static func putFaceGroup(_ store: StateStore, group: Int, members: Int64, sum: [Double]) throws {
        try store.write { transaction in try transaction.putGroupSums(.faceShape(group), members: members, sums: sum) }
    }

    static func settings(pool: Int = 50, lambda: Double = 1, cacheMB: Int = 4) -> InferenceSettings {
        var settings = InferenceSettings()
        settings.candidatePoolSize = pool
        settings.mmrLambda = lambda
        settings.cacheMaxMB = cacheMB
        return settings
    }

    /// Eight items along the axes of d = 4, scored for a user along (1, 0.5, 0.25, 0.125).
    static let axisItems: [Item] = (0..<8).map { index in
        var vector = [Float](repeating: 0, count: 4)
        vector[index % 4] = Float(8 - index)
        return Item(id: "i\(index)", vector: vector, price: Double(10 * (index + 1)), interactions: UInt64(index))
    }
    static let axisUser: [Float] = [1, 0.5, 0.25, 0.125]
}

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let time = Mutex(0.0)
    func advance(by seconds: Double) { time.withLock { $0 += seconds } }
    var now: @Sendable () -> Double { { [self] in time.withLock { $0 } } }
}

@Suite struct RecommenderTests {
    func ids(_ list: RecommendationList) -> [String] { list.items.map(\.itemId) }

    @Test func personalizedListIsRankedByInnerProduct() throws {
        let store = try ServingStores.store(
            dimension: 4, items: ServingStores.axisItems, users: [("u", ServingStores.axisUser, UserRecord(version: 3))])
        let recommender = try Recommender(store: store, settings: ServingStores.settings())
        let list = try recommender.recommend(RecommendationRequest(userId: "u", k: 3))
        // Scores: i0 8, i1 3.5, i2 1.5, i3 0.625, i4 4, i5 1.5, i6 0.5, i7 0.125.
        #expect(ids(list) == ["i0", "i4", "i1"])
        #expect(list.items.map(\.score) == [8, 4, 3.5])
        #expect(!list.coldStart && !list.cached && list.userVersion == 3)
        #expect(list.positions == [StorePosition(topic: "interactions", partition: 0, offset: 1)])
        #expect(list.model == .onlineLearner && list.variant == "control")
    }

    /// A personal score is the item's bias plus the inner product, as the learner's model scores.
    @Test func personalScoresAddTheItemBias() throws {
        var items = ServingStores.axisItems
        items[7].bias = 10  // 0.125 + 10: now first
        items[0].bias = -5  // 8 − 5 = 3: now behind i4 (4) and i1 (3.5)
        let store = try ServingStores.store(dimension: 4, items: items, users: [("u", ServingStores.axisUser, UserRecord(version: 1))])
        let list = try Recommender(store: store, settings: ServingStores.settings()).recommend(RecommendationRequest(userId: "u", k: 4))
        #expect(ids(list) == ["i7", "i4", "i1", "i0"])
        #expect(list.items.map(\.score) == [10.125, 4, 3.5, 3])
    }

    /// Without a row of their own, users get the popularity model's list, when the store has one.
    @Test func coldUsersGetThePopularityModelsList() throws {
        var items = ServingStores.axisItems
        for index in items.indices { items[index].popularity = Double(index % 3) }  // i2, i5 most popular
        let store = try ServingStores.store(dimension: 4, items: items)
        let list = try Recommender(store: store, settings: ServingStores.settings()).recommend(RecommendationRequest(userId: "new", k: 2))
        #expect(list.coldStart)
        #expect(ids(list) == ["i2", "i5"])
    }

    @Test func filtersPriceRangeAndUnknownPrices() throws {
        var items = ServingStores.axisItems
        items[4].price = .nan
        let store = try ServingStores.store(dimension: 4, items: items, users: [("u", ServingStores.axisUser, nil)])
        let recommender = try Recommender(store: store, settings: ServingStores.settings())
        let list = try recommender.recommend(RecommendationRequest(userId: "u", k: 8, minPrice: 15, maxPrice: 60))
        // i1…i5 cost 20…60; i4's price is unknown.
        #expect(ids(list) == ["i1", "i2", "i5", "i3"])
    }

    @Test func filtersPurchasedDeletedExcludedRejectedAndUncataloguedItems() throws {
        var items = ServingStores.axisItems
        items[0].deleted = true
        items[1].style = nil
        let store = try ServingStores.store(
            dimension: 4, items: items, users: [("u", ServingStores.axisUser, UserRecord(version: 1))])
        try store.write { transaction in
            try transaction.putPurchase(user: "u", item: "i4", time: 1)
            try transaction.putHistory(
                "u",
                UserHistory(entries: [
                    HistoryEntry(itemId: "i5", kind: .click, weight: 0.3, time: 1),
                    HistoryEntry(itemId: "i5", kind: .dislike, weight: -0.7, time: 2),
                ]))
        }
        let recommender = try Recommender(store: store, settings: ServingStores.settings())
        let list = try recommender.recommend(RecommendationRequest(userId: "u", k: 8, exclude: ["i2", "nope"]))
        #expect(ids(list) == ["i3", "i6", "i7"])
        // Bought, deleted and disliked items still shape nothing else: i5's dislike is its latest entry.
        let similar = try recommender.similar(to: "i4", k: 8)
        #expect(!similar.items.map(\.itemId).contains("i0"))
        #expect(!similar.items.map(\.itemId).contains("i1"))
        #expect(!similar.items.map(\.itemId).contains("i4"))
    }

    @Test func recentHistoryContributesSimilarItems() throws {
        // The user's row prefers axis 0; its history is on axis 3, which the personalized source ranks last.
        let items = (0..<40).map { index in
            ServingStores.Item(
                id: String(format: "i%02d", index),
                vector: index < 20 ? [1 + Float(index) * 0.01, 0, 0, 0] : [0, 0, 0, 1 + Float(index) * 0.01])
        }
        let store = try ServingStores.store(dimension: 4, items: items, users: [("u", [1, 0, 0, 0.001], UserRecord(version: 2))])
        try store.write { transaction in
            try transaction.putHistory(
                "u", UserHistory(entries: [HistoryEntry(itemId: "i25", kind: .tryOn, weight: 0.6, time: 5)]))
        }
        let recommender = try Recommender(store: store, settings: ServingStores.settings(pool: 10, lambda: 1))
        let list = try recommender.recommend(RecommendationRequest(userId: "u", k: 10))
        let recent = list.items.filter { $0.reason == .similarToRecent }.map(\.itemId)
        // limit / 5 = 2 items from the history source, the most similar to i25 (largest along axis 3).
        #expect(recent == ["i39", "i38"])
        #expect(list.items.filter { $0.reason == .personalized }.count == 8)
    }

    @Test func aPopularItemAmongThePersonalizedTopTakesThatReason() throws {
        // 100 items on axis 0, so that the personalized source selects from a catalog larger than
        // the pool; "i099" scores highest and is also the only popular item.
        let items = (0..<100).map { index in
            ServingStores.Item(
                id: String(format: "i%03d", index), vector: [1 + Float(index) * 0.01, 0, 0, 0],
                interactions: index == 99 || index == 3 ? 5 : 0)
        }
        let store = try ServingStores.store(dimension: 4, items: items, users: [("u", [1, 0, 0, 0], UserRecord(version: 1))])
        let recommender = try Recommender(store: store, settings: ServingStores.settings(pool: 40, lambda: 1))
        let list = try recommender.recommend(RecommendationRequest(userId: "u", k: 40))
        // The pool: 2 popular items (i003, i099), then the 38 best personalized rows not yet in it
        // (of its top 40, i060…i099, less i099).
        #expect(list.items.count == 40)
        #expect(list.items.first?.itemId == "i099")
        #expect(list.items.first?.reason == .personalized)
        #expect(list.items.filter { $0.reason == .popular }.map(\.itemId) == ["i003"])
        #expect(Set(list.items.map(\.itemId)) == Set(["i003"] + (61..<100).map { String(format: "i%03d", $0) }))
    }

    @Test func unknownUsersGetPopularItems() throws {
        let store = try ServingStores.store(dimension: 4, items: ServingStores.axisItems)
        let recommender = try Recommender(store: store, settings: ServingStores.settings())
        let list = try recommender.recommend(RecommendationRequest(userId: "stranger", k: 3))
        #expect(ids(list) == ["i7", "i6", "i5"])
        #expect(list.items.allSatisfy { $0.reason == .popular })
        #expect(list.items.map(\.score) == [1, Float(6) / 7, Float(5) / 7])
        #expect(list.coldStart && list.userVersion == 0)
    }

    @Test func coldUsersWithAKnownFaceShapeGetItsGroupsItems() throws {
        var items = ServingStores.axisItems
        for index in items.indices { items[index].interactions = 0 }
        items[6].interactions = 9
        var record = UserRecord(version: 1)
        record.faceShapeIndex = 2
        var unanalysed = UserRecord(version: 1)
        unanalysed.faceShapeIndex = nil
        let store = try ServingStores.store(
            dimension: 4, items: items, users: [("square", nil, record), ("plain", nil, unanalysed)])
        // Two members, mean (0, 0, 1, 0.5): i2 (6), i6 (2), i3 (2.5), i7 (0.5).
        try ServingStores.putFaceGroup(store, group: 2, members: 2, sum: [0, 0, 2, 1])
        let recommender = try Recommender(store: store, settings: ServingStores.settings(pool: 20))
        let list = try recommender.recommend(RecommendationRequest(userId: "square", k: 3))
        #expect(ids(list) == ["i2", "i3", "i6"])
        // i6 is also the most popular item; face-shape fit takes precedence as its reason.
        #expect(list.items.allSatisfy { $0.reason == .faceShapeFit })
        #expect(list.coldStart)
        let plain = try recommender.recommend(RecommendationRequest(userId: "plain", k: 2))
        #expect(ids(plain).first == "i6")
        #expect(plain.items.allSatisfy { $0.reason == .popular })
    }

    @Test func similarItemsByCosineAndUnknownItems() throws {
        let items = [
            ServingStores.Item(id: "a", vector: [1, 0, 0, 0]),
            ServingStores.Item(id: "b", vector: [10, 1, 0, 0]),
            ServingStores.Item(id: "c", vector: [1, 1, 0, 0]),
            ServingStores.Item(id: "d", vector: [0, 0, 5, 0]),
        ]
        let store = try ServingStores.store(dimension: 4, items: items)
        let recommender = try Recommender(store: store, settings: ServingStores.settings())
        let similar = try recommender.similar(to: "a", k: 2)
        #expect(similar.items.map(\.itemId) == ["b", "c"])
        #expect(abs(similar.items[0].score - 10 / Float(101).squareRoot()) < 1e-6)
        #expect(throws: ServingError.unknownItem("zz")) { try recommender.similar(to: "zz", k: 2) }
        #expect(throws: ServingError.self) { try recommender.similar(to: "a", k: 0) }
    }

    @Test func invalidRequestsAreRefused() throws {
        let store = try ServingStores.store(dimension: 4, items: ServingStores.axisItems)
        let recommender = try Recommender(store: store, settings: ServingStores.settings())
        for request in [
            RecommendationRequest(userId: "u", k: 0), RecommendationRequest(userId: "u", k: 101),
            RecommendationRequest(userId: "u", k: 5, minPrice: 50, maxPrice: 10),
            RecommendationRequest(userId: "u", k: 5, minPrice: -.infinity), RecommendationRequest(userId: "u", k: 5, hour: 24),
        ] {
            #expect(throws: ServingError.self) { try recommender.recommend(request) }
        }
    }

    @Test func notReadyUntilTheStoreHasAModel() throws {
        let store = try StateStore(directory: ServingStores.directory(), model: .onlineLearner)
        let recommender = try Recommender(store: store, settings: ServingStores.settings())
        #expect(!recommender.status.ready)
        #expect(throws: ServingError.self) { try recommender.recommend(RecommendationRequest(userId: "u", k: 1)) }
        try store.write { transaction in
            try transaction.setDimension(4)
            try transaction.putItemEmbedding("i", [1, 0, 0, 0])
            try transaction.putItem("i", ItemRecord(styleIndex: 1))
        }
        #expect(try recommender.refresh())
        #expect(recommender.status.ready && recommender.status.itemCount == 1)
        #expect(try recommender.recommend(RecommendationRequest(userId: "u", k: 1)).items.map(\.itemId) == ["i"])
    }

    @Test func requestsReadOneSnapshotUntilRefresh() throws {
        let store = try ServingStores.store(
            dimension: 4, items: ServingStores.axisItems, users: [("u", ServingStores.axisUser, UserRecord(version: 1))])
        let recommender = try Recommender(store: store, settings: ServingStores.settings(cacheMB: 0))
        let before = try recommender.recommend(RecommendationRequest(userId: "u", k: 2))
        #expect(try !recommender.refresh())  // nothing changed
        try store.write { transaction in
            try transaction.putUserEmbedding("u", [0, 0, 0, 1])
            try transaction.putUser("u", UserRecord(version: 2))
            try transaction.setPosition(StorePosition(topic: "interactions", partition: 0, offset: 7))
        }
        // Still the old snapshot: the old row, version and positions.
        let during = try recommender.recommend(RecommendationRequest(userId: "u", k: 2))
        #expect(during.items == before.items && during.userVersion == 1 && during.positions == before.positions)
        #expect(during.snapshot == before.snapshot)
        #expect(try recommender.refresh())
        let after = try recommender.recommend(RecommendationRequest(userId: "u", k: 2))
        #expect(after.items.map(\.itemId) == ["i3", "i7"] && after.userVersion == 2)
        #expect(after.positions == [StorePosition(topic: "interactions", partition: 0, offset: 7)])
        #expect(after.snapshot > before.snapshot && after.model == before.model)
        #expect(recommender.status.positions == after.positions)
    }

    @Test func concurrentRequestsDuringRefreshes() async throws {
        let store = try ServingStores.store(
            dimension: 4, items: ServingStores.axisItems, users: [("u", ServingStores.axisUser, UserRecord(version: 1))])
        let recommender = try Recommender(store: store, settings: ServingStores.settings(cacheMB: 0))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    for _ in 0..<200 {
                        let list = try recommender.recommend(
                            RecommendationRequest(userId: worker == 0 ? "u" : "new\(worker)", k: 3))
                        #expect(list.items.count == 3)
                    }
                }
            }
            group.addTask {
                for round in 0..<20 {
                    try store.write { try $0.putUser("u", UserRecord(version: UInt64(round + 2))) }
                    try recommender.refresh()
                }
            }
            try await group.waitForAll()
        }
    }

    @Test func batchEqualsSingleRequests() throws {
        var record = UserRecord(version: 1)
        record.faceShapeIndex = 0
        let store = try ServingStores.store(
            dimension: 4, items: ServingStores.axisItems,
            users: [("a", ServingStores.axisUser, record), ("b", [0, 1, 0, 0.5], nil), ("c", nil, record)])
        try ServingStores.putFaceGroup(store, group: 0, members: 1, sum: [0, 1, 1, 0])
        try store.write { transaction in
            try transaction.putHistory(
                "b", UserHistory(entries: [HistoryEntry(itemId: "i2", kind: .click, weight: 0.3, time: 1)]))
            try transaction.putPurchase(user: "a", item: "i4", time: 1)
        }
        var settings = ServingStores.settings(pool: 6, lambda: 0.5, cacheMB: 0)
        settings.batchSize = 2
        let recommender = try Recommender(store: store, settings: settings)
        let requests = ["a", "b", "c", "d", "a"].map { RecommendationRequest(userId: $0, k: 4, maxPrice: 70) }
        let batch = try recommender.recommend(batch: requests)
        let single = try requests.map { try recommender.recommend($0) }
        #expect(batch.map(\.items) == single.map(\.items))
        #expect(batch.map(\.coldStart) == [false, false, true, true, false])
    }

    @Test func variantsFollowTheShares() throws {
        let assignment = VariantAssignment(salt: "s", variants: ["b": 0.25, "a": 0.5, "c": 0.25, "never": 0])
        var counts: [String: Int] = [:]
        let users = 100_000
        for index in 0..<users { counts[assignment.variant(of: "user-\(index)"), default: 0] += 1 }
        #expect(counts["never"] == nil)
        for (name, share) in [("a", 0.5), ("b", 0.25), ("c", 0.25)] {
            #expect(abs(Double(counts[name] ?? 0) / Double(users) - share) < 0.01, "\(name): \(counts[name] ?? 0)")
        }
        let other = VariantAssignment(salt: "t", variants: ["b": 0.25, "a": 0.5, "c": 0.25])
        let moved = (0..<1000).filter { assignment.variant(of: "user-\($0)") != other.variant(of: "user-\($0)") }.count
        #expect(moved > 300)  // another salt reshuffles users
    }
}
