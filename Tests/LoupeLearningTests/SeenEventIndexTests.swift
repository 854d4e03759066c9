@testable import LoupeLearning
import Testing

/// The learner's hash index of seen event ids, against a plain multiset of (hash, time).
@Suite struct SeenEventIndexTests {
    /// Random inserts and removals of a few crowded hashes (long probe runs that wrap around the
    /// table), checked against the multiset after every step, through two doublings.
    @Test func matchesAMultisetThroughCollisionsRemovalsAndGrowth() {
        var index = SeenEventIndex(minimumCapacity: 8, seed: 1)
        var reference: [UInt64: [Int64]] = [:]
        var generator = SplitMix(state: 42)
        for step in 0..<20_000 {
            // Hashes that share their low bits, so they compete for the same slots.
            let hash = 1 + (generator.next() % 24) * 64 + (generator.next() % 3)
            let time = Int64(generator.next() % 5)
            if generator.next() % 3 == 0 || index.count > 40 {
                let removed = index.remove(hash, time)
                let present = reference[hash]?.firstIndex(of: time)
                #expect(removed == (present != nil), "step \(step)")
                if let present { reference[hash]!.remove(at: present) }
            } else {
                index.insert(hash, time)
                reference[hash, default: []].append(time)
            }
            #expect(index.count == reference.values.map(\.count).reduce(0, +))
            for probe in reference.keys {
                var found: [Int64] = []
                _ = index.contains(probe) { time in
                    found.append(time)
                    return false
                }
                #expect(found.sorted() == reference[probe]!.sorted(), "step \(step), hash \(probe)")
            }
        }
    }

    @Test func containsStopsAtTheFirstMatch() {
        var index = SeenEventIndex(seed: 7)
        for time in [5, 6, 7] as [Int64] { index.insert(99, time) }
        var visited = 0
        #expect(index.contains(99) { time in
            visited += 1
            return time == 6 || time == 5 || time == 7
        })
        #expect(visited == 1)
        #expect(!index.contains(98) { _ in true })
    }

    @Test func hashesDependOnEveryByteAndNeverAreZero() {
        let index = SeenEventIndex(seed: 3)
        var hashes: Set<UInt64> = []
        // Every length around the 8-byte word, and one byte changed at each position.
        for length in 1...40 {
            let base = [UInt8](repeating: 0x61, count: length)
            hashes.insert(base.withUnsafeBytes { index.hash($0) })
            for position in 0..<length {
                var changed = base
                changed[position] = 0x62
                hashes.insert(changed.withUnsafeBytes { index.hash($0) })
            }
        }
        #expect(hashes.count == 40 + (1...40).reduce(0, +))
        #expect(!hashes.contains(0))
        #expect(index.hash("event-1") == Array("event-1".utf8).withUnsafeBytes { index.hash($0) })
        #expect(SeenEventIndex(seed: 4).hash("event-1") != index.hash("event-1"))
    }
}

/// A small deterministic generator for the tests.
private struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
