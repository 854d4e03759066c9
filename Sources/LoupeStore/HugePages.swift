#if canImport(Glibc)
import Glibc
#endif

/// Transparent huge pages for the large matrices that requests read at random rows.
///
/// With 4 KiB pages the 25.6 MB item matrix at d = 128 spans 6,250 pages, more than the
/// processor's translation cache holds, so nearly every row a request copies for MMR (1,000
/// scattered rows) costs a page-table walk as well as its cache misses, and the walks overlap
/// poorly. Backed by 2 MiB pages it spans 13. Linux backs anonymous memory with huge pages
/// either always or only where a program asks (`/sys/kernel/mm/transparent_hugepage/enabled`,
/// `madvise` on Debian and on this project's machines); `advise` asks.
public enum HugePages {
    /// The huge page size on x86-64 and arm64 with 4 KiB base pages.
    public static let size = 2 << 20

    /// The whole huge pages inside `count` bytes at `address`: from its first multiple of
    /// `size` to its last; nil when they span none.
    public static func alignedRange(address: Int, count: Int) -> Range<Int>? {
        let start = (address + size - 1) / size * size
        let end = (address + count) / size * size
        return start < end ? start..<end : nil
    }

    /// Advises the kernel (`MADV_HUGEPAGE`) to back the whole huge pages inside `buffer` with
    /// huge pages. Call before the buffer is first written, so that its pages are faulted in
    /// large from the start. Returns the bytes advised: 0 when the buffer spans no whole huge
    /// page or the kernel refused (no transparent huge page support). A refusal changes only
    /// speed, never results, so it is not an error.
    @discardableResult
    public static func advise(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard let base = buffer.baseAddress,
            let range = alignedRange(address: Int(bitPattern: base), count: buffer.count)
        else { return 0 }
        let start = UnsafeMutableRawPointer(bitPattern: range.lowerBound)
        return madvise(start, range.count, MADV_HUGEPAGE) == 0 ? range.count : 0
    }
}
