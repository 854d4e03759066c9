/// Rows of Float32 embeddings in one contiguous, row-major buffer, each with the per-row
/// Adagrad accumulator that the online learner keeps beside it.
///
/// Rows are addressed by a dense index (the learner maps ids to indices); contiguity is what
/// lets scoring run as one BLAS matrix-vector product over every row.
public struct EmbeddingTable: Sendable {
    public let dimension: Int
    public private(set) var values: [Float] = []
    public private(set) var accumulators: [Float] = []

    public init(dimension: Int) {
        precondition(dimension > 0, "an embedding has at least one dimension")
        self.dimension = dimension
    }

    public var count: Int { accumulators.count }

    /// Adds a row and returns its index.
    @discardableResult
    public mutating func append(_ row: some Collection<Float>, accumulator: Float = 0) -> Int {
        precondition(row.count == dimension, "row of \(row.count) values in a table of dimension \(dimension)")
        values.append(contentsOf: row)
        accumulators.append(accumulator)
        return count - 1
    }

    public func row(_ index: Int) -> ArraySlice<Float> {
        values[index * dimension..<(index + 1) * dimension]
    }

    public func accumulator(_ index: Int) -> Float {
        accumulators[index]
    }

    /// Replaces a row and its accumulator (when loading stored state).
    public mutating func set(_ index: Int, row: some Collection<Float>, accumulator: Float) {
        precondition(row.count == dimension, "row of \(row.count) values in a table of dimension \(dimension)")
        values.replaceSubrange(index * dimension..<(index + 1) * dimension, with: row)
        accumulators[index] = accumulator
    }

    /// Runs `body` with the rows (row-major) and the accumulators, mutable.
    mutating func withStorage<Result>(
        _ body: (UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) throws -> Result
    ) rethrows -> Result {
        try values.withUnsafeMutableBufferPointer { values in
            try accumulators.withUnsafeMutableBufferPointer { accumulators in try body(values, accumulators) }
        }
    }
}
