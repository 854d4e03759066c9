import Glibc

/// The ranking measures of one list against the items a user turned out to want, at cut-off
/// k, exactly as `quality/movielens-100k.md` defines them: HR@k (any hit), Recall@k =
/// hits / |relevant|, Precision@k = hits / k, NDCG@k = Σ over hits at rank r of 1/log2(r + 1)
/// divided by the same sum for min(k, |relevant|) hits at the top, MRR@k = 1 / rank of the first
/// hit (0 without one).
public struct RankingMetrics: Sendable, Equatable {
    public var hitRate = 0.0
    public var recall = 0.0
    public var precision = 0.0
    public var ndcg = 0.0
    public var reciprocalRank = 0.0

    public init() {}

    /// The measures of `list` (best first; only its first `k` count) against `relevant`.
    public init(list: some Collection<Int>, relevant: Set<Int>, k: Int) {
        precondition(k > 0 && !relevant.isEmpty, "a cut-off and at least one relevant item")
        var hits = 0
        var gain = 0.0
        var firstHit: Int?
        for (position, item) in list.prefix(k).enumerated() where relevant.contains(item) {
            hits += 1
            gain += 1 / log2(Double(position) + 2)
            if firstHit == nil { firstHit = position + 1 }
        }
        var ideal = 0.0
        for position in 0..<min(k, relevant.count) { ideal += 1 / log2(Double(position) + 2) }
        hitRate = hits > 0 ? 1 : 0
        recall = Double(hits) / Double(relevant.count)
        precision = Double(hits) / Double(k)
        ndcg = gain / ideal
        reciprocalRank = firstHit.map { 1 / Double($0) } ?? 0
    }
}

/// Means of `RankingMetrics` over users, and catalog coverage: |union of the lists| / |catalog|.
public struct RankingSummary: Sendable, Equatable {
    public private(set) var users = 0
    public private(set) var mean = RankingMetrics()
    private var sums = RankingMetrics()
    private var listed: Set<Int> = []
    public let k: Int
    public let catalogSize: Int

    public init(k: Int, catalogSize: Int) {
        self.k = k
        self.catalogSize = catalogSize
    }

    public var coverage: Double { catalogSize > 0 ? Double(listed.count) / Double(catalogSize) : 0 }

    public mutating func add(list: [Int], relevant: Set<Int>) {
        let metrics = RankingMetrics(list: list, relevant: relevant, k: k)
        users += 1
        sums.hitRate += metrics.hitRate
        sums.recall += metrics.recall
        sums.precision += metrics.precision
        sums.ndcg += metrics.ndcg
        sums.reciprocalRank += metrics.reciprocalRank
        listed.formUnion(list.prefix(k))
        let count = Double(users)
        mean.hitRate = sums.hitRate / count
        mean.recall = sums.recall / count
        mean.precision = sums.precision / count
        mean.ndcg = sums.ndcg / count
        mean.reciprocalRank = sums.reciprocalRank / count
    }
}

/// The best `k` candidates by score, best first; equal scores go to the lower index.
/// `scores[i]` is item i's score; `candidate(i)` says whether it may be listed.
public func topK(_ scores: UnsafeBufferPointer<Float>, k: Int, candidate: (Int) -> Bool) -> [Int] {
    guard k > 0 else { return [] }
    // A bounded selection: the kept items sorted worst first, so the worst is at index 0.
    var kept: [(score: Float, item: Int)] = []
    kept.reserveCapacity(k + 1)
    func better(_ a: (score: Float, item: Int), _ b: (score: Float, item: Int)) -> Bool {
        a.score != b.score ? a.score > b.score : a.item < b.item
    }
    for item in 0..<scores.count where candidate(item) {
        let entry = (score: scores[item], item: item)
        if kept.count == k {
            guard better(entry, kept[0]) else { continue }
            kept.removeFirst()
        }
        let place = kept.firstIndex { better($0, entry) } ?? kept.count
        kept.insert(entry, at: place)
    }
    return kept.reversed().map(\.item)
}

/// Where `item` ranks among `candidates` by score: 1 + how many candidates score at least as
/// high (ties count against the item, as protocol C says).
public func rank(of score: Float, among candidates: some Sequence<Int>, scores: UnsafeBufferPointer<Float>) -> Int {
    var rank = 1
    for candidate in candidates where scores[candidate] >= score { rank += 1 }
    return rank
}
