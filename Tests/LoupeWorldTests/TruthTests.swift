import Foundation
import LoupeEvents
import Testing
@testable import LoupeWorld

/// The truth file agrees with the events and lets an evaluator recompute every utility.
@Suite struct TruthTests {
    static func truthLines(_ world: SyntheticWorld) throws -> [JSONObject] {
        var lines: [JSONObject] = []
        try world.forEachTruthLine { bytes in
            #expect(!bytes.contains(UInt8(ascii: "\n")))
            guard case .object(let object) = try JSONParser.parse(bytes) else { throw TruthError("not an object") }
            lines.append(object)
        }
        return lines
    }

    struct TruthError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    @Test func worldLineDescribesTheModel() throws {
        let run = Fixtures.drifting
        let world = try #require(try Self.truthLines(run.world).first)
        #expect(world["kind"] == .string("world"))
        #expect(world["seed"] == .int(5))
        #expect(world["users"] == .int(1_500))
        #expect(world["items"] == .int(400))
        #expect(world["events"] == .int(40_000))
        #expect(world["drift_at"] == .int(20_000))
        #expect(world["epoch_ms"] == .int(SyntheticWorld.epochMilliseconds))
        #expect(world["styles"] == .array(FrameStyle.allCases.map { .string($0.rawValue) }))
        #expect(world["face_shapes"] == .array(FaceShape.allCases.map { .string($0.rawValue) }))
        #expect(try Self.matrix(world["affinity"]) == run.world.affinity.values)
        #expect(try Self.matrix(world["affinity_after_drift"]) == run.world.driftedAffinity!.values)

        let undrifted = try #require(try Self.truthLines(Fixtures.small.world).first)
        #expect(undrifted["drift_at"] == .null)
        #expect(undrifted["affinity_after_drift"] == .null)
    }

    /// Users and items in the truth match the events: reported shapes, catalog styles and
    /// prices; each user's style scores are the mean utility of the catalog's items per style,
    /// recomputed here from the truth alone with the documented formula.
    @Test func usersAndItemsMatchTheEvents() throws {
        let run = Fixtures.small
        let lines = try Self.truthLines(run.world)
        let world = lines[0]
        let users = lines.filter { $0["kind"] == .string("user") }
        let items = lines.filter { $0["kind"] == .string("item") }
        #expect(users.count == run.world.users.count)
        #expect(items.count == run.world.items.count)
        #expect(lines.count == 1 + users.count + items.count)

        let shapes = try Self.strings(world["face_shapes"])
        let styles = try Self.strings(world["styles"])
        let affinity = try Self.matrix(world["affinity"])

        var catalog: [String: CatalogItem] = [:]
        var reported: [String: FaceShape?] = [:]
        for event in run.events {
            switch event {
            case .catalog(let upsert): catalog[upsert.itemId] = upsert.item
            case .faceAnalysis(let analysis): reported[analysis.userId] = analysis.faceShape
            default: break
            }
        }

        var itemTruth: [(style: Int, taste: [Double], popularity: Double, price: Double)] = []
        for item in items {
            let id = try Self.string(item["item_id"])
            let published = try #require(catalog[id])
            #expect(try Self.string(item["style"]) == published.style.rawValue)
            #expect(try Self.number(item["price"]) == published.price)
            itemTruth.append((
                styles.firstIndex(of: try Self.string(item["style"]))!, try Self.numbers(item["taste"]),
                try Self.number(item["popularity"]), try Self.number(item["price"])))
        }

        var analysed = 0
        for user in users {
            let id = try Self.string(user["user_id"])
            let shape = shapes.firstIndex(of: try Self.string(user["face_shape"]))!
            let reportedShape: String? = if case .string(let text)? = user["reported_face_shape"] { text } else { nil }
            if let event = reported[id] {
                analysed += 1
                #expect(event?.rawValue == reportedShape, "\(id)")
            }
            if let reportedShape { #expect(reportedShape == shapes[shape]) }

            let taste = try Self.numbers(user["taste"])
            let sensitivity = try Self.number(user["price_sensitivity"])
            var sums = Array(repeating: 0.0, count: styles.count)
            var counts = Array(repeating: 0, count: styles.count)
            for item in itemTruth {
                var utility = affinity[shape * styles.count + item.style] + item.popularity
                utility += zip(taste, item.taste).map(*).reduce(0, +)
                utility -= sensitivity * Foundation.log(item.price / 100)
                sums[item.style] += utility
                counts[item.style] += 1
            }
            let scores = try Self.numbers(user["style_scores"])
            #expect(scores.count == styles.count)
            for style in styles.indices where counts[style] > 0 {
                #expect(abs(scores[style] - sums[style] / Double(counts[style])) < 1e-3, "\(id) \(styles[style])")
            }
            let best = try Self.strings(user["best_styles"])
            let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
            let expected = order.prefix(3).map { styles[$0] }
            #expect(best == expected)
        }
        #expect(analysed > 200)
    }

    /// The truth's best styles agree with the planted matrix: most users' best style is one of
    /// their shape's three most liked.
    @Test func bestStylesReflectTheAffinity() {
        let world = Fixtures.behaviour.world
        var agree = 0
        for index in world.users.indices {
            let best = SyntheticWorld.bestStyles(world.styleScores(user: index), count: 1)[0]
            if world.affinity.ranking(world.users[index].faceShape).prefix(3).contains(best) { agree += 1 }
        }
        #expect(Double(agree) / Double(world.users.count) > 0.5)
    }

    static func string(_ value: JSONValue?) throws -> String {
        guard case .string(let text)? = value else { throw TruthError("expected a string, got \(String(describing: value))") }
        return text
    }

    static func strings(_ value: JSONValue?) throws -> [String] {
        guard case .array(let elements)? = value else { throw TruthError("expected an array") }
        return try elements.map { try string($0) }
    }

    static func number(_ value: JSONValue?) throws -> Double {
        switch value {
        case .int(let number)?: return Double(number)
        case .double(let number)?: return number
        default: throw TruthError("expected a number, got \(String(describing: value))")
        }
    }

    static func numbers(_ value: JSONValue?) throws -> [Double] {
        guard case .array(let elements)? = value else { throw TruthError("expected an array") }
        return try elements.map { try number($0) }
    }

    static func matrix(_ value: JSONValue?) throws -> [Double] {
        guard case .array(let rows)? = value else { throw TruthError("expected an array of rows") }
        return try rows.flatMap { try numbers($0) }
    }
}
