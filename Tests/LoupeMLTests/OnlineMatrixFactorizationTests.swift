import Foundation
import LoupeML
import Testing

@Suite struct OnlineMatrixFactorizationTests {
    /// The fixture ops/fixtures/online_mf_reference.py wrote with PyTorch (autograd gradients,
    /// per-row Adagrad): every loss and every final row and accumulator must match.
    @Test func matchesThePyTorchReference() throws {
        let url = try #require(Bundle.module.url(forResource: "online_mf", withExtension: "json", subdirectory: "Fixtures"))
        let fixture = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let settingsObject = try #require(fixture["settings"] as? [String: Any])
        var settings = OnlineModelSettings()
        settings.dimension = try #require(settingsObject["dimension"] as? Int)
        settings.learningRate = Float(try #require(settingsObject["learning_rate"] as? Double))
        settings.l2 = Float(try #require(settingsObject["l2"] as? Double))
        settings.epsilon = Float(try #require(settingsObject["epsilon"] as? Double))

        var model = OnlineMatrixFactorization(settings: settings)
        let initial = try #require(fixture["initial"] as? [String: [[Double]]])
        for row in initial["users"]! { model.users.append(row.map(Float.init)) }
        for row in initial["items"]! { model.items.append(row.map(Float.init)) }
        // The learner's path: the same updates without the loss, so bit for bit the same rows.
        var trained = model

        let examples = try #require(fixture["examples"] as? [[String: Any]])
        let losses = try #require(fixture["losses"] as? [Double])
        for (example, expectedLoss) in zip(examples, losses) {
            let loss = model.learn(
                TrainingExample(
                    user: example["user"] as! Int, item: example["item"] as! Int, label: Float(example["label"] as! Double),
                    weight: Float(example["weight"] as! Double), negatives: example["negatives"] as! [Int]))
            #expect(abs(Double(loss) - expectedLoss) < 1e-5 * max(1, abs(expectedLoss)), "loss \(loss) vs \(expectedLoss)")
            trained.train(
                TrainingExample(
                    user: example["user"] as! Int, item: example["item"] as! Int, label: Float(example["label"] as! Double),
                    weight: Float(example["weight"] as! Double), negatives: example["negatives"] as! [Int]))
        }
        #expect(trained.users.values == model.users.values && trained.items.values == model.items.values)
        #expect((0..<model.items.count).map(trained.items.accumulator) == (0..<model.items.count).map(model.items.accumulator))

        let final = try #require(fixture["final"] as? [String: Any])
        let users = final["users"] as! [[Double]]
        let items = final["items"] as! [[Double]]
        for (index, expected) in users.enumerated() { Self.expectClose(Array(model.users.row(index)), expected, "user \(index)") }
        for (index, expected) in items.enumerated() { Self.expectClose(Array(model.items.row(index)), expected, "item \(index)") }
        Self.expectClose((0..<users.count).map { model.users.accumulator($0) }, final["user_accumulators"] as! [Double], "user accumulators")
        Self.expectClose((0..<items.count).map { model.items.accumulator($0) }, final["item_accumulators"] as! [Double], "item accumulators")
    }

    static func expectClose(_ actual: [Float], _ expected: [Double], _ what: String) {
        #expect(actual.count == expected.count, "\(what): \(actual.count) values, expected \(expected.count)")
        for (a, e) in zip(actual, expected) {
            #expect(abs(Double(a) - e) < 2e-5 * max(1, abs(e)), "\(what): \(a) vs \(e)")
        }
    }

    @Test func scoreAllItemsIsTheMatrixVectorProduct() {
        var settings = OnlineModelSettings()
        settings.dimension = 3
        var model = OnlineMatrixFactorization(settings: settings)
        model.users.append([1, 2, 3])
        model.items.append([1, 0, 0])
        model.items.append([0, 1, 0])
        model.items.append([0.5, 0.5, -1])
        #expect(model.scoreAllItems(user: 0) == [1, 2, -1.5])
        #expect(model.score(user: 0, items: [2, 0]) == [-1.5, 1])
    }

    @Test func positivesRiseAndNegativesFall() {
        var settings = OnlineModelSettings()
        settings.dimension = 4
        var model = OnlineMatrixFactorization(settings: settings)
        model.users.append([0.1, -0.2, 0.3, 0.1])
        model.items.append([0.2, 0.1, -0.1, 0.3])
        model.items.append([-0.1, 0.2, 0.2, 0.1])
        let before = model.score(user: 0, items: [0, 1])
        for _ in 0..<20 { model.learn(TrainingExample(user: 0, item: 0, label: 1, weight: 1, negatives: [1])) }
        let after = model.score(user: 0, items: [0, 1])
        #expect(after[0] > before[0])
        #expect(after[1] < before[1])
    }
}
