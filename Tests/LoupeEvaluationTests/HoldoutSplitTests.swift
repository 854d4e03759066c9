import Foundation
import LoupeEvaluation
import LoupeEvents
import Testing

/// `OfflineDataset.temporalSplit` (protocol A) and `leaveLastOutSplit` (protocol B), test and
/// validation parts, against Fixtures/ranking.json, which ops/fixtures/ranking_reference.py
/// computes from the rules of quality/movielens-100k.md: the training event positions, each
/// scored user's relevant items, each user's training items, the catalog and the scored rows
/// before and after the drop rules. The log is synthetic — 12 users, 25 items, ~150 clicks with
/// many equal timestamps, already in time order — and planted so that every rule fires: an item
/// and a user only in the last 20 %, an item first seen among the validation rows, users with one
/// and two clicks, an item seen only in a user's last click, a user whose last click repeats an
/// item it clicked in training, and cuts that fall between equal timestamps.
@Suite struct HoldoutSplitTests {
    struct Fixture: Decodable {
        struct Expected: Decodable {
            var train: [Int]
            /// Keyed by user index (a decimal string), as are `seen`'s.
            var relevant: [String: [Int]]
            var seen: [String: [Int]]
            var catalog: [Int]
            var heldOutRows: Int
            var keptRows: Int
            /// Kept rows whose item the user already has in training: counted as kept, not relevant.
            var repeatRows: Int
        }
        struct Log: Decodable {
            var userIds: [String]
            var itemIds: [String]
            /// (user index, item index, epoch milliseconds), in time order.
            var interactions: [[Int64]]
            /// By part: "test", "validation".
            var temporal: [String: Expected]
            var leaveLastOut: [String: Expected]
        }
        var splits: Log
    }

    static let clickLog = rankingFixture(Fixture.self).splits

    /// The log as Loupe reads a dataset: one catalog upsert per item at the first click's time,
    /// then one click per interaction; every click is a positive.
    static let dataset: OfflineDataset = {
        let frame = CatalogItem(
            style: .aviator, frameWidthMM: 140, lensHeightMM: 45, bridgeMM: 18, templeLengthMM: 145, price: 10,
            currency: "EUR", material: "metal", color: "black")
        let start = Self.clickLog.interactions[0][2]
        var events: [Event] = Self.clickLog.itemIds.map { itemId in
            .catalog(CatalogEvent(eventId: "catalog-\(itemId)", timestamp: start, itemId: itemId, item: frame))
        }
        for (row, interaction) in Self.clickLog.interactions.enumerated() {
            let userId = Self.clickLog.userIds[Int(interaction[0])]
            events.append(
                .interaction(
                    Interaction(
                        eventId: "click-\(row)", timestamp: interaction[2], kind: .click, userId: userId,
                        itemId: Self.clickLog.itemIds[Int(interaction[1])], sessionId: "session-\(userId)")))
        }
        return OfflineDataset(
            name: "ranking-fixture", events: events, itemIds: Self.clickLog.itemIds, userIds: Self.clickLog.userIds
        ) { event in
            if case .interaction = event { true } else { false }
        }
    }()

    static func byUser(_ items: [String: [Int]]) -> [Int: Set<Int>] {
        Dictionary(uniqueKeysWithValues: items.map { (Int($0.key)!, Set($0.value)) })
    }

    func compare(_ split: HoldoutSplit, with expected: Fixture.Expected, _ name: String) {
        #expect(split.train == expected.train, "\(name): training event positions")
        #expect(split.relevant == Self.byUser(expected.relevant), "\(name): relevant items")
        #expect(split.seen == Self.byUser(expected.seen), "\(name): training items per user")
        #expect(split.catalog == Set(expected.catalog), "\(name): catalog")
        #expect(split.heldOutRows == expected.heldOutRows, "\(name): scored rows")
        // Protocol A step 2 drops the scored rows whose user or item is not in training; Loupe
        // also leaves out a row repeating an item the user already has among its training
        // positives (it can never be listed, and adds nothing to relevant), which MovieLens,
        // having no repeated pair, never meets.
        #expect(
            split.keptRows == expected.keptRows - expected.repeatRows,
            "\(name): kept rows (\(expected.repeatRows) of the protocol's repeat a training item)")
    }

    @Test func positivesAreTheClicksAfterTheCatalog() {
        let items = Self.clickLog.itemIds.count
        let expected = Self.clickLog.interactions.enumerated().map { row, interaction in
            [items + row, Int(interaction[0]), Int(interaction[1])]
        }
        #expect(Self.dataset.positives.map { [$0.event, $0.user, $0.item] } == expected)
    }

    @Test(arguments: EvaluationPart.allCases)
    func temporalSplitMatchesTheReference(part: EvaluationPart) throws {
        let expected = try #require(Self.clickLog.temporal[part.rawValue])
        compare(Self.dataset.temporalSplit(part), with: expected, "temporal \(part.rawValue)")
    }

    @Test(arguments: EvaluationPart.allCases)
    func leaveLastOutSplitMatchesTheReference(part: EvaluationPart) throws {
        let expected = try #require(Self.clickLog.leaveLastOut[part.rawValue])
        compare(Self.dataset.leaveLastOutSplit(part), with: expected, "leave-last-out \(part.rawValue)")
    }
}
