/// Every event Loupe's topics carry. `EventCodec` turns them into JSON and back.
public enum Event: Sendable, Equatable {
    case interaction(Interaction)
    case feedback(Feedback)
    case session(Session)
    case faceAnalysis(FaceAnalysis)
    case catalog(CatalogEvent)
    case impression(Impression)
    case modelEvent(ModelEvent)
    case evalMetric(EvalMetric)
    case driftAlert(DriftAlert)
    case deadLetter(DeadLetter)
    case learnerBatch(LearnerBatch)

    /// Which event this is, by its `type` field.
    var eventType: EventType {
        switch self {
        case .interaction(let event): .interaction(event.kind)
        case .feedback(let event): .feedback(event.kind)
        case .session(let event): .session(event.kind)
        case .faceAnalysis: .faceAnalysis
        case .catalog(let event): .catalog(event.kind)
        case .impression: .impression
        case .modelEvent(let event): .modelEvent(event.kind)
        case .evalMetric: .evalMetric
        case .driftAlert: .driftAlert
        case .deadLetter: .deadLetter
        case .learnerBatch: .learnerBatch
        }
    }

    /// The `type` field's value.
    public var type: String { eventType.name }

    public var topic: Topic { eventType.topic }

    /// The record key: the field that keeps related events in one partition, in order.
    public var key: String {
        switch self {
        case .interaction(let event): event.userId
        case .feedback(let event): event.userId
        case .session(let event): event.userId
        case .faceAnalysis(let event): event.userId
        case .catalog(let event): event.itemId
        case .impression(let event): event.userId
        case .modelEvent(let event): event.modelId
        case .evalMetric(let event): event.metric
        case .driftAlert(let event): event.detector
        case .deadLetter(let event): event.sourceTopic ?? "unknown"
        case .learnerBatch(let event): event.learner
        }
    }

    public var eventId: String {
        switch self {
        case .interaction(let event): event.eventId
        case .feedback(let event): event.eventId
        case .session(let event): event.eventId
        case .faceAnalysis(let event): event.eventId
        case .catalog(let event): event.eventId
        case .impression(let event): event.eventId
        case .modelEvent(let event): event.eventId
        case .evalMetric(let event): event.eventId
        case .driftAlert(let event): event.eventId
        case .deadLetter(let event): event.eventId
        case .learnerBatch(let event): event.eventId
        }
    }

    /// Epoch milliseconds.
    public var timestamp: Int64 {
        switch self {
        case .interaction(let event): event.timestamp
        case .feedback(let event): event.timestamp
        case .session(let event): event.timestamp
        case .faceAnalysis(let event): event.timestamp
        case .catalog(let event): event.timestamp
        case .impression(let event): event.timestamp
        case .modelEvent(let event): event.timestamp
        case .evalMetric(let event): event.timestamp
        case .driftAlert(let event): event.timestamp
        case .deadLetter(let event): event.timestamp
        case .learnerBatch(let event): event.timestamp
        }
    }

    /// Every `type` value and the topic it belongs to.
    public static let topicOfType: [String: Topic] = Dictionary(
        uniqueKeysWithValues: EventType.names.entries.map { ($0.name, $0.value.topic) })
}

/// What an event's `type` field says: which event it is, and so its topic.
enum EventType: Sendable {
    case interaction(InteractionKind)
    case feedback(FeedbackKind)
    case session(SessionKind)
    case faceAnalysis
    case catalog(CatalogKind)
    case impression
    case modelEvent(ModelEventKind)
    case evalMetric
    case driftAlert
    case deadLetter
    case learnerBatch

    var topic: Topic {
        switch self {
        case .interaction: .interactions
        case .feedback: .feedback
        case .session: .sessions
        case .faceAnalysis: .faceAnalysis
        case .catalog: .catalog
        case .impression: .impressions
        case .modelEvent: .modelEvents
        case .evalMetric: .evalMetrics
        case .driftAlert: .driftAlerts
        case .deadLetter: .deadLetter
        case .learnerBatch: .learnerBatches
        }
    }

    /// The `type` field's value.
    var name: String {
        switch self {
        case .interaction(let kind): kind.rawValue
        case .feedback(let kind): kind.rawValue
        case .session(let kind): kind.rawValue
        case .faceAnalysis: "face_analysis"
        case .catalog(let kind): kind.rawValue
        case .impression: "impression"
        case .modelEvent(let kind): kind.rawValue
        case .evalMetric: "eval_metric"
        case .driftAlert: "drift_alert"
        case .deadLetter: "dead_letter"
        case .learnerBatch: "learner_batch"
        }
    }

    /// Every `type` value, the most frequent first.
    static let names = NameTable<EventType>(
        (InteractionKind.allCases.map(EventType.interaction) + SessionKind.allCases.map(EventType.session)
            + FeedbackKind.allCases.map(EventType.feedback) + [.faceAnalysis] + CatalogKind.allCases.map(EventType.catalog)
            + [.impression] + ModelEventKind.allCases.map(EventType.modelEvent)
            + [.evalMetric, .driftAlert, .deadLetter, .learnerBatch]).map { ($0.name, $0) })
}

/// The fields every event carries.
struct EventHeader {
    var eventId: String
    var timestamp: Int64
}
