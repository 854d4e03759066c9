/// Small dense vector arithmetic on contiguous Float32 rows, for the online model's per-event
/// steps (rows of tens of values, where a BLAS call costs more than the arithmetic).
///
/// Inner products are `ItemScoring.dot`.
enum VectorArithmetic {
    /// y += alpha · x.
    @inline(__always)
    static func add(_ alpha: Float, _ x: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, _ count: Int) {
        for offset in 0..<count { y[offset] += alpha * x[offset] }
    }
}
