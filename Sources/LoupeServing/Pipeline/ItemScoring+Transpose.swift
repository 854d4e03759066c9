import LoupeML
import LoupeStore

extension ItemScoring {
    /// The `dimension × count` transpose of `count` row-major rows of `dimension` values: the
    /// layout `score` reads. Copied in square tiles, so that both sides are read and written a
    /// cache line at a time.
    public static func transposed(_ rows: UnsafeBufferPointer<Float>, count: Int, dimension: Int) -> [Float] {
        precondition(rows.count >= count * dimension, "\(rows.count) values for \(count) rows of \(dimension)")
        let tile = 16
        return [Float](unsafeUninitializedCapacity: count * dimension) { columns, initialized in
            HugePages.advise(UnsafeMutableRawBufferPointer(columns))
            for rowStart in stride(from: 0, to: count, by: tile) {
                let rowEnd = min(rowStart + tile, count)
                for offsetStart in stride(from: 0, to: dimension, by: tile) {
                    let offsetEnd = min(offsetStart + tile, dimension)
                    for offset in offsetStart..<offsetEnd {
                        for row in rowStart..<rowEnd { columns[offset * count + row] = rows[row * dimension + offset] }
                    }
                }
            }
            initialized = count * dimension
        }
    }
}
