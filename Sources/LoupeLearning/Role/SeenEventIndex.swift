/// The learner's in-memory index of the event ids in the store's `seen_events_by_time`: a
/// 64-bit hash of each id with its event time, in an open-addressing hash table (linear
/// probing, backward-shift deletion). It answers "which times might this id have been seen
/// at?" without a B-tree search; the store still decides: a candidate counts only if the store
/// holds that exact (time, id) pair, so a hash collision can cost a lookup but never a wrong
/// decision, and the decisions are a function of the store, as a replay needs.
///
/// The index is built from the store when the learner starts and follows each committed batch
/// (the ids it recorded and the ones it pruned). It holds 16 bytes per slot and keeps at most
/// half its slots full: 32–64 bytes per event id in the window.
struct SeenEventIndex {
    private struct Slot {
        /// 0: empty.
        var hash: UInt64
        var time: Int64
    }

    private var slots: [Slot]
    private(set) var count = 0
    /// Per process: the hashes never leave memory, and a random seed keeps crafted ids from
    /// piling up in one probe run.
    private let seed: UInt64

    init(minimumCapacity: Int = 1_024, seed: UInt64 = .random(in: .min ... .max)) {
        var capacity = 16
        while capacity < 2 * minimumCapacity { capacity *= 2 }
        slots = Array(repeating: Slot(hash: 0, time: 0), count: capacity)
        self.seed = seed
    }

    /// The hash of an event id's UTF-8 bytes (never 0).
    func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var state = seed ^ (UInt64(bytes.count) &* 0x9E37_79B9_7F4A_7C15)
        var offset = 0
        while offset + 8 <= bytes.count {
            state = Self.mix(state ^ bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset += 8
        }
        if offset < bytes.count {
            var tail: UInt64 = 0
            for index in offset..<bytes.count { tail |= UInt64(bytes[index]) << (8 * UInt64(index - offset)) }
            state = Self.mix(state ^ tail)
        }
        let hash = Self.finish(state)
        return hash == 0 ? 1 : hash
    }

    func hash(_ eventId: String) -> UInt64 {
        var eventId = eventId
        return eventId.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
    }

    /// Calls `body` with each time recorded under `hash` until it returns true; returns whether
    /// it did.
    func contains(_ hash: UInt64, where body: (Int64) throws -> Bool) rethrows -> Bool {
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: hash) & mask
        while slots[index].hash != 0 {
            if slots[index].hash == hash, try body(slots[index].time) { return true }
            index = (index + 1) & mask
        }
        return false
    }

    mutating func insert(_ hash: UInt64, _ time: Int64) {
        precondition(hash != 0, "0 marks an empty slot")
        if 2 * (count + 1) > slots.count { grow() }
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: hash) & mask
        while slots[index].hash != 0 { index = (index + 1) & mask }
        slots[index] = Slot(hash: hash, time: time)
        count += 1
    }

    /// Removes one entry of `hash` at `time`; returns whether there was one.
    @discardableResult
    mutating func remove(_ hash: UInt64, _ time: Int64) -> Bool {
        let mask = slots.count - 1
        var hole = Int(truncatingIfNeeded: hash) & mask
        while slots[hole].hash != hash || slots[hole].time != time {
            if slots[hole].hash == 0 { return false }
            hole = (hole + 1) & mask
        }
        // Backward shift: move later entries of the run into the hole unless that would put
        // one before its home slot, so that every entry stays reachable from its home.
        var next = (hole + 1) & mask
        while slots[next].hash != 0 {
            let home = Int(truncatingIfNeeded: slots[next].hash) & mask
            // The distance from home to `next` is at least that from home to the hole.
            if (next &- home) & mask >= (next &- hole) & mask {
                slots[hole] = slots[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        slots[hole] = Slot(hash: 0, time: 0)
        count -= 1
        return true
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: Slot(hash: 0, time: 0), count: old.count * 2)
        count = 0
        for slot in old where slot.hash != 0 { insert(slot.hash, slot.time) }
    }

    private static func mix(_ value: UInt64) -> UInt64 {
        let product = value.multipliedFullWidth(by: 0xA076_1D64_78BD_642F)
        return product.high ^ product.low
    }

    /// MurmurHash3's 64-bit finaliser: every input bit reaches every output bit.
    private static func finish(_ value: UInt64) -> UInt64 {
        var value = value
        value ^= value >> 33
        value &*= 0xFF51_AFD7_ED55_8CCD
        value ^= value >> 33
        value &*= 0xC4CE_B9FE_1A85_EC53
        value ^= value >> 33
        return value
    }
}
