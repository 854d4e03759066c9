import LoupeEvents
import LoupeStore
import Synchronization

/// What identifies a computed list: the user and the state it was computed from (the user's
/// version and the model version) and every request parameter. A change to the user or to the
/// item side makes a different key, so a list computed from an older state is never served.
struct PredictionKey: Hashable, Sendable {
    var userId: String
    var userVersion: UInt64
    var model: ModelKey
    /// The snapshot's store commit.
    var snapshot: Int
    var k: Int
    var device: String?
    var hour: Int?
    var minPrice: Double?
    var maxPrice: Double?
    /// The exclusions sorted and without repeats: their order does not change the answer.
    var exclude: [String]

    init(_ request: RecommendationRequest, userVersion: UInt64, model: ModelKey, snapshot: Int) {
        userId = request.userId
        self.userVersion = userVersion
        self.model = model
        self.snapshot = snapshot
        k = request.k
        device = request.device
        hour = request.hour
        minPrice = request.minPrice
        maxPrice = request.maxPrice
        exclude = Array(Set(request.exclude)).sorted()
    }
}

/// The prediction cache: lists by `PredictionKey`, each served for at most `ttl` seconds after it
/// was computed, within a memory bound; least recently used entries are evicted first.
final class PredictionCache: Sendable {
    struct Statistics: Sendable, Equatable {
        var hits: UInt64
        var misses: UInt64
        var entries: Int
        var bytes: Int
    }

    private let state: Mutex<State>
    private let ttl: Double
    private let maximumBytes: Int
    private let now: @Sendable () -> Double

    /// - Parameters:
    ///   - ttl: seconds an entry may be served after it was stored.
    ///   - maximumBytes: bound of the estimated memory of all entries.
    ///   - now: seconds on a monotonic clock.
    init(ttl: Double, maximumBytes: Int, now: @escaping @Sendable () -> Double) {
        self.ttl = ttl
        self.maximumBytes = maximumBytes
        self.now = now
        state = Mutex(State())
    }

    /// The list stored under `key` if it is younger than the TTL; counts a hit or a miss.
    func lookup(_ key: PredictionKey) -> RecommendationList? {
        let time = now()
        return state.withLock { state in
            guard let slot = state.slots[key] else {
                state.misses += 1
                return nil
            }
            guard time - state.entries[slot].storedAt < ttl else {
                state.remove(slot)
                state.misses += 1
                return nil
            }
            state.hits += 1
            state.moveToFront(slot)
            return state.entries[slot].list
        }
    }

    func store(_ list: RecommendationList, under key: PredictionKey) {
        let bytes = Self.estimatedBytes(key, list)
        guard bytes <= maximumBytes else { return }
        let time = now()
        state.withLock { state in
            if let slot = state.slots[key] { state.remove(slot) }
            state.insert(Entry(key: key, list: list, storedAt: time, bytes: bytes))
            while state.bytes > maximumBytes, let oldest = state.tail { state.remove(oldest) }
        }
    }

    var statistics: Statistics {
        state.withLock { Statistics(hits: $0.hits, misses: $0.misses, entries: $0.slots.count, bytes: $0.bytes) }
    }

    /// An estimate of the memory an entry holds: the key and the list with their arrays and the
    /// heap storage of their strings (Swift keeps UTF-8 strings of up to 15 bytes inline), the
    /// dictionary slot and the entry's place in the recency list.
    static func estimatedBytes(_ key: PredictionKey, _ list: RecommendationList) -> Int {
        func string(_ text: String) -> Int {
            let count = text.utf8.count
            return count <= 15 ? 0 : 32 + (count + 15) / 16 * 16
        }
        let arrayHeader = 32
        var bytes = MemoryLayout<Entry>.stride + MemoryLayout<PredictionKey>.stride + MemoryLayout<Int>.stride  // dictionary slot
        bytes += 2 * MemoryLayout<Int>.stride  // recency links
        bytes += string(key.userId) + string(key.model.id) + string(key.model.version) + string(key.device ?? "")
        bytes += arrayHeader + key.exclude.count * MemoryLayout<String>.stride + key.exclude.reduce(0) { $0 + string($1) }
        bytes += string(list.userId) + string(list.variant ?? "")
        bytes +=
            arrayHeader + list.items.count * MemoryLayout<RecommendedItem>.stride
            + list.items.reduce(0) { $0 + string($1.itemId) }
        bytes +=
            arrayHeader + list.positions.count * MemoryLayout<StorePosition>.stride
            + list.positions.reduce(0) { $0 + string($1.topic) }
        // The dictionary keeps its load factor at or under 3/4; count the slack once more.
        return bytes + (MemoryLayout<PredictionKey>.stride + MemoryLayout<Int>.stride) / 3
    }

    struct Entry {
        var key: PredictionKey
        var list: RecommendationList
        var storedAt: Double
        var bytes: Int
        var newer: Int? = nil
        var older: Int? = nil
    }

    /// Entries in a slab with a doubly linked recency list through it (head = most recent).
    struct State {
        var slots: [PredictionKey: Int] = [:]
        var entries: [Entry] = []
        var free: [Int] = []
        var head: Int?
        var tail: Int?
        var bytes = 0
        var hits: UInt64 = 0
        var misses: UInt64 = 0

        mutating func insert(_ entry: Entry) {
            let slot: Int
            if let reused = free.popLast() {
                slot = reused
                entries[slot] = entry
            } else {
                slot = entries.count
                entries.append(entry)
            }
            slots[entry.key] = slot
            bytes += entry.bytes
            link(slot)
        }

        mutating func remove(_ slot: Int) {
            unlink(slot)
            slots[entries[slot].key] = nil
            bytes -= entries[slot].bytes
            // Drop the list's storage now rather than when the slot is reused.
            entries[slot].list.items = []
            entries[slot].list.positions = []
            free.append(slot)
        }

        mutating func moveToFront(_ slot: Int) {
            guard head != slot else { return }
            unlink(slot)
            link(slot)
        }

        private mutating func link(_ slot: Int) {
            entries[slot].older = head
            entries[slot].newer = nil
            if let head { entries[head].newer = slot }
            head = slot
            if tail == nil { tail = slot }
        }

        private mutating func unlink(_ slot: Int) {
            let newer = entries[slot].newer
            let older = entries[slot].older
            if let newer { entries[newer].older = older } else { head = older }
            if let older { entries[older].newer = newer } else { tail = newer }
            entries[slot].newer = nil
            entries[slot].older = nil
        }
    }
}
