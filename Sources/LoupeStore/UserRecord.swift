import LoupeEvents

/// Per-user metadata, the value of table `users` (key: the user id).
///
/// Layout version 1, 42 bytes, little-endian (docs/state-store.md):
/// layout version (UInt8 = 1) · version (UInt64) · last event time (Int64, epoch ms) ·
/// face shape (UInt8, 0–5, 255 = unknown) · face length, forehead width, cheekbone width,
/// jaw width, pupillary distance (Float32 mm, NaN = unknown) · confidence (Float32, NaN = unknown).
public struct UserRecord: Sendable, Hashable {
    public static let table = StoreTable.users.rawValue
    public static let layoutVersion: UInt8 = 1
    public static let encodedCount = 42
    /// Face shapes in index order: LoupeEvents' `FaceShape`. A record stores a shape's index, so
    /// the order is part of the layout (RecordLayoutTests pins it).
    public static let faceShapes = FaceShape.allCases.map(\.rawValue)
    static let unknownFaceShape: UInt8 = 255

    /// How many updates have been applied to this user; a row version for caches.
    public var version: UInt64
    /// Timestamp (epoch ms) of the last event applied to this user.
    public var lastEventTime: Int64
    /// Index into `faceShapes`; nil when unknown.
    public var faceShapeIndex: Int?
    public var faceLengthMM: Float
    public var foreheadWidthMM: Float
    public var cheekboneWidthMM: Float
    public var jawWidthMM: Float
    public var pupillaryDistanceMM: Float
    /// Confidence of the face analysis, 0–1; NaN when there has been none.
    public var confidence: Float

    public init(
        version: UInt64 = 0, lastEventTime: Int64 = 0, faceShapeIndex: Int? = nil,
        faceLengthMM: Float = .nan, foreheadWidthMM: Float = .nan, cheekboneWidthMM: Float = .nan,
        jawWidthMM: Float = .nan, pupillaryDistanceMM: Float = .nan, confidence: Float = .nan
    ) {
        self.version = version
        self.lastEventTime = lastEventTime
        self.faceShapeIndex = faceShapeIndex
        self.faceLengthMM = faceLengthMM
        self.foreheadWidthMM = foreheadWidthMM
        self.cheekboneWidthMM = cheekboneWidthMM
        self.jawWidthMM = jawWidthMM
        self.pupillaryDistanceMM = pupillaryDistanceMM
        self.confidence = confidence
    }

    /// The five measurements in layout order.
    public var measurements: [Float] {
        [faceLengthMM, foreheadWidthMM, cheekboneWidthMM, jawWidthMM, pupillaryDistanceMM]
    }

    /// The row in layout version 1. Fails for a face shape index outside 0–5.
    public func encoded() throws(StoreError) -> [UInt8] {
        var writer = ByteWriter(capacity: Self.encodedCount)
        writer.append(Self.layoutVersion)
        writer.appendLittleEndian(version)
        writer.appendLittleEndian(lastEventTime)
        if let faceShapeIndex {
            guard Self.faceShapes.indices.contains(faceShapeIndex) else {
                throw .invalidRecord(table: Self.table, reason: "face shape index \(faceShapeIndex) is not in 0–5")
            }
            writer.append(UInt8(faceShapeIndex))
        } else {
            writer.append(Self.unknownFaceShape)
        }
        for value in measurements { writer.append(value) }
        writer.append(confidence)
        return writer.bytes
    }

    /// Decodes a row of table `users`; `key` only names the row in errors.
    public init(decoding bytes: UnsafeRawBufferPointer, key: String) throws(StoreError) {
        var reader = ByteReader(bytes, table: Self.table, key: key)
        let layout = try reader.uint8("layout version")
        guard layout == Self.layoutVersion else {
            throw reader.corrupt("unknown layout version \(layout) (this build reads \(Self.layoutVersion))")
        }
        version = try reader.littleEndian(UInt64.self, "version")
        lastEventTime = try reader.littleEndian(Int64.self, "last event time")
        let shape = try reader.uint8("face shape")
        if shape == Self.unknownFaceShape {
            faceShapeIndex = nil
        } else if Int(shape) < Self.faceShapes.count {
            faceShapeIndex = Int(shape)
        } else {
            throw reader.corrupt("face shape \(shape) is neither 0–5 nor 255 (unknown)")
        }
        faceLengthMM = try reader.float("face length")
        foreheadWidthMM = try reader.float("forehead width")
        cheekboneWidthMM = try reader.float("cheekbone width")
        jawWidthMM = try reader.float("jaw width")
        pupillaryDistanceMM = try reader.float("pupillary distance")
        confidence = try reader.float("confidence")
        try reader.finish()
    }

    /// Equal as stored: floats compare by bit pattern, so NaN (unknown) equals NaN.
    public static func == (lhs: UserRecord, rhs: UserRecord) -> Bool {
        lhs.version == rhs.version && lhs.lastEventTime == rhs.lastEventTime && lhs.faceShapeIndex == rhs.faceShapeIndex
            && lhs.measurements.map(\.bitPattern) == rhs.measurements.map(\.bitPattern)
            && lhs.confidence.bitPattern == rhs.confidence.bitPattern
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(version)
        hasher.combine(lastEventTime)
        hasher.combine(faceShapeIndex)
        hasher.combine(measurements.map(\.bitPattern))
        hasher.combine(confidence.bitPattern)
    }
}
