/// Partial selection of the best rows of a score vector without sorting all of it.
///
/// Two algorithms with the same result:
/// - a bounded min-heap of the `limit` best seen so far (its root is the worst of them): a scan
///   of n scores costs n comparisons plus O(log limit) for each row that enters. Best for small
///   limits (k = 10), where almost every row is rejected by one comparison with the root;
/// - with a workspace of n candidates: a threshold estimated from a sample of the rows, one pass
///   that gathers the rows reaching it (a little more than `limit`), a partition (quickselect)
///   of those and a sort of the best `limit`. Best for large limits (the 1,000-candidate pool of
///   50,000 items), where a heap pays O(log limit) for thousands of entering rows and again to
///   sort them.
///
/// Order: higher score first; equal scores, lower row first. Only rows whose `mask` byte is not 0
/// take part.
public enum TopSelection {
    /// One row and its score, for the partition path, packed into one integer whose order is
    /// the selection's: the score's bits mapped to an unsigned integer that orders as the
    /// floats do (−0 taken as +0, since they compare equal) above the row's complement, so a
    /// larger key is a higher score or, at an equal score, a lower row. Comparing keys is one
    /// integer comparison, and partitions need no branch on it.
    public struct Candidate: Sendable, Comparable {
        var key: UInt64

        public init(score: Float, row: Int32) {
            let bits = (score + 0).bitPattern
            let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
            key = UInt64(ordered) << 32 | UInt64(UInt32.max - UInt32(bitPattern: row))
        }

        var score: Float {
            let ordered = UInt32(truncatingIfNeeded: key >> 32)
            return Float(bitPattern: ordered & 0x8000_0000 != 0 ? ordered & 0x7FFF_FFFF : ~ordered)
        }

        var row: Int32 { Int32(bitPattern: UInt32.max - UInt32(truncatingIfNeeded: key)) }

        /// `a` ranks below `b`.
        public static func < (a: Candidate, b: Candidate) -> Bool { a.key < b.key }
    }

    /// Limits from which the partition path is taken when a workspace is given: the heap wins
    /// for small limits and loses for large ones (`loupe bench serve`, docs/benchmarks.md).
    static let partitionFromLimit = 64
    /// One row in this many is sampled for the threshold: `sampleBlock` consecutive rows of
    /// every `sampleBlock × sampleStride`, so that the sample reads a sixteenth of the scores'
    /// memory (a stride of 16 floats would touch every cache line) and still spans all rows.
    static let sampleStride = 16
    static let sampleBlock = 64

    /// Like `select(_:mask:limit:rows:scores:)`, with a workspace of at least `values.count`
    /// candidates that allows the threshold path for large limits. Same result; with `ordered`
    /// false, the same rows in no particular order (the final sort is skipped).
    public static func select(
        _ values: UnsafeBufferPointer<Float>, mask: UnsafeBufferPointer<UInt8>?, limit: Int,
        rows: UnsafeMutableBufferPointer<Int32>, scores: UnsafeMutableBufferPointer<Float>,
        workspace: UnsafeMutableBufferPointer<Candidate>, ordered: Bool = true
    ) -> Int {
        guard limit >= partitionFromLimit, workspace.count >= values.count else {
            return select(values, mask: mask, limit: limit, rows: rows, scores: scores)
        }
        precondition(rows.count >= limit && scores.count >= limit, "output buffers hold fewer than \(limit) entries")
        // A threshold from a sample of one eligible row in `sampleStride`: the score that about
        // `limit` × 1.3 rows beat. Every row of the true top `limit` scores at least as much as
        // its limit-th best, so if at least `limit` rows reach the threshold, those rows hold the
        // whole answer and only they are ordered. Otherwise (a rare unlucky sample, or fewer
        // eligible rows than `limit`) the heap answers.
        var sampled = 0
        for start in stride(from: 0, to: values.count, by: sampleBlock * sampleStride) {
            for index in start..<min(start + sampleBlock, values.count) where mask == nil || mask![index] != 0 {
                workspace[sampled] = Candidate(score: values[index], row: Int32(truncatingIfNeeded: index))
                sampled += 1
            }
        }
        let wanted = Double(limit) / Double(sampleStride)
        let rank = Int(wanted + 3 * wanted.squareRoot()) + 1
        guard rank < sampled else { return select(values, mask: mask, limit: limit, rows: rows, scores: scores) }
        partition(UnsafeMutableBufferPointer(rebasing: workspace[0..<sampled]), keepingBest: rank)
        var threshold = workspace[0]
        for entry in workspace[0..<rank] where entry < threshold { threshold = entry }
        let thresholdScore = threshold.score

        // Eight scores at a time: almost every chunk has none that reaches the threshold.
        var count = 0
        var index = 0
        let raw = UnsafeRawPointer(values.baseAddress!)
        let bar = SIMD8<Float>(repeating: thresholdScore)
        while index + 8 <= values.count {
            let chunk = raw.loadUnaligned(fromByteOffset: index * MemoryLayout<Float>.stride, as: SIMD8<Float>.self)
            let reaching = chunk .>= bar
            if any(reaching) {
                for lane in 0..<8 where reaching[lane] && (mask == nil || mask![index + lane] != 0) {
                    workspace[count] = Candidate(score: chunk[lane], row: Int32(truncatingIfNeeded: index + lane))
                    count += 1
                }
            }
            index += 8
        }
        for index in index..<values.count where values[index] >= thresholdScore && (mask == nil || mask![index] != 0) {
            workspace[count] = Candidate(score: values[index], row: Int32(truncatingIfNeeded: index))
            count += 1
        }
        guard count >= limit else { return select(values, mask: mask, limit: limit, rows: rows, scores: scores) }
        if count > limit { partition(UnsafeMutableBufferPointer(rebasing: workspace[0..<count]), keepingBest: limit) }
        let best = UnsafeMutableBufferPointer(rebasing: workspace[0..<limit])
        if ordered { sortDescending(best) }
        for index in 0..<limit {
            rows[index] = best[index].row
            scores[index] = best[index].score
        }
        return limit
    }

    /// Rearranges `candidates` so that its first `count` entries are the best `count` (in no
    /// particular order): quickselect.
    static func partition(_ candidates: UnsafeMutableBufferPointer<Candidate>, keepingBest count: Int) {
        var low = 0
        var high = candidates.count - 1
        while low < high {
            let store = split(candidates, low, high)
            // Entries before `store` beat the pivot, entries after it lose to it.
            if store == count || store == count - 1 { return }
            if store < count { low = store + 1 } else { high = store - 1 }
        }
    }

    /// Sorts best first. Keys are distinct, so any correct sort gives the same order: this one
    /// (quicksort, insertion sort for short ranges) needs no merge buffer and no comparison
    /// closure, unlike the standard library's stable sort.
    static func sortDescending(_ candidates: UnsafeMutableBufferPointer<Candidate>) {
        guard let base = candidates.baseAddress, candidates.count > 1 else { return }
        var ranges = [(low: 0, high: candidates.count - 1)]
        while let (low, high) = ranges.popLast() {
            guard high - low >= 16 else {
                for index in (low + 1)...high {
                    let entry = base[index]
                    var hole = index
                    while hole > low, base[hole - 1] < entry {
                        base[hole] = base[hole - 1]
                        hole -= 1
                    }
                    base[hole] = entry
                }
                continue
            }
            let store = split(candidates, low, high)
            if store - 1 > low { ranges.append((low, store - 1)) }
            if store + 1 < high { ranges.append((store + 1, high)) }
        }
    }

    /// Partitions `candidates[low...high]` around the median of its first, middle and last
    /// entries and returns the pivot's place: better entries before it, worse after. A Lomuto
    /// partition that swaps every entry and advances by the comparison's outcome, so that the
    /// unpredictable comparison costs no mispredicted branch.
    @inline(__always)
    private static func split(_ candidates: UnsafeMutableBufferPointer<Candidate>, _ low: Int, _ high: Int) -> Int {
        let base = candidates.baseAddress!
        let middle = low + (high - low) / 2
        if base[middle] > base[low] { candidates.swapAt(middle, low) }
        if base[high] > base[low] { candidates.swapAt(high, low) }
        if base[middle] > base[high] { candidates.swapAt(middle, high) }
        let pivot = base[high].key
        var store = low
        for index in low..<high {
            let entry = base[index]
            base[index] = base[store]
            base[store] = entry
            store += entry.key > pivot ? 1 : 0
        }
        candidates.swapAt(store, high)
        return store
    }

    /// Writes the best `min(limit, eligible rows)` rows into `rows` (and their scores into
    /// `scores`), best first, and returns how many. `rows` and `scores` hold at least `limit`.
    public static func select(
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
