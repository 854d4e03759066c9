import Synchronization

/// Working memory of one request, sized for one snapshot's catalog, so that a request allocates
/// nothing in proportion to the catalog.
///
/// `@unchecked Sendable`: a scratch is used by one request at a time — `ScratchPool` hands it out
/// and takes it back under its lock, and nothing else keeps a reference.
final class RequestScratch: @unchecked Sendable {
    /// Per row: 1 if the row passes this request's filters.
    let mask: UnsafeMutableBufferPointer<UInt8>
    /// Per row: 0 if not in the candidate pool, else the precedence of its reason (1 = highest).
    let marks: UnsafeMutableBufferPointer<UInt8>
    /// Two score vectors over all rows: the user's, then the recent history's.
    let scores: UnsafeMutableBufferPointer<Float>
    /// Two query vectors of `dimension`: the user's row, then the history's mean row.
    let queries: UnsafeMutableBufferPointer<Float>
    /// Per row, for `TopSelection`'s threshold path (large limits).
    let candidates: UnsafeMutableBufferPointer<TopSelection.Candidate>
    let heapRows: UnsafeMutableBufferPointer<Int32>
    let heapScores: UnsafeMutableBufferPointer<Float>
    let poolRows: UnsafeMutableBufferPointer<Int32>
    let poolScores: UnsafeMutableBufferPointer<Float>
    let mmr: MMRWorkspace

    init(itemCount: Int, dimension: Int, capacity: Int) {
        mask = .allocate(capacity: itemCount)
        mask.initialize(repeating: 0)
        marks = .allocate(capacity: itemCount)
        marks.initialize(repeating: 0)
        scores = .allocate(capacity: 2 * itemCount)
        scores.initialize(repeating: 0)
        queries = .allocate(capacity: 2 * dimension)
        queries.initialize(repeating: 0)
        candidates = .allocate(capacity: itemCount)
        candidates.initialize(repeating: TopSelection.Candidate(score: 0, row: 0))
        heapRows = .allocate(capacity: capacity)
        heapRows.initialize(repeating: 0)
        heapScores = .allocate(capacity: capacity)
        heapScores.initialize(repeating: 0)
        poolRows = .allocate(capacity: capacity)
        poolRows.initialize(repeating: 0)
        poolScores = .allocate(capacity: capacity)
        poolScores.initialize(repeating: 0)
        let relevance = UnsafeMutableBufferPointer<Float>.allocate(capacity: capacity)
        relevance.initialize(repeating: 0)
        let penalties = UnsafeMutableBufferPointer<Float>.allocate(capacity: capacity)
        penalties.initialize(repeating: 0)
        let compared = UnsafeMutableBufferPointer<Int32>.allocate(capacity: capacity)
        compared.initialize(repeating: 0)
        let picks = UnsafeMutableBufferPointer<Int32>.allocate(capacity: capacity)
        picks.initialize(repeating: 0)
        let queue = UnsafeMutableBufferPointer<Int32>.allocate(capacity: capacity)
        queue.initialize(repeating: 0)
        let gathered = UnsafeMutableBufferPointer<Float>.allocate(capacity: capacity * dimension)
        gathered.initialize(repeating: 0)
        let scales = UnsafeMutableBufferPointer<Float>.allocate(capacity: capacity)
        scales.initialize(repeating: 0)
        mmr = MMRWorkspace(
            gathered: gathered, scales: scales, relevance: relevance, penalties: penalties, compared: compared, picks: picks,
            queue: queue)
    }

    deinit {
        for buffer in [mask, marks] { buffer.deallocate() }
        for buffer in [scores, queries, heapScores, poolScores, mmr.gathered, mmr.scales, mmr.relevance, mmr.penalties] {
            buffer.deallocate()
        }
        for buffer in [heapRows, poolRows, mmr.compared, mmr.picks, mmr.queue] { buffer.deallocate() }
        candidates.deallocate()
    }
}

/// Scratches of one snapshot, reused across requests; at most `retained` are kept when idle.
final class ScratchPool: Sendable {
    private let idle = Mutex<[RequestScratch]>([])
    private let itemCount: Int
    private let dimension: Int
    private let capacity: Int
    private let retained: Int

    init(itemCount: Int, dimension: Int, capacity: Int, retained: Int = 64) {
        self.itemCount = itemCount
        self.dimension = dimension
        self.capacity = capacity
        self.retained = retained
    }

    func withScratch<T>(_ body: (RequestScratch) throws -> T) rethrows -> T {
        let scratch = take()
        defer { giveBack(scratch) }
        return try body(scratch)
    }

    /// A scratch for one request, which must be given back (`giveBack`) when it is done.
    func take() -> RequestScratch {
        idle.withLock { $0.popLast() } ?? RequestScratch(itemCount: itemCount, dimension: dimension, capacity: capacity)
    }

    func giveBack(_ scratch: RequestScratch) {
        idle.withLock { scratches in
            if scratches.count < retained { scratches.append(scratch) }
        }
    }
}
