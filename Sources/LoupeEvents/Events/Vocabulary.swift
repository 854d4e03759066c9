/// The topics of Loupe's log. Every event type belongs to exactly one of them.
public enum Topic: String, Sendable, CaseIterable, Codable, Hashable {
    case interactions
    case feedback
    case sessions
    case faceAnalysis = "face-analysis"
    case catalog
    case impressions
    case modelEvents = "model-events"
    case evalMetrics = "eval-metrics"
    case driftAlerts = "drift-alerts"
    case deadLetter = "dead-letter"
    case learnerBatches = "learner-batches"

    /// The topics clients write (`loupe produce`, `POST /v1/events`, an app's own Kafka
    /// producer): what shoppers did and said, and the catalog. Every other topic is internal,
    /// written only by the role that owns it (docs/operations.md lists them with their ACLs).
    public static let clientTopics: Set<Topic> = [.interactions, .feedback, .sessions, .faceAnalysis, .catalog]

    /// Whether clients may write this topic (`clientTopics`).
    public var isClientTopic: Bool { Self.clientTopics.contains(self) }
}

/// The face shapes a face analysis can report.
public enum FaceShape: String, Sendable, CaseIterable, Codable, Hashable {
    case oval, round, square, heart, oblong, diamond

    public var index: Int { Self.allCases.firstIndex(of: self)! }
}

/// The twenty frame styles of the catalog.
public enum FrameStyle: String, Sendable, CaseIterable, Codable, Hashable {
    case aviator, wayfarer, round, catEye = "cat_eye", rectangle, square, oval, browline, clubmaster
    case geometric, hexagonal, octagonal, oversized, rimless, semiRimless = "semi_rimless", butterfly
    case shield, wraparound, pilot, panto

    public var index: Int { Self.allCases.firstIndex(of: self)! }
}

public enum Device: String, Sendable, CaseIterable, Codable, Hashable {
    case desktop, mobile, tablet, other
}

public enum InteractionKind: String, Sendable, CaseIterable, Codable, Hashable {
    case view, click, tryOn = "try_on", addToCart = "add_to_cart", purchase
}

public enum FeedbackKind: String, Sendable, CaseIterable, Codable, Hashable {
    case rating, like, dislike, `return`
}

public enum SessionKind: String, Sendable, CaseIterable, Codable, Hashable {
    case sessionStart = "session_start", sessionEnd = "session_end"
}

public enum CatalogKind: String, Sendable, CaseIterable, Codable, Hashable {
    case itemUpsert = "item_upsert", itemDelete = "item_delete"
}

public enum ModelEventKind: String, Sendable, CaseIterable, Codable, Hashable {
    case modelPublished = "model_published"
    case modelPromoted = "model_promoted"
    case modelRolledBack = "model_rolled_back"
    case canaryDecision = "canary_decision"
}

public enum CanaryDecision: String, Sendable, CaseIterable, Codable, Hashable {
    case promote, rollback, `continue`
}

public enum AlertStatus: String, Sendable, CaseIterable, Codable, Hashable {
    case firing, resolved
}

public enum AlertSeverity: String, Sendable, CaseIterable, Codable, Hashable {
    case info, warning, critical
}

extension FaceShape: NamedEnumeration { static let names = NameTable(FaceShape.self) }
extension FrameStyle: NamedEnumeration { static let names = NameTable(FrameStyle.self) }
extension Device: NamedEnumeration { static let names = NameTable(Device.self) }
extension CanaryDecision: NamedEnumeration { static let names = NameTable(CanaryDecision.self) }
extension AlertStatus: NamedEnumeration { static let names = NameTable(AlertStatus.self) }
extension AlertSeverity: NamedEnumeration { static let names = NameTable(AlertSeverity.self) }
