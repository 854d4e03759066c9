import CDispatch
import Foundation

/// Percentiles of measured latencies.
public struct LatencySummary: Sendable {
    public var count: Int
    public var p50: Double
    public var p99: Double
    public var mean: Double
    public var max: Double

    /// From durations in nanoseconds; figures in milliseconds. p-th percentile = the value at
    /// rank ⌈p·n⌉ of the sorted samples.
    public init(nanoseconds samples: [UInt64]) {
        let sorted = samples.sorted()
        count = sorted.count
        func rank(_ fraction: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let index = Swift.max(0, Swift.min(sorted.count - 1, Int((fraction * Double(sorted.count)).rounded(.up)) - 1))
            return Double(sorted[index]) / 1e6
        }
        p50 = rank(0.5)
        p99 = rank(0.99)
        mean = sorted.isEmpty ? 0 : Double(sorted.reduce(0, +)) / Double(sorted.count) / 1e6
        max = Double(sorted.last ?? 0) / 1e6
    }

    public init(count: Int, p50: Double, p99: Double, mean: Double, max: Double) {
        self.count = count
        self.p50 = p50
        self.p99 = p99
        self.mean = mean
        self.max = max
    }

    /// "p50 1.23 ms  p99 4.56 ms  mean 1.50 ms  (n = 1000)".
    public var formatted: String {
        String(format: "p50 %.3f ms  p99 %.3f ms  mean %.3f ms  max %.2f ms  (n = %d)", p50, p99, mean, max, count)
    }
}

/// Nanoseconds on the monotonic clock.
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}
