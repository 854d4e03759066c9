/// A binary min-heap of scheduled events, ordered by time and then by scheduling order, so
/// that events at the same millisecond come out in a reproducible order.
struct EventQueue {
    struct Entry {
        var time: Int64
        var sequence: UInt64
        var work: Work
    }

    enum Work {
        /// The next event of the open session in this slot.
        case session(Int)
        /// A rating (1–5 stars) or, with `stars` nil, a return of a purchased item.
        case afterPurchase(user: Int32, item: Int32, stars: Int8?)
    }

    private var heap: [Entry] = []
    private var nextSequence: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var first: Entry? { heap.first }

    mutating func schedule(_ work: Work, at time: Int64) {
        heap.append(Entry(time: time, sequence: nextSequence, work: work))
        nextSequence += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func removeFirst() -> Entry {
        let first = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < heap.count, Self.precedes(heap[left], heap[smallest]) { smallest = left }
                if right < heap.count, Self.precedes(heap[right], heap[smallest]) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }

    private static func precedes(_ a: Entry, _ b: Entry) -> Bool {
        a.time != b.time ? a.time < b.time : a.sequence < b.sequence
    }
}
