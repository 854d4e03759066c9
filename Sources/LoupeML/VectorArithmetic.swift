/// Small dense vector arithmetic on contiguous Float32 rows, for the online model's per-event
/// steps (rows of tens of values, where a BLAS call costs more than the arithmetic).
///
/// Sums are taken in eight lanes, then the lanes in a fixed order, so a result is the same on
/// every run and machine; the compiler cannot vectorise a plain running sum of floats by itself
/// (that would reorder the additions).
enum VectorArithmetic {
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        var lanes = SIMD8<Float>()
        var offset = 0
        while offset + 8 <= count {
            lanes += UnsafeRawPointer(a + offset).loadUnaligned(as: SIMD8<Float>.self)
                * UnsafeRawPointer(b + offset).loadUnaligned(as: SIMD8<Float>.self)
            offset += 8
        }
        var sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
        while offset < count {
            sum += a[offset] * b[offset]
            offset += 1
        }
        return sum
    }

    /// y += alpha · x.
    @inline(__always)
    static func add(_ alpha: Float, _ x: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, _ count: Int) {
        for offset in 0..<count { y[offset] += alpha * x[offset] }
    }
}
