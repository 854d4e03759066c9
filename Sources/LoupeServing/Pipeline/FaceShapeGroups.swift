import LoupeML
import LoupeStore
import LoupeBytes

/// The model's face-shape groups (`group_sums`, `EntityGroup.faceShape(0…6)`, 6 = unknown
/// shape): each group's mean user row is the embedding of a typical user with that face shape,
/// so its scores against the items rank "styles that suit this face shape" as learned from the log.
/// Scores and orders are computed once per snapshot.
struct FaceShapeGroups: Sendable {
    static let groupCount = UserRecord.faceShapes.count + 1

    /// Per group: servable rows by the group mean's score, best first (ties: lower row first);
    /// empty for a group with no members.
    let orders: [[Int32]]
    /// `groupCount × itemCount` scores (mean · item), row-major; zeros for empty groups.
    let scores: [Float]

    func hasMembers(_ group: Int) -> Bool { !orders[group].isEmpty }

    static let empty = FaceShapeGroups(orders: Array(repeating: [], count: groupCount), scores: [])

    init(orders: [[Int32]], scores: [Float]) {
        self.orders = orders
        self.scores = scores
    }

    init(_ snapshot: StoreSnapshot, catalog: ItemCatalog) throws {
        let dimension = catalog.dimension
        let itemCount = catalog.count
        guard itemCount > 0, dimension > 0 else {
            self = .empty
            return
        }
        var means = [Float](repeating: 0, count: Self.groupCount * dimension)
        var present = [Bool](repeating: false, count: Self.groupCount)
        for group in 0..<Self.groupCount {
            guard let mean = try snapshot.groupSums(.faceShape(group))?.mean else { continue }
            present[group] = true
            for offset in 0..<dimension { means[group * dimension + offset] = Float(mean[offset]) }
        }
        // scores (groups × items) = means (groups × d) · itemsᵀ, by the requests' own scan.
        var scores = [Float](repeating: 0, count: Self.groupCount * itemCount)
        catalog.embeddingsByDimension.withUnsafeBufferPointer { items in
            means.withUnsafeBufferPointer { means in
                scores.withUnsafeMutableBufferPointer { scores in
                    ItemScoring.score(
                        itemsByDimension: items.baseAddress!, itemCount: itemCount, dimension: dimension,
                        queries: means.baseAddress!, queryCount: Self.groupCount, into: scores.baseAddress!, stride: itemCount)
                }
            }
        }
        // Plus each item's bias: a typical user of the group scores as any user does.
        for group in 0..<Self.groupCount where present[group] {
            for row in 0..<itemCount { scores[group * itemCount + row] += catalog.biases[row] }
        }
        let computed = scores
        var orders: [[Int32]] = []
        for group in 0..<Self.groupCount {
            guard present[group] else {
                orders.append([])
                continue
            }
            let base = group * itemCount
            // Sorting (score, row) pairs side by side is several times faster than sorting rows
            // by a comparator that looks their scores up (this runs on every refresh).
            var order = catalog.popularOrder.map { TopSelection.Candidate(score: computed[base + Int($0)], row: $0) }
            order.withUnsafeMutableBufferPointer { TopSelection.sortDescending($0) }
            orders.append(order.map(\.row))
        }
        self.orders = orders
        self.scores = computed
    }
}
