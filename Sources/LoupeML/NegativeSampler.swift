import Glibc

/// Draws items with probability proportional to popularity^0.75 (word2vec's unigram^¾), kept
/// incrementally: each observed interaction raises one item's count, and a Fenwick tree over
/// the weights makes both the update and a draw O(log n).
///
/// Draws take the uniform number from the caller, so the learner can seed them from the event
/// (its id) and a replay draws exactly the same negatives. Weights are integers (count^0.75 in
/// units of 1/1024), so the tree's sums are exact: a sampler rebuilt from stored counts after a
/// restart is identical, bit for bit, to one updated event by event.
public struct NegativeSampler: Sendable {
    public static let exponent = 0.75
    static let weightUnit = 1024.0

    private var counts: [Double] = []
    private var weights: [Int64] = []
    /// Fenwick (binary indexed) tree over `weights`, 1-based.
    private var tree: [Int64] = [0]
    /// The sum of `weights`, and the largest power of two below `tree.count` (where a draw's
    /// descent starts), kept as they change instead of recomputed for every draw.
    public private(set) var totalWeight: Int64 = 0
    private var topStep = 0

    public init() {}

    public var itemCount: Int { counts.count }

    /// An item's weight, count^0.75, in units of 1/1024.
    public static func weight(count: Double) -> Int64 {
        Int64((pow(max(count, 0), exponent) * weightUnit).rounded())
    }

    public func count(of item: Int) -> Double { counts[item] }

    /// Makes room for items up to `item` (new items start with count 0 and are never drawn).
    public mutating func ensureItem(_ item: Int) {
        while counts.count <= item {
            counts.append(0)
            weights.append(0)
            tree.append(0)
            // A new Fenwick node covers (i − lowbit(i), i]; fill it from the existing weights.
            let index = tree.count - 1
            let low = index - (index & -index)
            tree[index] = weights[low..<index].reduce(0, +)
            if topStep * 2 < tree.count { topStep = max(1, topStep * 2) }
        }
    }

    /// Adds `amount` to an item's count.
    public mutating func observe(_ item: Int, amount: Double = 1) {
        ensureItem(item)
        counts[item] += amount
        let weight = Self.weight(count: counts[item])
        let delta = weight - weights[item]
        weights[item] = weight
        totalWeight += delta
        var index = item + 1
        while index < tree.count {
            tree[index] += delta
            index += index & -index
        }
    }

    /// The item whose cumulative weight interval contains `uniform × total`, for `uniform` in
    /// [0, 1); nil while no item has been observed.
    public func draw(uniform: Double) -> Int? {
        let total = totalWeight
        guard total > 0 else { return nil }
        var target = min(Int64(min(max(uniform, 0), 1) * Double(total)), total - 1)
        var position = 0
        var step = topStep
        while step > 0 {
            let next = position + step
            if next < tree.count, tree[next] <= target {
                position = next
                target -= tree[next]
            }
            step /= 2
        }
        // `position` items have a cumulative weight ≤ target, so the next one — whose weight is
        // therefore positive — holds it.
        return position
    }
}
