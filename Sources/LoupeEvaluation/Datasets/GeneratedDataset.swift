import LoupeEvents
import LoupeWorld

/// A generated eyewear world (`loupe generate`) as a dataset, with its true preferences as the
/// reference ranking (the oracle). A positive is a click, try-on, add to cart, purchase, like or
/// a rating of 4 or 5 stars: a choice beyond a view.
public struct GeneratedDataset: Sendable {
    public let world: SyntheticWorld
    public let dataset: OfflineDataset

    public init(configuration: WorldConfiguration) throws {
        let world = try SyntheticWorld(configuration)
        self.world = world
        dataset = OfflineDataset(
            name: "generated (seed \(configuration.seed), \(configuration.users) users, \(configuration.items) items)",
            events: Array(world.events()), itemIds: (0..<configuration.items).map(SyntheticWorld.itemId),
            userIds: (0..<configuration.users).map(SyntheticWorld.userId), isPositive: Self.isPositive)
    }

    public static func isPositive(_ event: Event) -> Bool {
        switch event {
        case .interaction(let interaction): interaction.kind != .view
        case .feedback(let feedback): feedback.kind == .like || (feedback.kind == .rating && (feedback.rating ?? 0) >= 4)
        default: false
        }
    }

    /// The true utility of every item for a user (before any drift): the best possible ranking.
    public var reference: OfflineEvaluation.Reference {
        let world = self.world
        return { user in (0..<world.items.count).map { Float(world.utility(user: user, item: $0)) } }
    }
}
