import Foundation
import LoupeConfig
import LoupeEvents
import LoupeStore
import Testing

@testable import LoupeHTTP
@testable import LoupeServing

/// An A/B test serves each variant its own model: two models of one store, two variants.
@Suite struct VariantModelTests {
    static let control = try! ModelKey(parsing: "online-bpr@1")
    static let treatment = try! ModelKey(parsing: "online-bpr@2")

    /// Model 1 (d = 4) ranks i0 first for everyone; model 2 (d = 2) ranks i7 first.
    /// The data directory, and a writable view that keeps the process's environment open for
    /// writing (LMDB lets one process open an environment one way only).
    static func twoModels() throws -> (String, StateStore) {
        let directory = ServingStores.directory()
        let users = (0..<40).map { ("u\($0)", [Float]?([1, 1, 1, 1]), UserRecord?(UserRecord(version: 1))) }
        let writable = try ServingStores.store(
            dimension: 4,
            items: (0..<8).map { ServingStores.Item(id: "i\($0)", vector: [Float(8 - $0), 0, 0, 0]) },
            users: users, directory: directory, model: control)
        _ = try ServingStores.store(
            dimension: 2,
            items: (0..<8).map { ServingStores.Item(id: "i\($0)", vector: [Float($0), 1]) },
            users: users.map { ($0.0, [1, 0], $0.2) }, position: 5, directory: directory, model: treatment)
        return (directory, writable)
    }

    static func settings(treatmentModel: ModelKey = treatment) -> InferenceSettings {
        var settings = ServingStores.settings()
        settings.model = control
        settings.variants = ["control": 0.5, "treatment": 0.5]
        settings.variantModels = ["treatment": treatmentModel]
        return settings
    }

    @Test func eachVariantIsServedByItsOwnModel() async throws {
        let (directory, writable) = try Self.twoModels()
        defer { withExtendedLifetime(writable) {} }
        let recommender = try Recommender(directory: directory, settings: Self.settings())
        var seen: Set<String> = []
        for user in (0..<40).map({ "u\($0)" }) {
            let list = try await recommender.recommendations(for: RecommendationRequest(userId: user, k: 2))
            let variant = try #require(list.variant)
            seen.insert(variant)
            #expect(variant == recommender.variant(of: user))
            switch variant {
            case "control":
                #expect(list.model == Self.control)
                #expect(list.items.map(\.itemId) == ["i0", "i1"])
                #expect(list.positions == [StorePosition(topic: "interactions", partition: 0, offset: 1)])
            case "treatment":
                #expect(list.model == Self.treatment)
                #expect(list.items.map(\.itemId) == ["i7", "i6"])
                #expect(list.positions == [StorePosition(topic: "interactions", partition: 0, offset: 5)])
            default:
                Issue.record("unknown variant \(variant)")
            }
        }
        #expect(seen == ["control", "treatment"], "40 users should land in both halves")
        let status = recommender.status
        #expect(status.ready && status.models.map(\.model) == [Self.control, Self.treatment])
        #expect(status.models.map(\.itemCount) == [8, 8])
        // The model furthest behind sets the positions an alert on lag reads.
        #expect(status.positions == [StorePosition(topic: "interactions", partition: 0, offset: 1)])
        // Batch inference and similar items serve inference.model.
        #expect(try recommender.similar(to: "i0", k: 1).model == Self.control)
        #expect(try recommender.recommend(batch: [RecommendationRequest(userId: "u0", k: 1)]).map(\.model) == [Self.control])
    }

    @Test func aVariantWhoseModelIsMissingIsNotReadyAndTheOtherStillServes() async throws {
        let (directory, writable) = try Self.twoModels()
        defer { withExtendedLifetime(writable) {} }
        let missing = try ModelKey(parsing: "hybrid@1")
        let recommender = try Recommender(directory: directory, settings: Self.settings(treatmentModel: missing))
        let status = recommender.status
        #expect(!status.ready)
        #expect(status.reason?.contains("hybrid@1: the store holds no model hybrid@1") == true, "\(status.reason ?? "")")
        var served = 0
        var refused = 0
        for user in (0..<40).map({ "u\($0)" }) {
            do {
                let list = try await recommender.recommendations(for: RecommendationRequest(userId: user, k: 2))
                #expect(list.variant == "control" && list.model == Self.control)
                served += 1
            } catch let error as ServingError {
                #expect(recommender.variant(of: user) == "treatment")
                #expect(error == .notReady("the store holds no model hybrid@1 (it holds: online-bpr@1, online-bpr@2)"))
                refused += 1
            }
        }
        #expect(served > 0 && refused > 0)
        // Once the model is written, a refresh serves it.
        _ = try ServingStores.store(
            dimension: 3, items: [ServingStores.Item(id: "h", vector: [1, 1, 1])], directory: directory, model: missing)
        #expect(try recommender.refresh())
        #expect(recommender.status.ready)
    }
}
