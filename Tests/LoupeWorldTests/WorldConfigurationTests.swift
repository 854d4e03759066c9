import Testing
import LoupeWorld

@Suite struct WorldConfigurationTests {
    @Test func defaultsAreValid() throws {
        let configuration = WorldConfiguration()
        #expect(configuration.seed == 42 && configuration.users == 2_000 && configuration.items == 500 && configuration.events == 100_000)
        try configuration.validate()
    }

    @Test(arguments: [
        (WorldConfiguration(users: 0), "--users must be positive"),
        (WorldConfiguration(items: -3), "--items must be positive"),
        (WorldConfiguration(items: 500, events: 499), "--events (499) must be at least --items (500)"),
        (WorldConfiguration(events: 1_000, driftAt: 1_000), "--drift-at must be between --items (500"),
        (WorldConfiguration(events: 1_000, driftAt: 10), "--drift-at must be between --items (500"),
        (WorldConfiguration(seed: UInt64.max), "--seed must be between 0 and"),
        (WorldConfiguration(users: 2_000_000), "--users must be at most"),
    ])
    func rejectsInconsistentCounts(configuration: WorldConfiguration, message: String) {
        #expect {
            try configuration.validate()
        } throws: { error in
            (error as? WorldConfigurationError)?.description.hasPrefix(message) == true
        }
        #expect(throws: WorldConfigurationError.self) { try SyntheticWorld(configuration) }
    }

    @Test func boundaryValuesAreAccepted() throws {
        try WorldConfiguration(users: 1, items: 1, events: 1).validate()
        try WorldConfiguration(items: 500, events: 501, driftAt: 500).validate()
        try WorldConfiguration(items: 500, events: 501, driftAt: nil).validate()
    }
}
