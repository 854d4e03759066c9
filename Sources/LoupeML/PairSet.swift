/// A set of (user, item) index pairs — which items each user wanted — in one open-addressing
/// hash table of 64-bit keys (linear probing, at most half full: 16–32 bytes per pair).
/// Membership is all the online model asks of it, for every negative it draws.
public struct PairSet: Sendable {
    /// user ‖ item + 1, so that 0 marks an empty slot.
    private var slots: [UInt64]
    public private(set) var count = 0

    public init(minimumCapacity: Int = 1_024) {
        var capacity = 16
        while capacity < 2 * minimumCapacity { capacity *= 2 }
        slots = Array(repeating: 0, count: capacity)
    }

    @inline(__always)
    static func key(_ user: Int, _ item: Int) -> UInt64 {
        UInt64(UInt32(truncatingIfNeeded: user)) << 32 | UInt64(UInt32(truncatingIfNeeded: item)) &+ 1
    }

    @inline(__always)
    static func slot(_ key: UInt64, _ mask: Int) -> Int {
        // Fibonacci hashing spreads consecutive users and items over the table.
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
    }

    public func contains(user: Int, item: Int) -> Bool {
        let key = Self.key(user, item)
        let mask = slots.count - 1
        var index = Self.slot(key, mask)
        while slots[index] != 0 {
            if slots[index] == key { return true }
            index = (index + 1) & mask
        }
        return false
    }

    /// Adds the pair; returns whether it was new.
    @discardableResult
    public mutating func insert(user: Int, item: Int) -> Bool {
        precondition(user >= 0 && user <= Int(UInt32.max) && item >= 0 && item < Int(UInt32.max), "pair (\(user), \(item)) out of range")
        if 2 * (count + 1) > slots.count { grow() }
        let key = Self.key(user, item)
        let mask = slots.count - 1
        var index = Self.slot(key, mask)
        while slots[index] != 0 {
            if slots[index] == key { return false }
            index = (index + 1) & mask
        }
        slots[index] = key
        count += 1
        return true
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: 0, count: old.count * 2)
        let mask = slots.count - 1
        for key in old where key != 0 {
            var index = Self.slot(key, mask)
            while slots[index] != 0 { index = (index + 1) & mask }
            slots[index] = key
        }
    }
}
