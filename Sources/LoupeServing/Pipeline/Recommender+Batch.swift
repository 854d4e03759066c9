import LoupeConcurrency
import LoupeConfig
import LoupeML
import Foundation
import LoupeEvents
import LoupeStore

extension Recommender {
    /// Recommendations for many users from one snapshot, in input order, for batch inference
    /// (`loupe recommend --all`). Users are scored in blocks of `inference.batch_size` by one
    /// scan each (their rows and history rows against every item, `ItemScoring`'s matrix
    /// products, which OpenBLAS spreads over the cores); the rest of each user's pipeline runs on
    /// all cores.
    /// Lists are those `recommend` gives a user whose variant serves `inference.model`, the
    /// model batch inference serves (with no variant); the cache is neither read nor filled.
    public func recommend(batch requests: [RecommendationRequest]) throws -> [RecommendationList] {
        for request in requests { try validate(request) }
        let snapshot = try acquire()
        let catalog = snapshot.catalog
        let count = catalog.count
        let dimension = catalog.dimension
        let blockSize = max(1, min(settings.batchSize, requests.count))
        let block = ScoreBlock(queries: 2 * blockSize * dimension, scores: 2 * blockSize * count)
        let workers = usableCores
        var lists: [RecommendationList] = []
        lists.reserveCapacity(requests.count)
        for start in stride(from: 0, to: requests.count, by: blockSize) {
            let chunk = Array(requests[start..<min(start + blockSize, requests.count)])
            let queries = block.queries
            let users = try snapshot.held.withSnapshot { store in
                try chunk.indices.map { index in
                    try snapshot.readUser(
                        chunk[index].userId, record: try store.user(chunk[index].userId), from: store,
                        into: UnsafeMutableBufferPointer(rebasing: queries[2 * index * dimension..<(2 * index + 1) * dimension]))
                }
            }
            var histories: [Bool] = []
            var rejections: [[Int]] = []
            for (index, user) in users.enumerated() {
                var rejected: [Int] = []
                let historyQuery = UnsafeMutableBufferPointer(
                    rebasing: queries[(2 * index + 1) * dimension..<(2 * index + 2) * dimension])
                histories.append(
                    snapshot.historyQuery(user.history, into: historyQuery, rejected: &rejected) && user.hasEmbedding)
                rejections.append(rejected)
                if !user.hasEmbedding {
                    for offset in 2 * index * dimension..<(2 * index + 1) * dimension { queries[offset] = 0 }
                }
            }
            if count > 0 {
                // Per user its row's scores, then its history's: the requests' scan (`ItemScoring`).
                catalog.embeddingsByDimension.withUnsafeBufferPointer { items in
                    ItemScoring.score(
                        itemsByDimension: items.baseAddress!, itemCount: count, dimension: dimension,
                        queries: UnsafePointer(queries.baseAddress!), queryCount: 2 * chunk.count, into: block.scores.baseAddress!,
                        stride: count)
                }
            }
            let pipeline = self.pipeline
            let frozenHistories = histories
            let frozenRejections = rejections
            let results = parallelMap(count: chunk.count, chunkSize: max(1, chunk.count / (4 * workers))) { index in
                snapshot.scratches.withScratch { scratch in
                    snapshot.prepareMask(
                        chunk[index], purchases: users[index].purchases, rejected: frozenRejections[index], scratch: scratch)
                    return snapshot.rank(
                        chunk[index], user: users[index], hasHistory: frozenHistories[index],
                        scores: block.scores.baseAddress! + 2 * index * count, scratch: scratch, settings: pipeline
                    )
                }
            }
            for (index, ranked) in results.enumerated() {
                lists.append(
                    RecommendationList(
                        userId: chunk[index].userId, items: ranked.items, variant: nil, model: snapshot.model,
                        snapshot: snapshot.transactionId, positions: snapshot.positions, userVersion: users[index].record?.version ?? 0,
                        coldStart: ranked.coldStart,
                        cached: false))
            }
        }
        return lists
    }
}

extension Recommender {
    /// The same lists, one user at a time through the single-request path (two `cblas_sgemv`
    /// per user rather than one `cblas_sgemm` per block), users spread over all cores; the cache
    /// is neither read nor filled.
    public func recommend(eachOf requests: [RecommendationRequest]) throws -> [RecommendationList] {
        let workers = usableCores
        let results = parallelMap(count: requests.count, chunkSize: max(1, requests.count / (8 * workers))) { index in
            Result { try self.answer(requests[index], cache: nil) }
        }
        return try results.map { try $0.get() }
    }

    /// Every user the current snapshot has a record of, in id (byte) order: the users
    /// `loupe recommend --all` answers.
    public func userIds() throws -> [String] {
        let snapshot = try acquire()
        var ids: [String] = []
        try snapshot.held.withSnapshot { store in
            ids.reserveCapacity(try store.count(.users))
            try store.forEachUser { id, _ in ids.append(id) }
        }
        return ids
    }
}

/// The query and score matrices of one block of batch users.
///
/// `@unchecked Sendable`: filled by one thread before the parallel phase, only read during it.
private final class ScoreBlock: @unchecked Sendable {
    let queries: UnsafeMutableBufferPointer<Float>
    let scores: UnsafeMutableBufferPointer<Float>

    init(queries: Int, scores: Int) {
        self.queries = .allocate(capacity: max(queries, 1))
        self.queries.initialize(repeating: 0)
        self.scores = .allocate(capacity: max(scores, 1))
        self.scores.initialize(repeating: 0)
    }

    deinit {
        queries.deallocate()
        scores.deallocate()
    }
}
