import Foundation
import Testing

@testable import LoupeHTTP
@testable import LoupeServing

@Suite struct RandomIdentifierTests {
    @Test func formatsTheBitsAsAVersion4UUID() {
        #expect(RandomIdentifier.uuid(high: 0, low: 0) == "00000000-0000-4000-8000-000000000000")
        #expect(RandomIdentifier.uuid(high: .max, low: .max) == "ffffffff-ffff-4fff-bfff-ffffffffffff")
        #expect(
            RandomIdentifier.uuid(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)
                == "01234567-89ab-4def-bedc-ba9876543210")
    }

    @Test func randomIdsAreValidAndDistinct() throws {
        var seen = Set<String>()
        for _ in 0..<10_000 {
            let id = RandomIdentifier.uuid()
            // Foundation parses it back to the same UUID, with version 4 and the RFC variant.
            let parsed = try #require(UUID(uuidString: id))
            #expect(parsed.uuidString.lowercased() == id)
            #expect(parsed.uuid.6 >> 4 == 4)
            #expect(parsed.uuid.8 >> 6 == 0b10)
            seen.insert(id)
        }
        #expect(seen.count == 10_000)
    }
}
