@testable import LoupeConcurrency

import Testing

@Suite struct ParallelMapTests {
    @Test(arguments: [0, 1, 511, 512, 513, 10_000])
    func resultsComeBackInIndexOrder(count: Int) {
        let squares = parallelMap(count: count, chunkSize: 512) { index in index * index }
        #expect(squares == (0..<count).map { $0 * $0 })
    }

    @Test func everyIndexIsTransformedExactlyOnce() {
        // Reference-typed results would be leaked or double-freed if a slot were written twice
        // or not at all; strings exercise that.
        let labels = parallelMap(count: 5_000, chunkSize: 7) { index in "event-\(index)" }
        #expect(labels.count == 5_000)
        #expect(Set(labels).count == 5_000)
        #expect(labels.first == "event-0" && labels.last == "event-4999")
    }
}
