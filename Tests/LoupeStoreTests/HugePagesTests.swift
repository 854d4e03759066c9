import Foundation
import Testing

@testable import LoupeStore

@Suite struct HugePagesTests {
    let page = HugePages.size

    @Test func alignedRangeIsTheWholeHugePagesInside() {
        #expect(HugePages.alignedRange(address: 0, count: 5 * page) == 0..<(5 * page))
        #expect(HugePages.alignedRange(address: page / 2, count: 5 * page) == page..<(5 * page))
        #expect(HugePages.alignedRange(address: 3 * page + 4096, count: 2 * page) == (4 * page)..<(5 * page))
        #expect(HugePages.alignedRange(address: page, count: page) == page..<(2 * page))
        // Less than one whole huge page inside.
        #expect(HugePages.alignedRange(address: page / 2, count: page) == nil)
        #expect(HugePages.alignedRange(address: page + 1, count: page) == nil)
        #expect(HugePages.alignedRange(address: 4096, count: 0) == nil)
    }

    @Test func adviseCoversTheWholeHugePagesOfABuffer() throws {
        let count = 3 * page + page / 2
        let memory = UnsafeMutableRawPointer.allocate(byteCount: count + page, alignment: page)
        defer { memory.deallocate() }
        // Starting half a page in: the buffer holds half a huge page, then three whole ones.
        let buffer = UnsafeMutableRawBufferPointer(start: memory + page / 2, count: count)
        #expect(HugePages.advise(UnsafeMutableRawBufferPointer(start: memory, count: page - 1)) == 0)
        // A kernel built with transparent huge pages (it has this file) takes the advice whatever
        // the current setting; one without refuses it.
        let supported = FileManager.default.fileExists(atPath: "/sys/kernel/mm/transparent_hugepage/enabled")
        #expect(HugePages.advise(buffer) == (supported ? 3 * page : 0))
        buffer.initializeMemory(as: UInt8.self, repeating: 1)
        #expect(buffer.allSatisfy { $0 == 1 })
    }
}
