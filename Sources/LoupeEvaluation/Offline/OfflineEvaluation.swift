import Foundation
import LoupeEvents
import LoupeLearning
import LoupeML
import LoupeRandomness

/// Offline evaluation of Loupe's models on a dataset, by the protocols of
/// `quality/movielens-100k.md` (docs/evaluation.md): the models learn through the learner's own
/// fold (`LearnerFold`), one event at a time, in one pass — the learner as it runs live — and
/// rank the full catalog; popularity is scored beside them from the same fold.
public struct OfflineEvaluation: Sendable {
    public let dataset: OfflineDataset
    public let settings: LearnerSettings
    public var k = 10

    public init(dataset: OfflineDataset, settings: LearnerSettings) {
        self.dataset = dataset
        self.settings = settings
    }

    /// One model's figures on a holdout split.
    public struct ModelResult: Sendable {
        public var model: String
        public var warm: RankingSummary
        /// Users with nothing but a face analysis before they are scored (temporal splits of
        /// datasets that have face analyses).
        public var cold: RankingSummary?
    }

    public struct HoldoutResult: Sendable {
        public var models: [ModelResult]
        public var trainEvents: Int
        public var heldOutRows: Int
        public var keptRows: Int
        /// Events per second through the fold (learning only).
        public var learnRate: Double
    }

    /// Scores of every dataset item for a dataset user, by dataset index: the generated world's
    /// true utility, for the oracle row.
    public typealias Reference = @Sendable (_ user: Int) -> [Float]

    /// Folds the split's training events, then ranks the catalog for every scored user with
    /// popularity, the online model and, when given, the reference.
    public func holdout(_ split: HoldoutSplit, reference: Reference? = nil) -> HoldoutResult {
        var fold = LearnerFold(settings: settings)
        let start = DispatchTime.now().uptimeNanoseconds
        for position in split.train { fold.apply(dataset.events[position]) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let catalog = split.catalog
        let warm = score(split.relevant, seen: split.seen, catalog: catalog, fold: fold, reference: reference)
        var cold: [String: RankingSummary] = [:]
        if !split.coldRelevant.isEmpty {
            for position in split.coldEvents { fold.apply(dataset.events[position]) }
            cold = score(split.coldRelevant, seen: [:], catalog: catalog, fold: fold, reference: reference)
        }
        let models = warm.keys.sorted { Self.order($0) < Self.order($1) }.map { name in
            ModelResult(model: name, warm: warm[name]!, cold: cold[name])
        }
        return HoldoutResult(
            models: models, trainEvents: split.train.count, heldOutRows: split.heldOutRows, keptRows: split.keptRows,
            learnRate: seconds > 0 ? Double(split.train.count) / seconds : 0)
    }

    static let referenceName = "oracle"

    static func order(_ model: String) -> Int {
        switch model {
        case "popularity": 0
        case referenceName: 2
        default: 1
        }
    }

    /// Top-k lists of every user in `relevant` by each model, summarised.
    private func score(
        _ relevant: [Int: Set<Int>], seen: [Int: Set<Int>], catalog: Set<Int>, fold: LearnerFold, reference: Reference?
    ) -> [String: RankingSummary] {
        let models: [any RecommenderModel] = [fold.popularity, fold.online]
        let itemRows = dataset.itemIds.map { fold.itemIndex(of: $0) }
        var summaries: [String: RankingSummary] = [:]
        for model in models { summaries[model.name] = RankingSummary(k: k, catalogSize: catalog.count) }
        if reference != nil { summaries[Self.referenceName] = RankingSummary(k: k, catalogSize: catalog.count) }
        var modelScores = [Float](repeating: 0, count: fold.itemIds.count)
        var scores = [Float](repeating: 0, count: dataset.itemIds.count)
        var listable = [Bool](repeating: false, count: dataset.itemIds.count)
        for user in relevant.keys.sorted() {
            let wanted = relevant[user]!
            for item in catalog { listable[item] = true }
            for item in seen[user] ?? [] { listable[item] = false }
            let candidates = listable
            let candidate = { (item: Int) in candidates[item] }
            let row = fold.userIndex(of: dataset.userIds[user])
            for model in models {
                if let row {
                    modelScores.withUnsafeMutableBufferPointer { model.score(user: row, into: $0) }
                    for (item, modelRow) in itemRows.enumerated() { scores[item] = modelRow.map { modelScores[$0] } ?? -.infinity }
                } else {
                    for item in scores.indices { scores[item] = 0 }
                }
                let list = scores.withUnsafeBufferPointer { topK($0, k: k, candidate: candidate) }
                summaries[model.name]!.add(list: list, relevant: wanted)
            }
            if let reference {
                let truth = reference(user)
                let list = truth.withUnsafeBufferPointer { topK($0, k: k, candidate: candidate) }
                summaries[Self.referenceName]!.add(list: list, relevant: wanted)
            }
        }
        return summaries
    }
}
