import LoupeEvents
@testable import LoupeWorld

/// A generated world with its events, kept for the tests that only read them.
struct GeneratedRun: Sendable {
    let world: SyntheticWorld
    let events: [Event]

    init(_ configuration: WorldConfiguration) {
        world = try! SyntheticWorld(configuration)
        events = Array(world.events())
    }

    /// Index of each user id and item id in the world's tables.
    var userIndex: [String: Int] { Dictionary(uniqueKeysWithValues: world.users.enumerated().map { ($1.id, $0) }) }
    var itemIndex: [String: Int] { Dictionary(uniqueKeysWithValues: world.items.enumerated().map { ($1.id, $0) }) }
}

enum Fixtures {
    /// Small: for structure checks on every event.
    static let small = GeneratedRun(WorldConfiguration(seed: 7, users: 300, items: 120, events: 8_000))
    /// Large enough for behaviour statistics per face shape.
    static let behaviour = GeneratedRun(WorldConfiguration(seed: 11, users: 1_500, items: 400, events: 30_000))
    /// Drift half-way.
    static let drifting = GeneratedRun(WorldConfiguration(seed: 5, users: 1_500, items: 400, events: 40_000, driftAt: 20_000))
}

extension Event {
    var userId: String? {
        switch self {
        case .interaction(let event): event.userId
        case .feedback(let event): event.userId
        case .session(let event): event.userId
        case .faceAnalysis(let event): event.userId
        default: nil
        }
    }
}
