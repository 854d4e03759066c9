import LoupeML
import Foundation
import LoupeStore
import Synchronization
import Testing

@testable import LoupeHTTP
@testable import LoupeServing

/// The retrieval scan for one or many queries (`ItemScoring`), and requests whose scans are
/// coalesced (`ScoringQueue`, `recommendations(for:)`).
@Suite struct CoalescedScoringTests {
    /// Small integers, so that every inner product is exact in Float32 whatever the order of
    /// the additions: BLAS's products must equal the plain sums exactly.
    static func matrix(rows: Int, columns: Int, seed: Int) -> [Float] {
        (0..<rows * columns).map { Float(((($0 + seed) * 7919) % 17) - 8) }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 8, 64])
    func scoresEqualPlainInnerProducts(queryCount: Int) {
        let dimension = 24
        // Not a multiple of the block, so the last block is partial.
        let itemCount = 2 * ItemScoring.blockColumns(dimension: dimension) + 37
        let items = Self.matrix(rows: itemCount, columns: dimension, seed: 1)
        let queries = Self.matrix(rows: queryCount, columns: dimension, seed: 2)
        // Rows of the output a little longer than the catalog, as a strided layout allows.
        let stride = itemCount + 3
        var scores = [Float](repeating: .nan, count: queryCount * stride)
        let byDimension = items.withUnsafeBufferPointer { ItemScoring.transposed($0, count: itemCount, dimension: dimension) }
        for row in 0..<itemCount {
            for offset in 0..<dimension where byDimension[offset * itemCount + row] != items[row * dimension + offset] {
                Issue.record("transposed: row \(row), offset \(offset)")
            }
        }
        byDimension.withUnsafeBufferPointer { items in
            queries.withUnsafeBufferPointer { queries in
                scores.withUnsafeMutableBufferPointer { scores in
                    ItemScoring.score(
                        itemsByDimension: items.baseAddress!, itemCount: itemCount, dimension: dimension,
                        queries: queries.baseAddress!, queryCount: queryCount, into: scores.baseAddress!, stride: stride)
                }
            }
        }
        // The same scores again, part by part as a split scan computes them, into another buffer.
        var byParts = [Float](repeating: .nan, count: queryCount * stride)
        let parts = ItemScoring.parts(itemCount: itemCount, dimension: dimension, parts: 5)
        #expect(parts.count == 3)
        for part in parts.reversed() {
            byDimension.withUnsafeBufferPointer { items in
                queries.withUnsafeBufferPointer { queries in
                    byParts.withUnsafeMutableBufferPointer { scores in
                        ItemScoring.score(
                            itemsByDimension: items.baseAddress!, itemCount: itemCount, dimension: dimension,
                            queries: queries.baseAddress!, queryCount: queryCount, into: scores.baseAddress!, stride: stride,
                            columns: part)
                    }
                }
            }
        }
        var mismatches = 0
        for query in 0..<queryCount {
            for row in 0..<itemCount where byParts[query * stride + row] != scores[query * stride + row] { mismatches += 1 }
            for row in 0..<itemCount {
                var expected: Float = 0
                for offset in 0..<dimension { expected += items[row * dimension + offset] * queries[query * dimension + offset] }
                if scores[query * stride + row] != expected { mismatches += 1 }
            }
            // The gap after each row is not written.
            for gap in itemCount..<stride where !scores[query * stride + gap].isNaN { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    @Test(arguments: [(1, 1), (7, 1), (1_024, 4), (50_000, 16), (50_001, 16), (100, 0)])
    func partsCoverTheColumnsInBlockMultiples(itemCount: Int, parts wanted: Int) {
        let dimension = 128
        let block = ItemScoring.blockColumns(dimension: dimension)
        let parts = ItemScoring.parts(itemCount: itemCount, dimension: dimension, parts: wanted)
        #expect(parts.first?.lowerBound == 0)
        #expect(parts.last?.upperBound == itemCount)
        #expect(parts.count <= max(wanted, 1))
        #expect(parts.allSatisfy { !$0.isEmpty })
        for (part, next) in zip(parts, parts.dropFirst()) {
            #expect(part.upperBound == next.lowerBound)
            #expect(part.upperBound % block == 0)
        }
        #expect(ItemScoring.parts(itemCount: 0, dimension: dimension, parts: wanted).isEmpty)
    }

    @Test func aUserWithARowAndNoItemsGetsAnEmptyListOnBothPaths() async throws {
        let store = try ServingStores.store(dimension: 4, items: [], users: [("u", ServingStores.axisUser, nil)])
        let recommender = try Recommender(store: store, settings: ServingStores.settings(cacheMB: 0))
        let request = RecommendationRequest(userId: "u", k: 3)
        #expect(try recommender.recommend(request).items.isEmpty)
        #expect(try await recommender.recommendations(for: request).items.isEmpty)
    }

    /// 40 users of whom some have a recent history (two query rows) and some no row (cold).
    static func store(items itemCount: Int = 300, dimension: Int = 8) throws -> (StateStore, [RecommendationRequest]) {
        let items = (0..<itemCount).map { index in
            ServingStores.Item(
                id: "item-\(index)", vector: matrix(rows: 1, columns: dimension, seed: index).map { $0 / 8 },
                price: Double(index % 50), style: index % 3, interactions: UInt64(index % 11))
        }
        var users: [(String, [Float]?, UserRecord?)] = []
        for index in 0..<40 {
            let row: [Float]? = index % 5 == 4 ? nil : matrix(rows: 1, columns: dimension, seed: 1_000 + index).map { $0 / 8 }
            users.append(("user-\(index)", row, UserRecord(version: UInt64(index + 1), lastEventTime: 1, faceShapeIndex: index % 3)))
        }
        let store = try ServingStores.store(dimension: dimension, items: items, users: users)
        try store.write { transaction in
            for index in stride(from: 0, to: 40, by: 2) {
                try transaction.putHistory(
                    "user-\(index)",
                    UserHistory(entries: [
                        HistoryEntry(itemId: "item-\((index * 7 + 1) % itemCount)", kind: .click, weight: 0.3, time: 1),
                        HistoryEntry(itemId: "item-\((index * 3 + 2) % itemCount)", kind: .dislike, weight: -0.7, time: 2),
                    ]))
            }
        }
        let requests = (0..<40).map { RecommendationRequest(userId: "user-\($0)", k: 5, maxPrice: 40) }
        return (store, requests)
    }

    /// 300 items: each scan is one part. 5,000 at d = 64: each scan is cut into parts that the
    /// worker and a helper share (`SharedParts`).
    @Test(arguments: [(300, 8), (5_000, 64)])
    func concurrentRequestsGetTheListsOfSingleRequests(items: Int, dimension: Int) async throws {
        // As servers run: one OpenBLAS thread, so scans are cut into parts.
        BLASThreads.set(1)
        let parts = ItemScoring.parts(itemCount: items, dimension: dimension, parts: ScoringQueue.partsToCut).count
        #expect(items == 300 ? parts == 1 : parts > 2)
        let (store, requests) = try Self.store(items: items, dimension: dimension)
        let recommender = try Recommender(store: store, settings: ServingStores.settings(pool: 40, lambda: 0.6, cacheMB: 0))
        let expected = try requests.map { try recommender.recommend($0) }
        let passes = PassCounter()
        recommender.observeScoringPasses { requests, queries in passes.add(requests: requests, queries: queries) }
        // Every request three times at once, so that scans are coalesced.
        let lists = try await withThrowingTaskGroup(of: (Int, RecommendationList).self) { group in
            for round in 0..<3 {
                for (index, request) in requests.enumerated() {
                    group.addTask { (round * requests.count + index, try await recommender.recommendations(for: request)) }
                }
            }
            var lists: [Int: RecommendationList] = [:]
            for try await (index, list) in group { lists[index] = list }
            return lists
        }
        for (index, list) in lists {
            let single = expected[index % requests.count]
            #expect(list.userId == single.userId)
            #expect(list.items == single.items, "\(list.userId)")
            #expect(list.coldStart == single.coldStart)
        }
        let (scans, scanned, queries) = passes.totals
        // Cold users need no scan; the others one each, in some number of passes.
        let warm = requests.indices.filter { $0 % 5 != 4 }.count * 3
        #expect(scanned == warm)
        #expect(queries == 3 * requests.indices.filter { $0 % 5 != 4 }.map { $0 % 2 == 0 ? 2 : 1 }.reduce(0, +))
        #expect(scans >= 1 && scans <= warm)
    }

    @Test func aBatchHoldsOneSnapshotsRequestsAndRespectsItsLimit() async throws {
        let (store, requests) = try Self.store()
        let recommender = try Recommender(store: store, settings: ServingStores.settings(pool: 40, lambda: 0.6, cacheMB: 0))
        let before = try recommender.recommend(requests[0])
        let passes = PassCounter()
        recommender.observeScoringPasses { requests, queries in passes.add(requests: requests, queries: queries) }
        // Requests in flight on the old snapshot while a write moves the recommender to a new one.
        let lists = try await withThrowingTaskGroup(of: RecommendationList.self) { group in
            for _ in 0..<60 { group.addTask { try await recommender.recommendations(for: requests[0]) } }
            try store.write { transaction in
                try transaction.putUserEmbedding("user-0", [Float](repeating: 0.5, count: 8))
                var record = try transaction.user("user-0")!
                record.version += 1
                try transaction.putUser("user-0", record)
                // The item side changes too: a scan against the wrong snapshot's items would show.
                for index in 0..<100 {
                    try transaction.putItemEmbedding("item-\(index)", Self.matrix(rows: 1, columns: 8, seed: 500 + index).map { $0 / 4 })
                }
            }
            try recommender.refresh()
            for _ in 0..<60 { group.addTask { try await recommender.recommendations(for: requests[0]) } }
            var lists: [RecommendationList] = []
            for try await list in group { lists.append(list) }
            return lists
        }
        let after = try recommender.recommend(requests[0])
        #expect(before.items != after.items)
        for list in lists {
            // Each answer is wholly one state's: its version and its items belong together.
            #expect(list.userVersion == before.userVersion || list.userVersion == after.userVersion)
            #expect(list.items == (list.userVersion == before.userVersion ? before.items : after.items))
        }
        #expect(lists.contains { $0.userVersion == after.userVersion })
        #expect(passes.largestQueries <= recommender.scoring.maximumQueries)
    }
}

/// Totals of the scoring passes a recommender reports.
final class PassCounter: Sendable {
    private let state = Mutex<(passes: Int, requests: Int, queries: Int, largest: Int)>((0, 0, 0, 0))

    func add(requests: Int, queries: Int) {
        state.withLock {
            $0.passes += 1
            $0.requests += requests
            $0.queries += queries
            $0.largest = max($0.largest, queries)
        }
    }

    var totals: (passes: Int, requests: Int, queries: Int) { state.withLock { ($0.passes, $0.requests, $0.queries) } }
    var largestQueries: Int { state.withLock { $0.largest } }
}

/// `SharedParts`: the scan's parts, taken by several threads.
@Suite struct SharedPartsTests {
    @Test(arguments: [0, 1, 2, 1_000])
    func everyPartRunsOnceAndFinishRunsOnceAfterThem(count: Int) async {
        let runs = Mutex([Int](repeating: 0, count: count))
        let finished = Mutex<(times: Int, partsBefore: Int)>((0, 0))
        let work = SharedParts(count: count) { part in
            runs.withLock { $0[part] += 1 }
        } finish: {
            let done = runs.withLock { $0.reduce(0, +) }
            finished.withLock {
                $0.times += 1
                $0.partsBefore = done
            }
        }
        // Four threads at once, and one more after they are done: it finds nothing left.
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 { group.addTask { work.run() } }
        }
        work.run()
        #expect(runs.withLock { $0 } == [Int](repeating: 1, count: count))
        #expect(finished.withLock { $0.times } == 1)
        #expect(finished.withLock { $0.partsBefore } == count)
    }
}
