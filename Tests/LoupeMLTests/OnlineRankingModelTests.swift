import Foundation
import LoupeML
import Testing

/// `OnlineRankingModel`'s learning step against Tests/LoupeMLTests/Fixtures/online_ranking.json,
/// written by ops/fixtures/online_ranking_reference.py (PyTorch autograd in float64): replayed
/// with the fixture's explicit negatives, every observation's loss and, after the last one, every
/// user, item and context row, Adagrad accumulator, bias, user vector and history agree with the
/// reference within |a − e| ≤ 1e-4 · max(1, |e|) (Float32 against float64). The sequence covers
/// repeated negatives, a negative equal to the observed item, an empty history, a wanted item
/// already in the history, full histories and unwanted observations. Without the fixture:
/// repeated learning raises the wanted item's score and lowers the negative's, and scores are
/// bᵢ + ⟨xᵤ, qᵢ⟩.
@Suite struct OnlineRankingModelTests {
    /// The model's rows as the fixture writes them (float64, one array per row).
    struct ReferenceState {
        var userRows: [[Double]]
        var userAccumulators: [Double]
        var itemRows: [[Double]]
        var itemAccumulators: [Double]
        var contextRows: [[Double]]
        var contextAccumulators: [Double]
        var biases: [Double]
        var userVectors: [[Double]]
        var histories: [[Int]]

        init(_ json: Any?) throws {
            let object = try FixtureJSON.object(json)
            userRows = try FixtureJSON.matrix(object["user_rows"])
            userAccumulators = try FixtureJSON.numbers(object["user_accumulators"])
            itemRows = try FixtureJSON.matrix(object["item_rows"])
            itemAccumulators = try FixtureJSON.numbers(object["item_accumulators"])
            contextRows = try FixtureJSON.matrix(object["context_rows"])
            contextAccumulators = try FixtureJSON.numbers(object["context_accumulators"])
            biases = try FixtureJSON.numbers(object["biases"])
            userVectors = try FixtureJSON.matrix(object["user_vectors"])
            histories = try FixtureJSON.array(object["histories"]).map { try FixtureJSON.integers($0) }
        }
    }

    /// One observation of the fixture, with its negatives and the reference's loss before the step.
    struct ReferenceObservation {
        var user: Int
        var item: Int
        var weight: Double
        var negatives: [Int]
        var loss: Double

        init(_ json: Any?) throws {
            let object = try FixtureJSON.object(json)
            user = try FixtureJSON.integer(object["user"])
            item = try FixtureJSON.integer(object["item"])
            weight = try FixtureJSON.number(object["weight"])
            negatives = try FixtureJSON.integers(object["negatives"])
            loss = try FixtureJSON.number(object["loss"])
        }
    }

    /// online_ranking.json: the settings, the state before the first observation, the
    /// observations and the state after the last (its `first_gradients` are for debugging only).
    struct Reference {
        var settings: OnlineRankingSettings
        var stateBefore: ReferenceState
        var observations: [ReferenceObservation]
        var stateAfter: ReferenceState

        static func load() throws -> Reference {
            let url = try #require(
                Bundle.module.url(forResource: "online_ranking", withExtension: "json", subdirectory: "Fixtures"))
            let root = try FixtureJSON.object(try JSONSerialization.jsonObject(with: Data(contentsOf: url)))
            let values = try FixtureJSON.object(root["settings"])
            var settings = OnlineRankingSettings()
            settings.dimension = try FixtureJSON.integer(values["dimension"])
            settings.learningRate = Float(try FixtureJSON.number(values["learning_rate"]))
            settings.biasLearningRate = Float(try FixtureJSON.number(values["bias_learning_rate"]))
            settings.l2 = Float(try FixtureJSON.number(values["l2"]))
            settings.historyLength = try FixtureJSON.integer(values["history_length"])
            settings.historyExponent = Float(try FixtureJSON.number(values["history_exponent"]))
            settings.epsilon = Float(try FixtureJSON.number(values["epsilon"]))
            return Reference(
                settings: settings, stateBefore: try ReferenceState(root["initial"]),
                observations: try FixtureJSON.array(root["observations"]).map { try ReferenceObservation($0) },
                stateAfter: try ReferenceState(root["final"]))
        }

        /// A model holding the state before the first observation, restored row by row: every item, then every user.
        func restoredModel() -> OnlineRankingModel {
            let initial = stateBefore
            var model = OnlineRankingModel(settings: settings)
            for item in initial.itemRows.indices {
                model.restoreItem(
                    row: initial.itemRows[item].map { Float($0) }, accumulator: Float(initial.itemAccumulators[item]),
                    context: initial.contextRows[item].map { Float($0) },
                    contextAccumulator: Float(initial.contextAccumulators[item]), bias: Float(initial.biases[item]),
                    group: nil, wantedCount: 0, active: true)
            }
            for user in initial.userRows.indices {
                model.restoreUser(
                    row: initial.userRows[user].map { Float($0) }, accumulator: Float(initial.userAccumulators[user]),
                    vector: initial.userVectors[user].map { Float($0) }, group: nil,
                    history: initial.histories[user].map { Int32($0) })
            }
            return model
        }
    }

    /// Whether a Float32 result agrees with a float64 reference value.
    static func agrees(_ actual: Float, _ expected: Double) -> Bool {
        abs(Double(actual) - expected) <= 1e-4 * max(1, abs(expected))
    }

    static func expectAgreement(
        _ actual: some Collection<Float>, _ expected: [Double], _ what: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(
            actual.count == expected.count, "\(what): \(actual.count) values, reference \(expected.count)",
            sourceLocation: sourceLocation)
        for (offset, (value, reference)) in zip(actual, expected).enumerated() {
            #expect(
                Self.agrees(value, reference), "\(what)[\(offset)]: \(value), reference \(reference)",
                sourceLocation: sourceLocation)
        }
    }

    /// Default settings at dimension 4 with a history of 3, rows started by `addUser` / `addItem`.
    static func seededModel(users: Int, items: Int) -> OnlineRankingModel {
        var settings = OnlineRankingSettings()
        settings.dimension = 4
        settings.historyLength = 3
        var model = OnlineRankingModel(settings: settings)
        for user in 0..<users { model.addUser(group: nil, seed: UInt64(user)) }
        for item in 0..<items { model.addItem(group: nil, seed: UInt64(100 + item)) }
        return model
    }

    @Test func stepsMatchTheTorchReference() throws {
        let reference = try Reference.load()
        var model = reference.restoredModel()
        for (index, observation) in reference.observations.enumerated() {
            let loss = model.learn(
                Observation(
                    user: observation.user, item: observation.item, weight: Float(observation.weight), time: Int64(index),
                    seed: UInt64(index)),
                negatives: observation.negatives)
            #expect(Self.agrees(loss, observation.loss), "loss of observation \(index): \(loss), reference \(observation.loss)")
        }

        let expected = reference.stateAfter
        try #require(model.userCount == expected.userRows.count && model.itemCount == expected.itemRows.count)
        for user in expected.userRows.indices {
            Self.expectAgreement(model.users.row(user), expected.userRows[user], "user row \(user)")
            Self.expectAgreement([model.users.accumulator(user)], [expected.userAccumulators[user]], "user accumulator \(user)")
            Self.expectAgreement(model.userVector(user), expected.userVectors[user], "user vector \(user)")
            #expect(model.recentItems(of: user).map { Int($0) } == expected.histories[user], "history of user \(user)")
        }
        for item in expected.itemRows.indices {
            Self.expectAgreement(model.items.row(item), expected.itemRows[item], "item row \(item)")
            Self.expectAgreement([model.items.accumulator(item)], [expected.itemAccumulators[item]], "item accumulator \(item)")
            Self.expectAgreement(model.contexts.row(item), expected.contextRows[item], "context row \(item)")
            Self.expectAgreement(
                [model.contexts.accumulator(item)], [expected.contextAccumulators[item]], "context accumulator \(item)")
            Self.expectAgreement([model.biases[item]], [expected.biases[item]], "bias \(item)")
        }
    }

    @Test func repeatedLearningRaisesTheWantedItemAndLowersTheNegative() {
        var model = Self.seededModel(users: 2, items: 4)
        let wanted = 1
        let negative = 2
        let before = model.scores(user: 0)
        for step in 0..<20 {
            model.learn(
                Observation(user: 0, item: wanted, weight: 1, time: Int64(step), seed: UInt64(step)), negatives: [negative])
        }
        let after = model.scores(user: 0)
        #expect(after[wanted] > before[wanted], "wanted item: \(before[wanted]) → \(after[wanted])")
        #expect(after[negative] < before[negative], "negative: \(before[negative]) → \(after[negative])")
        #expect(after[wanted] > after[negative])
    }

    @Test func scoresAreBiasPlusUserVectorDotItemRow() {
        var model = Self.seededModel(users: 3, items: 5)
        let observations: [(user: Int, item: Int, weight: Float, negatives: [Int])] = [
            (0, 1, 1, [2, 3]), (1, 4, 1.5, [0]), (0, 3, -0.7, []), (2, 2, 0.5, [1, 4]), (0, 4, 1, [0, 2]), (1, 0, 1, [3]),
        ]
        for (index, observation) in observations.enumerated() {
            model.learn(
                Observation(
                    user: observation.user, item: observation.item, weight: observation.weight, time: Int64(index),
                    seed: UInt64(index)),
                negatives: observation.negatives)
        }
        for user in 0..<model.userCount {
            var scores = [Float](repeating: .nan, count: model.itemCount)
            scores.withUnsafeMutableBufferPointer { model.score(user: user, into: $0) }
            for item in 0..<model.itemCount {
                let product = zip(model.userVector(user), model.items.row(item)).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                let expected = Double(model.biases[item]) + product
                #expect(
                    abs(Double(scores[item]) - expected) <= 1e-5 * max(1, abs(expected)),
                    "user \(user), item \(item): \(scores[item]), by hand \(expected)")
            }
        }
    }
}

/// Values as JSONSerialization gives them: dictionaries, arrays, and numbers as NSNumber or as
/// Swift numbers, depending on the platform's Foundation.
private enum FixtureJSON {
    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    static func object(_ value: Any?) throws -> [String: Any] {
        guard let object = value as? [String: Any] else {
            throw Malformed(description: "not an object: \(String(describing: value))")
        }
        return object
    }

    static func array(_ value: Any?) throws -> [Any] {
        guard let array = value as? [Any] else {
            throw Malformed(description: "not an array: \(String(describing: value))")
        }
        return array
    }

    static func number(_ value: Any?) throws -> Double {
        switch value {
        case let number as NSNumber: number.doubleValue
        case let number as Double: number
        case let number as Int: Double(number)
        default: throw Malformed(description: "not a number: \(String(describing: value))")
        }
    }

    static func integer(_ value: Any?) throws -> Int {
        let double = try number(value)
        guard let integer = Int(exactly: double) else { throw Malformed(description: "not an integer: \(double)") }
        return integer
    }

    static func numbers(_ value: Any?) throws -> [Double] {
        try array(value).map { try number($0) }
    }

    static func integers(_ value: Any?) throws -> [Int] {
        try array(value).map { try integer($0) }
    }

    static func matrix(_ value: Any?) throws -> [[Double]] {
        try array(value).map { try numbers($0) }
    }
}
