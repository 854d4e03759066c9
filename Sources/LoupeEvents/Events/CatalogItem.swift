/// A frame's attributes as the catalog publishes them.
public struct CatalogItem: Sendable, Equatable {
    public var style: FrameStyle
    public var frameWidthMM: Double
    public var lensHeightMM: Double
    public var bridgeMM: Double
    public var templeLengthMM: Double
    public var price: Double
    /// ISO 4217 code, three capital letters.
    public var currency: String
    public var material: String
    public var color: String
    /// Dense item features for the model (at most 256 numbers).
    public var features: [Double]?

    public static let maximumFeatures = 256

    public init(
        style: FrameStyle, frameWidthMM: Double, lensHeightMM: Double, bridgeMM: Double, templeLengthMM: Double,
        price: Double, currency: String, material: String, color: String, features: [Double]? = nil
    ) {
        self.style = style
        self.frameWidthMM = frameWidthMM
        self.lensHeightMM = lensHeightMM
        self.bridgeMM = bridgeMM
        self.templeLengthMM = templeLengthMM
        self.price = price
        self.currency = currency
        self.material = material
        self.color = color
        self.features = features
    }

    init<Fields>(_ reader: inout FieldReader<Fields>) throws(EventValidationError) {
        style = try reader.enumeration("style", FrameStyle.self)
        frameWidthMM = try reader.double("frame_width_mm", .positive(upTo: 250))
        lensHeightMM = try reader.double("lens_height_mm", .positive(upTo: 120))
        bridgeMM = try reader.double("bridge_mm", .positive(upTo: 60))
        templeLengthMM = try reader.double("temple_length_mm", .positive(upTo: 200))
        price = try reader.double("price", .nonNegative)
        currency = try reader.string("currency", maxLength: 3)
        guard currency.utf8.count == 3, currency.utf8.allSatisfy({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else {
            throw EventValidationError(.invalidValue, field: "currency", "\"\(currency)\" is not a three-letter ISO 4217 code")
        }
        material = try reader.string("material", maxLength: 64)
        color = try reader.string("color", maxLength: 64)
        if let elements = try reader.optionalArray("features", maxCount: Self.maximumFeatures) {
            var values: [Double] = []
            values.reserveCapacity(elements.count)
            for (position, element) in elements.enumerated() {
                values.append(try reader.checkedDouble(element, "features[\(position)]", .any))
            }
            features = values
        } else {
            features = nil
        }
    }

    func writeFields(to writer: inout JSONWriter) {
        writer.key("style"); writer.string(style.rawValue)
        writer.key("frame_width_mm"); writer.double(frameWidthMM)
        writer.key("lens_height_mm"); writer.double(lensHeightMM)
        writer.key("bridge_mm"); writer.double(bridgeMM)
        writer.key("temple_length_mm"); writer.double(templeLengthMM)
        writer.key("price"); writer.double(price)
        writer.key("currency"); writer.string(currency)
        writer.key("material"); writer.string(material)
        writer.key("color"); writer.string(color)
        if let features {
            writer.key("features")
            writer.beginArray()
            for value in features { writer.double(value) }
            writer.endArray()
        }
    }
}

/// A change to the catalog: topic `catalog` (compacted), key `item_id`.
/// An upsert carries the item's full attributes; a delete carries only the id.
public struct CatalogEvent: Sendable, Equatable {
    public var eventId: String
    public var timestamp: Int64
    public var itemId: String
    /// Nil for `item_delete`.
    public var item: CatalogItem?

    public var kind: CatalogKind { item == nil ? .itemDelete : .itemUpsert }

    public init(eventId: String, timestamp: Int64, itemId: String, item: CatalogItem?) {
        self.eventId = eventId
        self.timestamp = timestamp
        self.itemId = itemId
        self.item = item
    }

    init<Fields>(_ reader: inout FieldReader<Fields>, header: EventHeader, kind: CatalogKind) throws(EventValidationError) {
        eventId = header.eventId
        timestamp = header.timestamp
        itemId = try reader.identifier("item_id")
        item = kind == .itemUpsert ? try CatalogItem(&reader) : nil
    }

    func writeFields(to writer: inout JSONWriter) {
        writer.key("item_id"); writer.string(itemId)
        item?.writeFields(to: &writer)
    }
}
