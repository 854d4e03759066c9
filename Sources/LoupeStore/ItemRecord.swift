import LoupeEvents

/// Per-item metadata, the value of table `items` (key: the item id).
///
/// Layout version 1, little-endian (docs/state-store.md): layout version (UInt8 = 1) ·
/// version (UInt64) · last event time (Int64, epoch ms) · style (UInt8, 0–19, 255 = unknown) ·
/// frame width, lens height, bridge, temple length (Float32 mm, NaN = unknown) ·
/// price (Float64, NaN = unknown) · currency (3 ASCII bytes, zeros = unknown) ·
/// deleted (UInt8, 0 or 1) · interaction count (UInt64) · material, color (UInt16 length + UTF-8).
public struct ItemRecord: Sendable, Hashable {
    public static let table = StoreTable.items.rawValue
    public static let layoutVersion: UInt8 = 1
    /// Styles in index order: LoupeEvents' `FrameStyle` (as in topics/styles.yaml). A record
    /// stores a style's index, so the order is part of the layout (RecordLayoutTests pins it).
    public static let styles = FrameStyle.allCases.map(\.rawValue)
    static let unknownStyle: UInt8 = 255
    static let fixedCount = 58

    /// How many updates have been applied to this item; a row version for caches.
    public var version: UInt64
    /// Timestamp (epoch ms) of the last event applied to this item.
    public var lastEventTime: Int64
    /// Index into `styles`; nil when unknown (an item seen in interactions before the catalog).
    public var styleIndex: Int?
    public var frameWidthMM: Float
    public var lensHeightMM: Float
    public var bridgeMM: Float
    public var templeLengthMM: Float
    public var price: Double
    /// ISO 4217 code (three ASCII characters), or "" when unknown.
    public var currency: String
    public var deleted: Bool
    /// Interactions counted for this item (popularity).
    public var interactionCount: UInt64
    public var material: String
    public var color: String

    public init(
        version: UInt64 = 0, lastEventTime: Int64 = 0, styleIndex: Int? = nil, frameWidthMM: Float = .nan,
        lensHeightMM: Float = .nan, bridgeMM: Float = .nan, templeLengthMM: Float = .nan, price: Double = .nan,
        currency: String = "", deleted: Bool = false, interactionCount: UInt64 = 0, material: String = "",
        color: String = ""
    ) {
        self.version = version
        self.lastEventTime = lastEventTime
        self.styleIndex = styleIndex
        self.frameWidthMM = frameWidthMM
        self.lensHeightMM = lensHeightMM
        self.bridgeMM = bridgeMM
        self.templeLengthMM = templeLengthMM
        self.price = price
        self.currency = currency
        self.deleted = deleted
        self.interactionCount = interactionCount
        self.material = material
        self.color = color
    }

    /// The row in layout version 1. Fails for a style index outside 0–19, a currency that is not
    /// three ASCII characters (or empty), or a material or color longer than 65,535 bytes.
    public func encoded() throws(StoreError) -> [UInt8] {
        var writer = ByteWriter(capacity: Self.fixedCount + material.utf8.count + color.utf8.count)
        writer.append(Self.layoutVersion)
        writer.appendLittleEndian(version)
        writer.appendLittleEndian(lastEventTime)
        if let styleIndex {
            guard Self.styles.indices.contains(styleIndex) else {
                throw .invalidRecord(table: Self.table, reason: "style index \(styleIndex) is not in 0–19")
            }
            writer.append(UInt8(styleIndex))
        } else {
            writer.append(Self.unknownStyle)
        }
        for value in [frameWidthMM, lensHeightMM, bridgeMM, templeLengthMM] { writer.append(value) }
        writer.append(price)
        if currency.isEmpty {
            writer.append(contentsOf: [0, 0, 0])
        } else {
            guard currency.utf8.count == 3, currency.utf8.allSatisfy({ $0 > 0 && $0 < 0x80 }) else {
                throw .invalidRecord(table: Self.table, reason: "currency \"\(currency)\" is not three ASCII characters")
            }
            writer.append(contentsOf: currency.utf8)
        }
        writer.append(UInt8(deleted ? 1 : 0))
        writer.appendLittleEndian(interactionCount)
        for (field, text) in [("material", material), ("color", color)] {
            guard let length = UInt16(exactly: text.utf8.count) else {
                throw .invalidRecord(table: Self.table, reason: "\(field) is \(text.utf8.count) bytes; at most 65,535 fit")
            }
            writer.appendLittleEndian(length)
            writer.append(contentsOf: text.utf8)
        }
        return writer.bytes
    }

    /// Decodes a row of table `items`; `key` only names the row in errors.
    public init(decoding bytes: UnsafeRawBufferPointer, key: String) throws(StoreError) {
        var reader = ByteReader(bytes, table: Self.table, key: key)
        let layout = try reader.uint8("layout version")
        guard layout == Self.layoutVersion else {
            throw reader.corrupt("unknown layout version \(layout) (this build reads \(Self.layoutVersion))")
        }
        version = try reader.littleEndian(UInt64.self, "version")
        lastEventTime = try reader.littleEndian(Int64.self, "last event time")
        let style = try reader.uint8("style")
        if style == Self.unknownStyle {
            styleIndex = nil
        } else if Int(style) < Self.styles.count {
            styleIndex = Int(style)
        } else {
            throw reader.corrupt("style \(style) is neither 0–19 nor 255 (unknown)")
        }
        frameWidthMM = try reader.float("frame width")
        lensHeightMM = try reader.float("lens height")
        bridgeMM = try reader.float("bridge")
        templeLengthMM = try reader.float("temple length")
        price = try reader.double("price")
        let code = try reader.bytes(3, "currency")
        if code.allSatisfy({ $0 == 0 }) {
            currency = ""
        } else if code.allSatisfy({ $0 > 0 && $0 < 0x80 }) {
            currency = String(decoding: code, as: UTF8.self)
        } else {
            throw reader.corrupt("currency bytes \(Array(code)) are not three ASCII characters")
        }
        switch try reader.uint8("deleted flag") {
        case 0: deleted = false
        case 1: deleted = true
        case let flag: throw reader.corrupt("deleted flag is \(flag), not 0 or 1")
        }
        interactionCount = try reader.littleEndian(UInt64.self, "interaction count")
        material = try reader.lengthPrefixedString("material")
        color = try reader.lengthPrefixedString("color")
        try reader.finish()
    }

    /// Equal as stored: floats compare by bit pattern, so NaN (unknown) equals NaN.
    public static func == (lhs: ItemRecord, rhs: ItemRecord) -> Bool {
        lhs.version == rhs.version && lhs.lastEventTime == rhs.lastEventTime && lhs.styleIndex == rhs.styleIndex
            && lhs.dimensionBits == rhs.dimensionBits && lhs.price.bitPattern == rhs.price.bitPattern
            && lhs.currency == rhs.currency && lhs.deleted == rhs.deleted && lhs.interactionCount == rhs.interactionCount
            && lhs.material == rhs.material && lhs.color == rhs.color
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(version)
        hasher.combine(lastEventTime)
        hasher.combine(styleIndex)
        hasher.combine(dimensionBits)
        hasher.combine(price.bitPattern)
        hasher.combine(currency)
        hasher.combine(deleted)
        hasher.combine(interactionCount)
        hasher.combine(material)
        hasher.combine(color)
    }

    private var dimensionBits: [UInt32] {
        [frameWidthMM, lensHeightMM, bridgeMM, templeLengthMM].map(\.bitPattern)
    }
}
