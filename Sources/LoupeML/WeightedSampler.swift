/// Draws items with probability proportional to integer weights, kept in a Fenwick (binary
/// indexed) tree so that changing a weight and drawing are both O(log n).
///
/// The uniform number comes from the caller, so that a learner can seed draws from the event
/// and a replay draws exactly the same items. Weights are integers, so sums are exact: a sampler
/// rebuilt from stored state is identical, bit for bit, to one updated step by step.
public struct WeightedSampler: Sendable {
    private var weights: [Int64] = []
    /// 1-based: node i covers (i − lowbit(i), i].
    private var tree: [Int64] = [0]
    public private(set) var totalWeight: Int64 = 0
    /// The largest power of two below `tree.count`, where a draw's descent starts.
    private var topStep = 0

    public init() {}

    /// Makes room for items up to `item`; new items weigh 0 and are never drawn.
    public mutating func ensureItem(_ item: Int) {
        while weights.count <= item {
            weights.append(0)
            tree.append(0)
            let index = tree.count - 1
            let low = index - (index & -index)
            tree[index] = weights[low..<index].reduce(0, +)
            if topStep * 2 < tree.count { topStep = max(1, topStep * 2) }
        }
    }

    public mutating func setWeight(_ item: Int, _ weight: Int64) {
        precondition(weight >= 0, "a weight is not negative")
        ensureItem(item)
        let delta = weight - weights[item]
        guard delta != 0 else { return }
        weights[item] = weight
        totalWeight += delta
        var index = item + 1
        while index < tree.count {
            tree[index] += delta
            index += index & -index
        }
    }

    /// The item whose cumulative-weight interval holds `uniform × total`, for `uniform` in
    /// [0, 1); nil while every weight is 0.
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
        // `position` items weigh at most `target` together, so the next one (which therefore
        // weighs something) holds it.
        return position
    }
}
