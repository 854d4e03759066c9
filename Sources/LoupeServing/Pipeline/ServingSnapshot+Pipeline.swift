import LoupeML
import LoupeStore

/// What the pipeline reads of one user inside the snapshot's transaction.
struct UserInputs: Sendable {
    var record: UserRecord?
    /// The user's row was copied into the query buffer.
    var hasEmbedding: Bool
    var history: UserHistory
    var purchases: [String]
}

/// The pipeline's knobs, from `InferenceSettings`.
struct PipelineSettings: Sendable {
    var poolSize: Int
    var lambda: Float
    var reranker: any Reranker
}

/// Candidate sources in order of precedence: when several contribute an item, its reason is
/// the first of them.
enum CandidateSource: UInt8 {
    case similarToRecent = 1
    case faceShapeFit, personalized, popular

    var reason: RecommendationReason {
        switch self {
        case .similarToRecent: .similarToRecent
        case .faceShapeFit: .faceShapeFit
        case .personalized: .personalized
        case .popular: .popular
        }
    }
}

extension ServingSnapshot {
    /// Most recent history entries looked at, and distinct positive items averaged into the
    /// history query.
    static let historyLookback = 50
    static let historyQueryItems = 10

    /// Reads the user's record, row (into `userQuery`, `dimension` values), history and
    /// purchases. Call inside `held.withSnapshot`.
    func readUser(
        _ id: String, record: UserRecord?, from snapshot: StoreSnapshot, into userQuery: UnsafeMutableBufferPointer<Float>
    ) throws -> UserInputs {
        let hasEmbedding = try catalog.dimension > 0 && snapshot.copyUserEmbedding(id, into: userQuery)
        return UserInputs(
            record: record, hasEmbedding: hasEmbedding, history: try snapshot.history(of: id),
            purchases: try snapshot.purchases(of: id))
    }

    /// Writes the mean row of the user's recent wanted items (weighted by their weights) into
    /// `query` and returns whether there was any; collects the rows of items whose latest entry
    /// is unwanted (dislike, return, low rating) into `rejected`.
    func historyQuery(_ history: UserHistory, into query: UnsafeMutableBufferPointer<Float>, rejected: inout [Int]) -> Bool {
        let dimension = catalog.dimension
        for offset in 0..<dimension { query[offset] = 0 }
        var seen: [String] = []
        var total: Float = 0
        var used = 0
        catalog.embeddings.withUnsafeBufferPointer { items in
            for entry in history.entries.reversed().prefix(Self.historyLookback) {
                guard !seen.contains(entry.itemId) else { continue }
                seen.append(entry.itemId)
                guard let row = catalog.row(of: entry.itemId) else { continue }
                if entry.weight < 0 {
                    rejected.append(row)
                } else if entry.weight > 0, used < Self.historyQueryItems {
                    used += 1
                    total += entry.weight
                    let base = row * dimension
                    for offset in 0..<dimension { query[offset] += entry.weight * items[base + offset] }
                }
            }
        }
        guard total > 0 else { return false }
        for offset in 0..<dimension { query[offset] /= total }
        return true
    }

    /// Scores every item against the first `queryCount` query rows in `scratch.queries` (the
    /// user's, then the recent history's) into `scratch.scores`, on the calling thread.
    func score(queryCount: Int, scratch: RequestScratch) {
        precondition((0...2).contains(queryCount), "a request has at most two query rows")
        let count = catalog.count
        guard count > 0, queryCount > 0 else { return }
        catalog.embeddingsByDimension.withUnsafeBufferPointer { items in
            ItemScoring.score(
                itemsByDimension: items.baseAddress!, itemCount: count, dimension: catalog.dimension,
                queries: UnsafePointer(scratch.queries.baseAddress!), queryCount: queryCount,
                into: scratch.scores.baseAddress!, stride: count)
        }
    }

    /// Sets `scratch.mask` to the rows this request may return: servable, within the price
    /// range (an unknown price is outside any range), not excluded, purchased or rejected.
    func prepareMask(_ request: RecommendationRequest, purchases: [String], rejected: [Int], scratch: RequestScratch) {
        let mask = scratch.mask
        catalog.servable.withUnsafeBufferPointer { servable in
            _ = mask.update(fromContentsOf: servable)
        }
        if request.minPrice != nil || request.maxPrice != nil {
            let low = request.minPrice ?? -.infinity
            let high = request.maxPrice ?? .infinity
            catalog.prices.withUnsafeBufferPointer { prices in
                for row in 0..<prices.count where mask[row] != 0 {
                    if !(prices[row] >= low && prices[row] <= high) { mask[row] = 0 }
                }
            }
        }
        for id in request.exclude { if let row = catalog.row(of: id) { mask[row] = 0 } }
        for id in purchases { if let row = catalog.row(of: id) { mask[row] = 0 } }
        for row in rejected { mask[row] = 0 }
    }

    /// Candidate pool, rerank, diversification: the list for one user whose scores (user row,
    /// then history row, `catalog.count` each: inner products, without the item biases, which
    /// this adds to the user row in place) are in `scores` and whose mask is prepared.
    /// Returns the items and whether it was a cold start.
    func rank(
        _ request: RecommendationRequest, user: UserInputs, hasHistory: Bool, scores: UnsafeMutablePointer<Float>,
        scratch: RequestScratch,
        settings: PipelineSettings
    ) -> (items: [RecommendedItem], coldStart: Bool) {
        let count = catalog.count
        let limit = min(max(settings.poolSize, request.k), capacity)
        let mask = UnsafeBufferPointer(scratch.mask)
        let marks = scratch.marks
        let pool = scratch.poolRows
        var poolCount = 0
        defer { for index in 0..<poolCount { marks[Int(pool[index])] = 0 } }

        /// Adds `row` from `source`; returns whether it was new to the pool.
        func add(_ row: Int32, _ source: CandidateSource) -> Bool {
            let current = marks[Int(row)]
            if current == 0 {
                marks[Int(row)] = source.rawValue
                pool[poolCount] = row
                poolCount += 1
                return true
            }
            marks[Int(row)] = min(current, source.rawValue)
            return false
        }
        /// Adds up to `wanted` new rows from `order` that pass the mask (and have interactions,
        /// if `interacted`); stops when the pool is full.
        func take(_ order: [Int32], _ wanted: Int, _ source: CandidateSource, interacted: Bool = false) {
            var taken = 0
            for row in order {
                guard taken < wanted, poolCount < limit else { return }
                if interacted && catalog.interactionCounts[Int(row)] == 0 { return }
                if mask[Int(row)] != 0, add(row, source) { taken += 1 }
            }
        }
        /// Of the best `wanted` rows by `values` that pass the mask: those already in the pool take
        /// `source` as their reason if it is more specific, and the best of the others are added
        /// until the pool is full. No sort: only which rows, not their order, matters here.
        func takeBest(_ values: UnsafePointer<Float>, _ wanted: Int, _ source: CandidateSource) {
            let rows = scratch.heapRows
            let rowScores = scratch.heapScores
            let selected = TopSelection.select(
                UnsafeBufferPointer(start: values, count: count), mask: mask, limit: min(wanted, capacity),
                rows: rows, scores: rowScores, workspace: scratch.candidates, ordered: false)
            var fresh = 0
            for index in 0..<selected {
                let row = rows[index]
                if marks[Int(row)] != 0 {
                    marks[Int(row)] = min(marks[Int(row)], source.rawValue)
                } else {
                    rows[fresh] = row
                    rowScores[fresh] = rowScores[index]
                    fresh += 1
                }
            }
            let space = limit - poolCount
            guard space > 0 else { return }
            guard fresh > space else {
                for index in 0..<fresh { _ = add(rows[index], source) }
                return
            }
            let ranked = UnsafeMutableBufferPointer(rebasing: scratch.candidates[0..<fresh])
            for index in 0..<fresh { ranked[index] = TopSelection.Candidate(score: rowScores[index], row: rows[index]) }
            TopSelection.partition(ranked, keepingBest: space)
            for index in 0..<space { _ = add(ranked[index].row, source) }
        }

        let faceGroup = user.record?.faceShapeIndex.flatMap { faces.hasMembers($0) ? $0 : nil }
        let coldStart = !user.hasEmbedding
        let poolScores = scratch.poolScores
        if user.hasEmbedding {
            catalog.biases.withUnsafeBufferPointer { biases in
                for row in 0..<count { scores[row] += biases[row] }
            }
            if hasHistory { takeBest(scores + count, limit / 5, .similarToRecent) }
            if let faceGroup { take(faces.orders[faceGroup], limit / 5, .faceShapeFit) }
            take(catalog.popularOrder, limit / 20, .popular, interacted: true)
            takeBest(scores, limit, .personalized)
            for index in 0..<poolCount { poolScores[index] = scores[Int(pool[index])] }
        } else if let faceGroup {
            take(catalog.popularOrder, limit / 20, .popular, interacted: true)
            take(faces.orders[faceGroup], limit, .faceShapeFit)
            faces.scores.withUnsafeBufferPointer { faceScores in
                let base = faceGroup * count
                for index in 0..<poolCount { poolScores[index] = faceScores[base + Int(pool[index])] }
            }
        } else {
            take(catalog.popularOrder, limit, .popular)
            let largest = catalog.largestPopularity > 0 ? catalog.largestPopularity : 1
            for index in 0..<poolCount { poolScores[index] = catalog.popularity[Int(pool[index])] / largest }
        }

        let rows = UnsafeBufferPointer(rebasing: pool[0..<poolCount])
        let relevance = UnsafeMutableBufferPointer(rebasing: poolScores[0..<poolCount])
        settings.reranker.rerank(
            rows: rows, scores: relevance, catalog: catalog,
            context: RerankContext(request: request, user: user.record, coldStart: coldStart))
        let picks = catalog.embeddings.withUnsafeBufferPointer { items in
            catalog.inverseNorms.withUnsafeBufferPointer { inverseNorms in
                MaximalMarginalRelevance.select(
                    rows: rows, scores: UnsafeBufferPointer(relevance), k: request.k, lambda: settings.lambda, items: items,
                    inverseNorms: inverseNorms, dimension: catalog.dimension, workspace: scratch.mmr)
            }
        }
        let items = picks.map { index in
            let row = Int(rows[index])
            return RecommendedItem(
                itemId: catalog.ids[row], score: relevance[index], reason: CandidateSource(rawValue: marks[row])!.reason)
        }
        return (items, coldStart)
    }

    /// The `k` items most similar to row `query` by cosine of their embeddings, among servable
    /// items other than itself.
    func similar(toRow query: Int, k: Int, scratch: RequestScratch) -> [RecommendedItem] {
        let count = catalog.count
        let dimension = catalog.dimension
        let scores = scratch.scores
        catalog.embeddings.withUnsafeBufferPointer { rows in
            catalog.embeddingsByDimension.withUnsafeBufferPointer { items in
                ItemScoring.score(
                    itemsByDimension: items.baseAddress!, itemCount: count, dimension: dimension,
                    queries: rows.baseAddress! + query * dimension, queryCount: 1, into: scores.baseAddress!, stride: count)
            }
        }
        catalog.inverseNorms.withUnsafeBufferPointer { inverseNorms in
            let queryScale = inverseNorms[query]
            for row in 0..<count { scores[row] *= inverseNorms[row] * queryScale }
        }
        let mask = scratch.mask
        catalog.servable.withUnsafeBufferPointer { servable in _ = mask.update(fromContentsOf: servable) }
        mask[query] = 0
        let selected = TopSelection.select(
            UnsafeBufferPointer(rebasing: scores[0..<count]), mask: UnsafeBufferPointer(mask), limit: min(k, capacity),
            rows: scratch.heapRows, scores: scratch.heapScores, workspace: scratch.candidates)
        return (0..<selected).map { index in
            RecommendedItem(
                itemId: catalog.ids[Int(scratch.heapRows[index])], score: scratch.heapScores[index], reason: .similarToRecent)
        }
    }
}
