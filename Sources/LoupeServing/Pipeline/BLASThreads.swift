import CBLAS

/// OpenBLAS's thread count, which is one setting for the whole process.
///
/// A single request's products (`cblas_sgemv` over the item matrix) finish sooner on all cores
/// when the machine is otherwise idle, but when requests already run on every core (a server
/// under load, `recommend(eachOf:)`) or a learner shares the machine, BLAS threads only contend
/// with them: beside a writer, `loupe bench serve` measured a p99 several times higher with 2
/// BLAS threads than with 1 (the figures are in docs/benchmarks.md). Servers should call `set(1)` at
/// start; `recommend(batch:)`'s matrix products are the case for more.
public enum BLASThreads {
    /// The number of threads OpenBLAS uses for one product.
    public static var count: Int { Int(openblas_get_num_threads()) }

    public static func set(_ threads: Int) {
        openblas_set_num_threads(Int32(max(1, threads)))
    }
}
