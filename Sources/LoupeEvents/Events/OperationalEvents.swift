/// A change in a model's life: topic `model-events`, key `model_id`.
public struct ModelEvent: Sendable, Equatable {
    public var eventId: String
    public var timestamp: Int64
    public var kind: ModelEventKind
    public var modelId: String
    public var modelVersion: String
    /// The log positions the model was trained up to: topic → offset per partition
    /// (the next offset to read, as Kafka commits them).
    public var positions: [String: [Int64]]?
    public var metrics: [String: Double]?
    /// For `canary_decision` only.
    public var decision: CanaryDecision?
    public var reason: String?

    public init(
        eventId: String, timestamp: Int64, kind: ModelEventKind, modelId: String, modelVersion: String,
        positions: [String: [Int64]]? = nil, metrics: [String: Double]? = nil, decision: CanaryDecision? = nil, reason: String? = nil
    ) {
        self.eventId = eventId
        self.timestamp = timestamp
        self.kind = kind
        self.modelId = modelId
        self.modelVersion = modelVersion
        self.positions = positions
        self.metrics = metrics
        self.decision = decision
        self.reason = reason
    }

    init<Fields>(_ reader: inout FieldReader<Fields>, header: EventHeader, kind: ModelEventKind) throws(EventValidationError) {
        eventId = header.eventId
        timestamp = header.timestamp
        self.kind = kind
        modelId = try reader.identifier("model_id", maxLength: 128)
        modelVersion = try reader.identifier("model_version", maxLength: 128)
        positions = try Self.positions(reader.optional("positions"), reader: reader)
        metrics = try Self.numberMap(reader.optional("metrics"), reader: reader, path: "metrics")
        decision = try reader.optionalEnumeration("decision", CanaryDecision.self)
        if kind == .canaryDecision, decision == nil {
            throw EventValidationError(.missingField, field: "decision", "a canary_decision needs a decision")
        }
        if kind != .canaryDecision, decision != nil {
            throw EventValidationError(.unknownField, field: "decision", "only canary_decision events carry a decision")
        }
        reason = try reader.optionalString("reason", maxLength: 4096)
    }

    /// Log positions: topic → the next offset of each partition, in partition order.
    static func positions<Fields>(_ value: Fields.Value?, reader: FieldReader<Fields>) throws(EventValidationError) -> [String: [Int64]]? {
        guard let value else { return nil }
        let object = try FieldReader<Fields>(value, path: "positions").fields
        var positions: [String: [Int64]] = [:]
        for field in object.keysAndValues {
            guard let offsets = field.value.elements else {
                throw EventValidationError(.wrongType, field: "positions.\(field.key)", "expected an array of offsets")
            }
            var values: [Int64] = []
            for (partition, offset) in offsets.enumerated() {
                values.append(try reader.checkedInt(offset, "positions.\(field.key)[\(partition)]", in: 0...Int64.max))
            }
            positions[field.key] = values
        }
        return positions
    }

    static func numberMap<Fields>(_ value: Fields.Value?, reader: FieldReader<Fields>, path: String) throws(EventValidationError) -> [String: Double]? {
        guard let value else { return nil }
        let object = try FieldReader<Fields>(value, path: path).fields
        var map: [String: Double] = [:]
        for field in object.keysAndValues {
            map[field.key] = try reader.checkedDouble(field.value, "\(path).\(field.key)", .any)
        }
        return map
    }

    func writeFields(to writer: inout JSONWriter) {
        writer.key("model_id"); writer.string(modelId)
        writer.key("model_version"); writer.string(modelVersion)
        if let positions { writer.key("positions"); writePositions(positions, to: &writer) }
        if let metrics { writer.key("metrics"); writeNumberMap(metrics, to: &writer) }
        if let decision { writer.key("decision"); writer.string(decision.rawValue) }
        if let reason { writer.key("reason"); writer.string(reason) }
    }
}

func writePositions(_ positions: [String: [Int64]], to writer: inout JSONWriter) {
    writer.beginObject()
    for topic in positions.keys.sorted() {
        writer.key(topic)
        writer.beginArray()
        for offset in positions[topic]! { writer.int(offset) }
        writer.endArray()
    }
    writer.endObject()
}

func writeNumberMap(_ map: [String: Double], to writer: inout JSONWriter) {
    writer.beginObject()
    for key in map.keys.sorted() {
        writer.key(key)
        writer.double(map[key]!)
    }
    writer.endObject()
}

/// One windowed evaluation result: topic `eval-metrics`, key `metric`.
public struct EvalMetric: Sendable, Equatable {
    public var eventId: String
    public var timestamp: Int64
    /// The metric's name, such as `ndcg@10` or `auc`.
    public var metric: String
    public var value: Double
    public var windowStart: Int64
    public var windowEnd: Int64
    /// How many observations the value summarises.
    public var count: Int64
    public var modelVersion: String?
    public var variant: String?

    public init(
        eventId: String, timestamp: Int64, metric: String, value: Double, windowStart: Int64, windowEnd: Int64,
        count: Int64, modelVersion: String? = nil, variant: String? = nil
    ) {
        self.eventId = eventId
        self.timestamp = timestamp
        self.metric = metric
        self.value = value
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.count = count
        self.modelVersion = modelVersion
        self.variant = variant
    }

    init<Fields>(_ reader: inout FieldReader<Fields>, header: EventHeader) throws(EventValidationError) {
        eventId = header.eventId
        timestamp = header.timestamp
        metric = try reader.identifier("metric", maxLength: 128)
        value = try reader.double("value")
        windowStart = try reader.int("window_start", in: 0...Timestamp.maximum)
        windowEnd = try reader.int("window_end", in: 0...Timestamp.maximum)
        guard windowEnd >= windowStart else {
            throw EventValidationError(.invalidValue, field: "window_end", "ends before window_start")
        }
        count = try reader.int("count", in: 0...Int64.max)
        modelVersion = try reader.optionalIdentifier("model_version", maxLength: 128)
        variant = try reader.optionalIdentifier("variant", maxLength: 64)
    }

    func writeFields(to writer: inout JSONWriter) {
        writer.key("metric"); writer.string(metric)
        writer.key("value"); writer.double(value)
        writer.key("window_start"); writer.int(windowStart)
        writer.key("window_end"); writer.int(windowEnd)
        writer.key("count"); writer.int(count)
        if let modelVersion { writer.key("model_version"); writer.string(modelVersion) }
        if let variant { writer.key("variant"); writer.string(variant) }
    }
}

/// A drift detector's alert, firing or resolved: topic `drift-alerts`, key `detector`.
public struct DriftAlert: Sendable, Equatable {
    public var eventId: String
    public var timestamp: Int64
    public var detector: String
    public var status: AlertStatus
    public var severity: AlertSeverity
    /// The statistic the detector computed, and the threshold it was compared with.
    public var statistic: Double
    public var threshold: Double
    public var message: String
    /// Extra numbers the detector reports (p-value, window sizes, …).
    public var details: [String: Double]?

    public init(
        eventId: String, timestamp: Int64, detector: String, status: AlertStatus, severity: AlertSeverity,
        statistic: Double, threshold: Double, message: String, details: [String: Double]? = nil
    ) {
        self.eventId = eventId
        self.timestamp = timestamp
        self.detector = detector
        self.status = status
        self.severity = severity
        self.statistic = statistic
        self.threshold = threshold
        self.message = message
        self.details = details
    }

    init<Fields>(_ reader: inout FieldReader<Fields>, header: EventHeader) throws(EventValidationError) {
        eventId = header.eventId
        timestamp = header.timestamp
        detector = try reader.identifier("detector", maxLength: 128)
        status = try reader.enumeration("status", AlertStatus.self)
        severity = try reader.enumeration("severity", AlertSeverity.self)
        statistic = try reader.double("statistic")
        threshold = try reader.double("threshold")
        message = try reader.string("message", maxLength: 4096)
        details = try ModelEvent.numberMap(reader.optional("details"), reader: reader, path: "details")
    }

    func writeFields(to writer: inout JSONWriter) {
        writer.key("detector"); writer.string(detector)
        writer.key("status"); writer.string(status.rawValue)
        writer.key("severity"); writer.string(severity.rawValue)
        writer.key("statistic"); writer.double(statistic)
        writer.key("threshold"); writer.double(threshold)
        writer.key("message"); writer.string(message)
        if let details { writer.key("details"); writeNumberMap(details, to: &writer) }
    }
}

/// One batch of the online learner, recorded before the learner applies it: topic
/// `learner-batches`, key `learner`. The batch is every record below `positions` and at or
/// after the previous batch's positions, in the learner's merge order (docs/learning.md), so a
/// replay, or the learner itself after a crash, applies exactly what the live learner applied.
public struct LearnerBatch: Sendable, Equatable {
    public var eventId: String
    public var timestamp: Int64
    public var learner: String
    /// 1, 2, 3, … per learner.
    public var sequence: Int64
    /// Topic → the next offset of each partition after the batch.
    public var positions: [String: [Int64]]

    public init(eventId: String, timestamp: Int64, learner: String, sequence: Int64, positions: [String: [Int64]]) {
        self.eventId = eventId
        self.timestamp = timestamp
        self.learner = learner
        self.sequence = sequence
        self.positions = positions
    }

    init<Fields>(_ reader: inout FieldReader<Fields>, header: EventHeader) throws(EventValidationError) {
        eventId = header.eventId
        timestamp = header.timestamp
        learner = try reader.identifier("learner", maxLength: 128)
        sequence = try reader.int("sequence", in: 1...Int64.max)
        guard let positions = try ModelEvent.positions(reader.optional("positions"), reader: reader) else {
            throw EventValidationError(.missingField, field: "positions", "required field is missing")
        }
        self.positions = positions
    }

    func writeFields(to writer: inout JSONWriter) {
        writer.key("learner"); writer.string(learner)
        writer.key("sequence"); writer.int(sequence)
        writer.key("positions"); writePositions(positions, to: &writer)
    }
}
