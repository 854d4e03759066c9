import Glibc

/// Draws items with probability proportional to popularity^0.75 (word2vec's unigram^¾), kept
/// incrementally: each observed interaction raises one item's count, and a Fenwick tree over
/// the weights makes both the update and a draw O(log n).
///
/// Draws take the uniform number from the caller, so the learner can seed them from the event
/// (its id) and a replay draws exactly the same negatives.
public struct NegativeSampler: Sendable {
    public static let exponent = 0.75

    private var counts: [Double] = []
    private var weights: [Double] = []
    /// Fenwick (binary indexed) tree over `weights`, 1-based.
    private var tree: [Double] = [0]

    public init() {}

    public var itemCount: Int { counts.count }
    public var totalWeight: Double { prefixSum(counts.count) }

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
        }
    }

    /// Adds `amount` to an item's count.
    public mutating func observe(_ item: Int, amount: Double = 1) {
        ensureItem(item)
        counts[item] += amount
        let weight = pow(max(counts[item], 0), Self.exponent)
        let delta = weight - weights[item]
        weights[item] = weight
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
        var target = min(max(uniform, 0), 0.999_999_999_999) * total
        var position = 0
        var step = 1
        while step * 2 < tree.count { step *= 2 }
        while step > 0 {
            let next = position + step
            if next < tree.count, tree[next] <= target {
                position = next
                target -= tree[next]
            }
            step /= 2
        }
        // Skip zero-weight items that the search can land on when target hits a boundary.
        var item = min(position, counts.count - 1)
        while item < counts.count - 1, weights[item] == 0 { item += 1 }
        return item
    }

    private func prefixSum(_ count: Int) -> Double {
        var sum = 0.0
        var index = count
        while index > 0 {
            sum += tree[index]
            index -= index & -index
        }
        return sum
    }
}
