/// The five face measurements, in millimetres.
public struct FaceMeasurements: Sendable, Equatable, Hashable {
    public var faceLengthMM: Double
    public var foreheadWidthMM: Double
    public var cheekboneWidthMM: Double
    public var jawWidthMM: Double
    public var pupillaryDistanceMM: Double

    public init(faceLengthMM: Double, foreheadWidthMM: Double, cheekboneWidthMM: Double, jawWidthMM: Double, pupillaryDistanceMM: Double) {
        self.faceLengthMM = faceLengthMM
        self.foreheadWidthMM = foreheadWidthMM
        self.cheekboneWidthMM = cheekboneWidthMM
        self.jawWidthMM = jawWidthMM
        self.pupillaryDistanceMM = pupillaryDistanceMM
    }

    /// The measurements in schema order, for models.
    public var values: [Double] {
        [faceLengthMM, foreheadWidthMM, cheekboneWidthMM, jawWidthMM, pupillaryDistanceMM]
    }

    /// Upper bound of any measurement: far above any human face, well below nonsense.
    static let maximumMM = 400.0

    init<Value: JSONFieldValue>(_ value: Value, path: String) throws(EventValidationError) {
        var reader = try FieldReader<Value.Fields>(value, path: path)
        let bounds = NumberBounds.positive(upTo: Self.maximumMM)
        faceLengthMM = try reader.double("face_length_mm", bounds)
        foreheadWidthMM = try reader.double("forehead_width_mm", bounds)
        cheekboneWidthMM = try reader.double("cheekbone_width_mm", bounds)
        jawWidthMM = try reader.double("jaw_width_mm", bounds)
        pupillaryDistanceMM = try reader.double("pupillary_distance_mm", bounds)
        try reader.finish()
    }

    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("face_length_mm"); writer.double(faceLengthMM)
        writer.key("forehead_width_mm"); writer.double(foreheadWidthMM)
        writer.key("cheekbone_width_mm"); writer.double(cheekboneWidthMM)
        writer.key("jaw_width_mm"); writer.double(jawWidthMM)
        writer.key("pupillary_distance_mm"); writer.double(pupillaryDistanceMM)
        writer.endObject()
    }
}

/// The result of analysing a shopper's face: topic `face-analysis`, key `user_id`.
public struct FaceAnalysis: Sendable, Equatable {
    public var eventId: String
    public var timestamp: Int64
    public var userId: String
    /// Nil when the analysis could not decide on a shape.
    public var faceShape: FaceShape?
    public var measurements: FaceMeasurements
    /// 0–1.
    public var confidence: Double

    public init(eventId: String, timestamp: Int64, userId: String, faceShape: FaceShape?, measurements: FaceMeasurements, confidence: Double) {
        self.eventId = eventId
        self.timestamp = timestamp
        self.userId = userId
        self.faceShape = faceShape
        self.measurements = measurements
        self.confidence = confidence
    }

    init<Fields>(_ reader: inout FieldReader<Fields>, header: EventHeader) throws(EventValidationError) {
        eventId = header.eventId
        timestamp = header.timestamp
        userId = try reader.identifier("user_id")
        // face_shape must be present; null says "no shape could be determined".
        guard reader.contains("face_shape") else {
            throw EventValidationError(.missingField, field: "face_shape", "required field is missing (use null when unknown)")
        }
        faceShape = try reader.optionalEnumeration("face_shape", FaceShape.self)
        measurements = try FaceMeasurements(try reader.required("measurements"), path: "measurements")
        confidence = try reader.double("confidence", .unit)
    }

    func writeFields(to writer: inout JSONWriter) {
        writer.key("user_id"); writer.string(userId)
        writer.key("face_shape")
        if let faceShape { writer.string(faceShape.rawValue) } else { writer.null() }
        writer.key("measurements"); measurements.write(to: &writer)
        writer.key("confidence"); writer.double(confidence)
    }
}
