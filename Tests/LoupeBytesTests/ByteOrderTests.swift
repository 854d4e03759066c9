import LoupeBytes
import Testing

@Suite struct ByteOrderTests {
    @Test func numbersRoundTripInBothOrdersAtAnyOffset() {
        var bytes: [UInt8] = [0xAA]  // an odd offset: reads are unaligned
        bytes.appendLittleEndian(Int64(-2))
        bytes.appendBigEndian(UInt32(0x0102_0304))
        bytes.appendLittleEndian(Float(1.5))
        bytes.appendLittleEndian(Double(-0.25))
        #expect(bytes.count == 1 + 8 + 4 + 4 + 8)
        #expect(Array(bytes[9..<13]) == [1, 2, 3, 4])
        #expect(Array(bytes[1..<9]) == [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        bytes.withUnsafeBytes { raw in
            #expect(raw.loadLittleEndian(Int64.self, at: 1) == -2)
            #expect(raw.loadBigEndian(UInt32.self, at: 9) == 0x0102_0304)
            #expect(raw.loadLittleEndian(Float.self, at: 13) == 1.5)
            #expect(raw.loadLittleEndian(Double.self, at: 17) == -0.25)
        }
        #expect(littleEndianBytes(UInt16(0x0102)) == [2, 1])
        #expect(bigEndianBytes(UInt16(0x0102)) == [1, 2])
    }

    @Test func bigEndianKeysSortAsTheirNumbers() {
        let keys = [UInt64(0), 1, 255, 256, 65_536, .max].map(bigEndianBytes)
        #expect(keys == keys.sorted { $0.lexicographicallyPrecedes($1) })
    }
}
