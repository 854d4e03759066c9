/// Random (version 4) UUIDs as lowercase text, for request and impression ids.
///
/// Foundation's `UUID()` opens and reads `/dev/urandom` on Linux for every id; two ids per
/// served list made that a measurable part of a request. This draws the 128 bits from the
/// system generator (`getrandom`) and formats them without Foundation.
enum RandomIdentifier {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx` (y one of 8, 9, a, b), as RFC 9562 defines a
    /// version 4 UUID.
    static func uuid() -> String {
        var generator = SystemRandomNumberGenerator()
        return uuid(high: generator.next(), low: generator.next())
    }

    /// The UUID whose random bits are those of `high` and `low`, with the version and variant
    /// bits set (for tests).
    static func uuid(high: UInt64, low: UInt64) -> String {
        let high = high & ~0xF000 | 0x4000  // version 4 in bits 48–51 of the UUID
        let low = low & ~(0xC << 60) | (0x8 << 60)  // variant 10 in bits 64–65
        return String(unsafeUninitializedCapacity: 36) { text in
            var position = 0
            for digit in 0..<32 {
                if position == 8 || position == 13 || position == 18 || position == 23 {
                    text[position] = UInt8(ascii: "-")
                    position += 1
                }
                let word = digit < 16 ? high : low
                text[position] = hexDigits[Int(truncatingIfNeeded: word >> UInt64(60 - 4 * (digit % 16))) & 0xF]
                position += 1
            }
            return position
        }
    }
}
