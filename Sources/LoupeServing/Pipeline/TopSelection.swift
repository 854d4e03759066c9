/// Partial selection of the best rows of a score vector without sorting all of it: a bounded
/// min-heap of the `limit` best seen so far (its root is the worst of them), so a scan of n
/// scores costs n comparisons plus O(log limit) for each row that enters.
///
/// Order: higher score first; equal scores, lower row first. Only rows whose `mask` byte is not 0
/// take part.
enum TopSelection {
    /// Writes the best `min(limit, eligible rows)` rows into `rows` (and their scores into
    /// `scores`), best first, and returns how many. `rows` and `scores` hold at least `limit`.
    static func select(
        _ values: UnsafeBufferPointer<Float>, mask: UnsafeBufferPointer<UInt8>?, limit: Int,
        rows: UnsafeMutableBufferPointer<Int32>, scores: UnsafeMutableBufferPointer<Float>
    ) -> Int {
        guard limit > 0 else { return 0 }
        precondition(rows.count >= limit && scores.count >= limit, "heap buffers hold fewer than \(limit) entries")
        var size = 0
        var index = 0
        // Fill the heap with the first `limit` eligible rows…
        while index < values.count, size < limit {
            if mask == nil || mask![index] != 0 {
                rows[size] = Int32(truncatingIfNeeded: index)
                scores[size] = values[index]
                size += 1
                siftUp(size - 1, rows, scores)
            }
            index += 1
        }
        // …then a row enters only if it beats the root. Rows arrive in increasing order, so an
        // equal score never does; the score test comes first because it rejects almost every row.
        while index < values.count {
            let value = values[index]
            if value > scores[0], mask == nil || mask![index] != 0 {
                rows[0] = Int32(truncatingIfNeeded: index)
                scores[0] = value
                siftDown(0, size, rows, scores)
            }
            index += 1
        }
        // Heap sort: move the worst to the end until the heap is empty; leaves best first.
        var end = size
        while end > 1 {
            end -= 1
            rows.swapAt(0, end)
            scores.swapAt(0, end)
            siftDown(0, end, rows, scores)
        }
        return size
    }

    /// Whether entry `a` ranks below entry `b`.
    @inline(__always)
    private static func worse(
        _ a: Int, _ b: Int, _ rows: UnsafeMutableBufferPointer<Int32>, _ scores: UnsafeMutableBufferPointer<Float>
    ) -> Bool {
        scores[a] < scores[b] || (scores[a] == scores[b] && rows[a] > rows[b])
    }

    private static func siftUp(
        _ start: Int, _ rows: UnsafeMutableBufferPointer<Int32>, _ scores: UnsafeMutableBufferPointer<Float>
    ) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard worse(child, parent, rows, scores) else { return }
            rows.swapAt(child, parent)
            scores.swapAt(child, parent)
            child = parent
        }
    }

    private static func siftDown(
        _ start: Int, _ size: Int, _ rows: UnsafeMutableBufferPointer<Int32>, _ scores: UnsafeMutableBufferPointer<Float>
    ) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < size else { return }
            var smallest = left
            if left + 1 < size, worse(left + 1, left, rows, scores) { smallest = left + 1 }
            guard worse(smallest, parent, rows, scores) else { return }
            rows.swapAt(smallest, parent)
            scores.swapAt(smallest, parent)
            parent = smallest
        }
    }
}
