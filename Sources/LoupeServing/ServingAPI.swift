import LoupeEvents
import LoupeStore

/// What a caller asks of the recommender: the parameters of
/// `GET /v1/users/{id}/recommendations` and of `loupe recommend`, already validated.
public struct RecommendationRequest: Sendable, Hashable {
    public var userId: String
    /// How many items to return (1…`inference.max_recommendations`).
    public var k: Int
    /// Context, as the events carry it: "web", "ios", "android", …; nil when not given.
    public var device: String?
    /// Hour of day 0…23 in the shopper's time; nil when not given.
    public var hour: Int?
    public var minPrice: Double?
    public var maxPrice: Double?
    /// Item ids never to return.
    public var exclude: [String]

    public init(
        userId: String, k: Int, device: String? = nil, hour: Int? = nil, minPrice: Double? = nil, maxPrice: Double? = nil,
        exclude: [String] = []
    ) {
        self.userId = userId
        self.k = k
        self.device = device
        self.hour = hour
        self.minPrice = minPrice
        self.maxPrice = maxPrice
        self.exclude = exclude
    }
}

/// Why an item is in a list, in a word a client can show or log.
public enum RecommendationReason: String, Sendable, Codable, CaseIterable {
    /// The user's own embedding scores it high.
    case personalized
    /// Similar to an item in the user's recent history.
    case similarToRecent = "similar_to_recent"
    /// Its style suits the user's face shape.
    case faceShapeFit = "face_shape_fit"
    /// Popular overall (the fallback for users with nothing else known).
    case popular
}

public struct RecommendedItem: Sendable, Hashable {
    public var itemId: String
    public var score: Float
    public var reason: RecommendationReason

    public init(itemId: String, score: Float, reason: RecommendationReason) {
        self.itemId = itemId
        self.score = score
        self.reason = reason
    }
}

/// The answer to one request, computed inside one store snapshot of one model.
public struct RecommendationList: Sendable {
    public var userId: String
    public var items: [RecommendedItem]
    /// The experiment variant the user is assigned, which chose the model; nil when the caller
    /// chose the model (batch inference serves `inference.model`).
    public var variant: String?
    /// The model the scores came from.
    public var model: ModelKey
    /// The store commit the snapshot read (with the model, it changes whenever the item side can).
    public var snapshot: Int
    /// The log positions the snapshot includes (topic → next offset per partition).
    public var positions: [StorePosition]
    /// The user's state version (update count) in the snapshot; 0 for an unknown user.
    public var userVersion: UInt64
    /// True when the user had no embedding (face-shape or popularity recommendations).
    public var coldStart: Bool
    /// Whether the list came from the prediction cache.
    public var cached: Bool

    public init(
        userId: String, items: [RecommendedItem], variant: String?, model: ModelKey, snapshot: Int, positions: [StorePosition],
        userVersion: UInt64, coldStart: Bool, cached: Bool
    ) {
        self.userId = userId
        self.items = items
        self.variant = variant
        self.model = model
        self.snapshot = snapshot
        self.positions = positions
        self.userVersion = userVersion
        self.coldStart = coldStart
        self.cached = cached
    }
}

/// Errors a caller should turn into a 4xx response.
public enum ServingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No item with this id in the snapshot (for `similar`).
    case unknownItem(String)
    /// The model a request needs is not loaded yet (nothing learned, or no such model).
    case notReady(String)
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .unknownItem(let id): "unknown item \"\(id)\""
        case .notReady(let reason): "not ready: \(reason)"
        case .invalidRequest(let reason): reason
        }
    }
}

public struct SimilarItems: Sendable {
    public var itemId: String
    public var items: [RecommendedItem]
    public var model: ModelKey
    public var snapshot: Int
    public var positions: [StorePosition]

    public init(itemId: String, items: [RecommendedItem], model: ModelKey, snapshot: Int, positions: [StorePosition]) {
        self.itemId = itemId
        self.items = items
        self.model = model
        self.snapshot = snapshot
        self.positions = positions
    }
}

/// One served model as `/readyz` and `/metrics` report it.
public struct ModelStatus: Sendable, Equatable {
    public var model: ModelKey
    /// A snapshot of the model is open and its item side loaded.
    public var ready: Bool
    /// Why not, when not ready.
    public var reason: String?
    /// The store commit of the open snapshot.
    public var snapshot: Int?
    /// Seconds since the snapshot was opened (0 without one).
    public var snapshotAgeSeconds: Double
    public var positions: [StorePosition]
    public var itemCount: Int

    public init(
        model: ModelKey, ready: Bool, reason: String?, snapshot: Int?, snapshotAgeSeconds: Double, positions: [StorePosition],
        itemCount: Int
    ) {
        self.model = model
        self.ready = ready
        self.reason = reason
        self.snapshot = snapshot
        self.snapshotAgeSeconds = snapshotAgeSeconds
        self.positions = positions
        self.itemCount = itemCount
    }
}

/// What `/readyz` and `/metrics` report about the recommender: every served model, and the
/// figures an alert reads, taken over them at their worst.
public struct ServingStatus: Sendable {
    /// Every model a variant serves, in key order.
    public var models: [ModelStatus]
    public var cacheHits: UInt64
    public var cacheMisses: UInt64
    public var cacheEntries: Int
    public var cacheBytes: Int

    public init(models: [ModelStatus], cacheHits: UInt64, cacheMisses: UInt64, cacheEntries: Int, cacheBytes: Int) {
        self.models = models
        self.cacheHits = cacheHits
        self.cacheMisses = cacheMisses
        self.cacheEntries = cacheEntries
        self.cacheBytes = cacheBytes
    }

    /// Every served model is loaded.
    public var ready: Bool { models.allSatisfy(\.ready) }

    /// Why not, model by model.
    public var reason: String? {
        let reasons = models.filter { !$0.ready }.map { "\($0.model): \($0.reason ?? "not loaded")" }
        return reasons.isEmpty ? nil : reasons.joined(separator: "; ")
    }

    /// The oldest snapshot's age.
    public var snapshotAgeSeconds: Double { models.map(\.snapshotAgeSeconds).max() ?? 0 }

    /// The smallest catalog among the loaded models.
    public var itemCount: Int { models.filter(\.ready).map(\.itemCount).min() ?? 0 }

    /// Per partition, the position of the model furthest behind (what consumer lag reports).
    public var positions: [StorePosition] {
        struct Partition: Hashable {
            var topic: String
            var partition: Int32
        }
        var lowest: [Partition: StorePosition] = [:]
        for model in models where model.ready {
            for position in model.positions {
                let key = Partition(topic: position.topic, partition: position.partition)
                if let known = lowest[key], known.offset <= position.offset { continue }
                lowest[key] = position
            }
        }
        return lowest.values.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }
}

/// The recommender as the HTTP service and `loupe recommend` see it. `Recommender` is the
/// implementation; tests of the HTTP layer may substitute their own.
public protocol RecommendationService: Sendable {
    /// Recommendations for one user, inside one snapshot; unknown users get cold-start lists.
    /// Asynchronous so that concurrent requests can share work while they wait.
    func recommendations(for request: RecommendationRequest) async throws -> RecommendationList
    /// The items most similar to `itemId` (cosine of item embeddings of `inference.model`),
    /// excluding itself; `ServingError.unknownItem` when the snapshot has no such item.
    func similar(to itemId: String, k: Int) throws -> SimilarItems
    /// The variant a user is assigned (stable hash of user id and experiment salt).
    func variant(of userId: String) -> String
    var status: ServingStatus { get }
}
