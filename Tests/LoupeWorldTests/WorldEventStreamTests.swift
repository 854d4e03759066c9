import LoupeRandomness
import LoupeEvents
import Testing
@testable import LoupeWorld

@Suite struct WorldEventStreamTests {
    static func encoded(_ configuration: WorldConfiguration) throws -> [UInt8] {
        var bytes: [UInt8] = []
        for event in try SyntheticWorld(configuration).events() {
            bytes += EventCodec.encode(event)
            bytes.append(UInt8(ascii: "\n"))
        }
        return bytes
    }

    @Test func sameOptionsGiveTheSameBytes() throws {
        let configuration = WorldConfiguration(seed: 3, users: 200, items: 60, events: 5_000, driftAt: 2_500)
        let first = try Self.encoded(configuration)
        #expect(first == (try Self.encoded(configuration)))
        var otherSeed = configuration
        otherSeed.seed = 4
        #expect(first != (try Self.encoded(otherSeed)))
    }

    /// The catalog has its own random stream: more users do not change it.
    @Test func catalogDependsOnlyOnSeedAndItems() throws {
        let few = try SyntheticWorld(WorldConfiguration(seed: 3, users: 10, items: 60, events: 60))
        let many = try SyntheticWorld(WorldConfiguration(seed: 3, users: 900, items: 60, events: 60))
        #expect(Array(few.events()) == Array(many.events()))
    }

    @Test(arguments: [60, 61, 62, 63, 64, 65, 70, 200, 3_001])
    func writesExactlyTheRequestedNumberOfEvents(events: Int) throws {
        let world = try SyntheticWorld(WorldConfiguration(seed: 9, users: 40, items: 60, events: events, driftAt: events > 60 ? 60 : nil))
        var stream = world.events()
        var count = 0
        while stream.next() != nil { count += 1 }
        #expect(count == events)
        #expect(stream.emitted == events)
        #expect(stream.next() == nil)
    }

    @Test func catalogComesFirstWithOneUpsertPerItem() {
        let run = Fixtures.small
        let items = run.world.items.count
        for (index, event) in run.events.enumerated() {
            guard case .catalog(let catalog) = event else {
                #expect(index >= items, "event \(index) is not a catalog event")
                continue
            }
            #expect(index < items)
            #expect(catalog.kind == .itemUpsert)
            #expect(catalog.itemId == SyntheticWorld.itemId(index))
        }
        #expect(SyntheticWorld.itemId(122) == "item-000123")
        #expect(SyntheticWorld.userId(41) == "user-000042")
    }

    @Test func everyEventSurvivesTheCodec() throws {
        for event in Fixtures.small.events {
            let line = EventCodec.encode(event)
            #expect(!line.contains(UInt8(ascii: "\n")))
            #expect(try EventCodec.decode(line, topic: event.topic) == event)
        }
    }

    @Test func idsAreUniqueAndDeterministic() {
        let events = Fixtures.small.events
        for (index, event) in events.enumerated() {
            #expect(event.eventId == "gen-7-\(index + 1)")
        }
        #expect(Set(events.map(\.eventId)).count == events.count)
        let interactions = events.compactMap { event -> Interaction? in
            if case .interaction(let interaction) = event { interaction } else { nil }
        }
        let withRequest = interactions.filter { $0.requestId != nil }.count
        #expect(withRequest > interactions.count / 10 && withRequest < interactions.count / 2)
    }

    @Test func timestampsStartAtTheEpochAndNeverDecrease() {
        let events = Fixtures.small.events
        #expect(events.first?.timestamp == SyntheticWorld.epochMilliseconds)
        #expect(SyntheticWorld.epochMilliseconds == ISO8601Timestamp.milliseconds("2026-01-01T00:00:00Z"))
        for (previous, next) in zip(events, events.dropFirst()) {
            #expect(previous.timestamp <= next.timestamp, "\(previous.eventId) → \(next.eventId)")
        }
    }

    @Test func eachUsersFaceAnalysisComesFirstAndOnce() {
        var analysed: Set<String> = []
        for event in Fixtures.small.events {
            guard let user = event.userId else { continue }
            if case .faceAnalysis = event {
                #expect(!analysed.contains(user), "second face analysis of \(user)")
                analysed.insert(user)
            } else {
                #expect(analysed.contains(user), "\(event.type) of \(user) before their face analysis")
            }
        }
        #expect(analysed.count > 200)
    }

    /// Interactions happen inside an open session of the same user; every session ends.
    @Test func sessionsAreWellFormed() {
        var open: [String: String] = [:]
        var started = 0
        for event in Fixtures.small.events {
            switch event {
            case .session(let session) where session.kind == .sessionStart:
                #expect(open[session.sessionId] == nil)
                open[session.sessionId] = session.userId
                started += 1
            case .session(let session):
                #expect(open.removeValue(forKey: session.sessionId) == session.userId)
            case .interaction(let interaction):
                #expect(open[interaction.sessionId] == interaction.userId, "\(interaction.eventId)")
            default:
                break
            }
        }
        #expect(started > 700)
        #expect(open.isEmpty, "sessions left open at the end: \(open.keys.sorted())")
    }

    /// Sessions are closed before the budget runs out, for any budget.
    @Test(arguments: 0..<12)
    func sessionsCloseBeforeTheLastEvent(extra: Int) throws {
        let world = try SyntheticWorld(WorldConfiguration(seed: UInt64(extra), users: 30, items: 20, events: 420 + extra))
        var open: Set<String> = []
        for case .session(let session) in Array(world.events()) {
            if session.kind == .sessionStart { open.insert(session.sessionId) } else { open.remove(session.sessionId) }
        }
        #expect(open.isEmpty)
    }

    /// Memory holds open sessions and pending ratings only: it does not grow with the events.
    @Test func heldStateDoesNotGrowWithTheEvents() throws {
        var stream = try SyntheticWorld(WorldConfiguration(seed: 2, users: 300, items: 50, events: 20_000)).events()
        var firstHalf = 0
        var secondHalf = 0
        while stream.next() != nil {
            if stream.emitted <= 10_000 {
                firstHalf = max(firstHalf, stream.heldCount)
            } else {
                secondHalf = max(secondHalf, stream.heldCount)
            }
        }
        #expect(firstHalf < 200)
        #expect(secondHalf < 2 * firstHalf)
    }

    @Test func catalogIsPlausibleForEachStyle() throws {
        let world = try SyntheticWorld(WorldConfiguration(seed: 1, users: 1, items: 4_000, events: 4_000))
        func meanWidth(_ style: FrameStyle) -> Double {
            let widths = world.items.filter { $0.style == style }.map(\.attributes.frameWidthMM)
            return widths.reduce(0, +) / Double(widths.count)
        }
        func meanLensHeight(_ style: FrameStyle) -> Double {
            let heights = world.items.filter { $0.style == style }.map(\.attributes.lensHeightMM)
            return heights.reduce(0, +) / Double(heights.count)
        }
        #expect(meanWidth(.oversized) > meanWidth(.round) + 12)
        #expect(meanLensHeight(.round) > meanLensHeight(.rectangle) + 5)
        #expect(meanLensHeight(.shield) > meanLensHeight(.rimless) + 15)
        for style in FrameStyle.allCases {
            #expect(world.items.contains { $0.style == style })
        }
        let prices = world.items.map(\.price).sorted()
        let median = prices[prices.count / 2]
        #expect(median > 95 && median < 125)
        for item in world.items {
            let attributes = item.attributes
            #expect(attributes.currency == "EUR")
            #expect(attributes.price >= 19.99)
            #expect(attributes.features?.count == SyntheticWorld.featureDimensions)
            #expect((120...165).contains(attributes.frameWidthMM))
            #expect((12...24).contains(attributes.bridgeMM))
            #expect((120...155).contains(attributes.templeLengthMM))
        }
    }

    /// Features carry the latent taste: items with close tastes have close features.
    @Test func featuresReflectTheLatentTaste() throws {
        let world = try SyntheticWorld(WorldConfiguration(seed: 1, users: 1, items: 600, events: 600))
        var random = SeededRandom(seed: 8)
        var pairs: [(taste: Double, feature: Double)] = []
        for _ in 0..<3_000 {
            let a = world.items[random.index(600)]
            let b = world.items[random.index(600)]
            let taste = zip(a.taste, b.taste).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
            let feature = zip(a.attributes.features!, b.attributes.features!).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
            pairs.append((taste, feature))
        }
        #expect(correlation(pairs.map(\.taste), pairs.map(\.feature)) > 0.7)
    }
}

func correlation(_ x: [Double], _ y: [Double]) -> Double {
    let n = Double(x.count)
    let mx = x.reduce(0, +) / n
    let my = y.reduce(0, +) / n
    var sxy = 0.0
    var sxx = 0.0
    var syy = 0.0
    for (a, b) in zip(x, y) {
        sxy += (a - mx) * (b - my)
        sxx += (a - mx) * (a - mx)
        syy += (b - my) * (b - my)
    }
    return sxy / (sxx * syy).squareRoot()
}
