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

    /// The `type` field's value.
    public var type: String {
        switch self {
        case .interaction(let event): event.kind.rawValue
        case .feedback(let event): event.kind.rawValue
        case .session(let event): event.kind.rawValue
        case .faceAnalysis: "face_analysis"
        case .catalog(let event): event.kind.rawValue
        case .impression: "impression"
        case .modelEvent(let event): event.kind.rawValue
        case .evalMetric: "eval_metric"
        case .driftAlert: "drift_alert"
        case .deadLetter: "dead_letter"
        case .learnerBatch: "learner_batch"
        }
    }

    public var topic: Topic {
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
    public static let topicOfType: [String: Topic] = {
        var map: [String: Topic] = [:]
        for kind in InteractionKind.allCases { map[kind.rawValue] = .interactions }
        for kind in FeedbackKind.allCases { map[kind.rawValue] = .feedback }
        for kind in SessionKind.allCases { map[kind.rawValue] = .sessions }
        map["face_analysis"] = .faceAnalysis
        for kind in CatalogKind.allCases { map[kind.rawValue] = .catalog }
        map["impression"] = .impressions
        for kind in ModelEventKind.allCases { map[kind.rawValue] = .modelEvents }
        map["eval_metric"] = .evalMetrics
        map["drift_alert"] = .driftAlerts
        map["dead_letter"] = .deadLetter
        map["learner_batch"] = .learnerBatches
        return map
    }()
}

/// The fields every event carries.
struct EventHeader {
    var eventId: String
    var timestamp: Int64
}
