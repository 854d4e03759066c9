import LoupeEvents

/// Events to evaluate on, in the order a learner would fold them, with what the protocols need
/// beyond the events: the dataset's own order of users and items (every tie is broken by it)
/// and which events count as a user wanting an item (a *positive*: what splits count and what
/// a list is scored against).
public struct OfflineDataset: Sendable {
    public var name: String
    /// Every event, in time order: the catalog, face analyses, sessions, interactions, feedback.
    public var events: [Event]
    /// Item ids in the dataset's index order; `itemIndex` inverts it.
    public let itemIds: [String]
    public let userIds: [String]
    public let itemIndex: [String: Int]
    public let userIndex: [String: Int]
    /// The positives in time order: the event's position, its user and item (dataset indices).
    public let positives: [Positive]

    public struct Positive: Sendable, Equatable {
        public var event: Int
        public var user: Int
        public var item: Int
    }

    /// - Parameters:
    ///   - isPositive: whether an interaction or feedback event counts as wanting its item.
    ///   - itemIds, userIds: every item and user in the dataset's order.
    public init(name: String, events: [Event], itemIds: [String], userIds: [String], isPositive: (Event) -> Bool) {
        self.name = name
        self.events = events
        self.itemIds = itemIds
        self.userIds = userIds
        itemIndex = Dictionary(uniqueKeysWithValues: itemIds.enumerated().map { ($1, $0) })
        userIndex = Dictionary(uniqueKeysWithValues: userIds.enumerated().map { ($1, $0) })
        var positives: [Positive] = []
        for (position, event) in events.enumerated() where isPositive(event) {
            guard let (user, item) = event.userAndItem, let userIndex = userIndex[user], let itemIndex = itemIndex[item] else { continue }
            positives.append(Positive(event: position, user: userIndex, item: itemIndex))
        }
        self.positives = positives
    }
}

extension Event {
    /// The user and item of an interaction or feedback event.
    public var userAndItem: (user: String, item: String)? {
        switch self {
        case .interaction(let event): (event.userId, event.itemId)
        case .feedback(let event): (event.userId, event.itemId)
        default: nil
        }
    }
}
