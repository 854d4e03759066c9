/// Which items each user wanted: per user, the item indices in ascending order. Four bytes a
/// pair, and one user's items lie together, so the membership test that every drawn negative
/// makes reads a few cache lines of one small array (a hash set of all pairs missed the cache on
/// nearly every probe once it outgrew it).
public struct WantedItems: Sendable {
    private var items: [[Int32]] = []
    public private(set) var count = 0

    public init() {}

    /// Makes room for the next user (with no items).
    public mutating func addUser() {
        items.append([])
    }

    public func contains(user: Int, item: Int) -> Bool {
        items[user].withUnsafeBufferPointer { list in
            let place = Self.insertionPoint(of: Int32(truncatingIfNeeded: item), in: list)
            return place < list.count && list[place] == Int32(truncatingIfNeeded: item)
        }
    }

    /// Adds the pair; returns whether it was new.
    @discardableResult
    public mutating func insert(user: Int, item: Int) -> Bool {
        precondition(item >= 0 && item <= Int(Int32.max), "item index \(item) out of range")
        let value = Int32(item)
        let place = items[user].withUnsafeBufferPointer { Self.insertionPoint(of: value, in: $0) }
        if place < items[user].count, items[user][place] == value { return false }
        items[user].insert(value, at: place)
        count += 1
        return true
    }

    /// The user's items, ascending.
    public func items(of user: Int) -> [Int32] { items[user] }

    /// Where `item` is or would go in the ascending `list`.
    static func insertionPoint(of item: Int32, in list: UnsafeBufferPointer<Int32>) -> Int {
        var low = 0
        var high = list.count
        while low < high {
            let middle = (low + high) / 2
            if list[middle] < item { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
