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

    init(_ value: JSONValue, path: String) throws(EventValidationError) {
        var reader = try FieldReader(value, path: path)
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
    static func isLocale(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard let language = parts.first, (2...3).contains(language.count),
            language.allSatisfy({ $0.isASCII && $0.isLetter })
        else { return false }
        return parts.dropFirst().allSatisfy { part in
            (1...8).contains(part.count) && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
        }
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
