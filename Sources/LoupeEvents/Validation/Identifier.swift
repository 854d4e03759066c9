/// The rule every identifier in Loupe's events follows (event, user, item, session, request,
/// model and learner ids), wherever the event enters: `loupe produce`, `POST /v1/events`, and
/// every role that reads a record any other Kafka client wrote.
///
/// An identifier is 1–`maximumBytes` bytes of UTF-8 with no control character (U+0000–U+001F,
/// U+007F–U+009F) and no line or paragraph separator (U+2028, U+2029). The byte limit is what
/// every store key built from ids can hold: the longest, user id ‖ 0 ‖ item id, is then at most
/// 511 bytes, LMDB's key limit. Ids are printable, so logs, dead letters and the `tail` of a
/// topic show them on one line as they are.
public enum Identifier {
    public static let maximumBytes = 255

    /// Why `text` is not an identifier of at most `maximumBytes` bytes, or nil when it is one.
    public static func problem(_ text: String, maximumBytes: Int = maximumBytes) -> String? {
        let utf8 = text.utf8
        return utf8.withContiguousStorageIfAvailable { problem(bytes: $0, maximumBytes: maximumBytes) }
            ?? problem(bytes: Array(utf8), maximumBytes: maximumBytes)
    }

    /// The same for valid UTF-8 bytes.
    static func problem(bytes: some Collection<UInt8>, maximumBytes: Int) -> String? {
        if bytes.isEmpty { return "must not be empty" }
        if bytes.count > maximumBytes { return "longer than \(maximumBytes) bytes" }
        var previous: UInt8 = 0
        var beforePrevious: UInt8 = 0
        for (offset, byte) in bytes.enumerated() {
            // C0 controls and DEL are single bytes; C1 controls are 0xC2 0x80–0x9F; U+2028 and
            // U+2029 are 0xE2 0x80 0xA8–0xA9. Continuation bytes never start a character, so
            // these byte patterns occur only as the characters themselves.
            let control = byte < 0x20 || byte == 0x7F || (previous == 0xC2 && byte >= 0x80 && byte <= 0x9F)
            let separator = beforePrevious == 0xE2 && previous == 0x80 && (byte == 0xA8 || byte == 0xA9)
            if control || separator {
                let scalar = control && byte >= 0x80 ? UInt32(byte) : separator ? 0x2027 + UInt32(byte - 0xA7) : UInt32(byte)
                let hex = String(scalar, radix: 16, uppercase: true)
                let name = separator ? "a line or paragraph separator" : "a control character"
                return "holds \(name) (U+\(String(repeating: "0", count: max(0, 4 - hex.count)) + hex)) at byte \(offset - (separator ? 2 : byte >= 0x80 ? 1 : 0)); ids are printable"
            }
            beforePrevious = previous
            previous = byte
        }
        return nil
    }
}
