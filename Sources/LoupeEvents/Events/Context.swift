/// Where and when a shopper acts: the context features of sessions and interactions.
public struct Context: Sendable, Equatable, Hashable {
    public var device: Device?
    public var channel: String?
    /// A BCP 47 language tag such as `en-GB`.
    public var locale: String?
    /// The shopper's local hour, 0–23.
    public var hour: Int?

    public init(device: Device? = nil, channel: String? = nil, locale: String? = nil, hour: Int? = nil) {
        self.device = device
        self.channel = channel
        self.locale = locale
        self.hour = hour
    }

    init<Value: JSONFieldValue>(_ value: Value, path: String) throws(EventValidationError) {
        var reader = try FieldReader<Value.Fields>(value, path: path)
        device = try reader.optionalEnumeration("device", Device.self)
        channel = try reader.optionalString("channel", maxLength: 64)
        locale = try reader.optionalString("locale", maxLength: 35)
        hour = try reader.optionalInt("hour", in: 0...23).map(Int.init)
        try reader.finish()
        if let locale, !Self.isLocale(locale) {
            throw EventValidationError(.invalidValue, field: path + ".locale", "\"\(locale)\" is not a language tag such as en-GB")
        }
    }

    /// Letters, digits and hyphens, starting with a 2–3 letter language: `en`, `en-GB`, `pt-BR`.
    /// Checked on the UTF-8 bytes: a language tag is ASCII, and this runs for every event.
    static func isLocale(_ text: String) -> Bool {
        var partLength = 0
        var partIndex = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "-") {
                guard partIndex == 0 ? (2...3).contains(partLength) : (1...8).contains(partLength) else { return false }
                partIndex += 1
                partLength = 0
                continue
            }
            let isLetter = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
            let isDigit = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            guard isLetter || (isDigit && partIndex > 0) else { return false }
            partLength += 1
        }
        return partIndex == 0 ? (2...3).contains(partLength) : (1...8).contains(partLength)
    }

    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        if let device { writer.key("device"); writer.string(device.rawValue) }
        if let channel { writer.key("channel"); writer.string(channel) }
        if let locale { writer.key("locale"); writer.string(locale) }
        if let hour { writer.key("hour"); writer.int(hour) }
        writer.endObject()
    }
}
