import Foundation
import LoupeEvents
import LoupeLearning
import LoupeML
import LoupeRandomness

extension OfflineEvaluation {
    /// Protocol C's figures of one model: over every positive, HR@k and NDCG@k of the true item's
    /// rank among all items the user had not wanted before (full) and among sampled negatives.
    public struct PrequentialResult: Sendable {
        public var model: String
        public var events = 0
        public var fullHits = 0.0
        public var fullGain = 0.0
        public var sampledHits = 0.0
        public var sampledGain = 0.0

        public var fullHitRate: Double { events > 0 ? fullHits / Double(events) : 0 }
        public var fullNDCG: Double { events > 0 ? fullGain / Double(events) : 0 }
        public var sampledHitRate: Double { events > 0 ? sampledHits / Double(events) : 0 }
        public var sampledNDCG: Double { events > 0 ? sampledGain / Double(events) : 0 }

        mutating func add(fullRank: Int, sampledRank: Int, k: Int) {
            events += 1
            if fullRank <= k {
                fullHits += 1
                fullGain += 1 / log2(Double(fullRank) + 1)
            }
            if sampledRank <= k {
                sampledHits += 1
                sampledGain += 1 / log2(Double(sampledRank) + 1)
            }
        }
    }

    public struct PrequentialRun: Sendable {
        public var models: [PrequentialResult]
        /// Events per second through the fold alone (the learner's own speed, scoring excluded).
        public var learnRate: Double
    }

    /// Protocol C: every event in time order; before a positive is learned, the true item is
    /// ranked by each model as it is at that moment. Negatives: `negatives` per positive, item
    /// index `z mod itemCount` from one SplitMix64 stream of `seed`, a draw of an item the user
    /// wants anywhere in the dataset rejected (its output still consumed).
    public func prequential(negatives: Int = 100, seed: UInt64 = 2024, progress: ((Int, Int) -> Void)? = nil) -> PrequentialRun {
        var fold = LearnerFold(settings: settings)
        let itemCount = dataset.itemIds.count
        var everWanted: [Int: Set<Int>] = [:]
        for positive in dataset.positives { everWanted[positive.user, default: []].insert(positive.item) }
        var wantedBefore: [Int: Set<Int>] = [:]
        var stream = SplitMix64(seed: seed)
        var results = ["popularity", "online-bpr"].map { PrequentialResult(model: $0) }
        var modelScores: [Float] = []
        var scores = [Float](repeating: 0, count: itemCount)
        var sampled = [Int](repeating: 0, count: negatives)
        var learnNanoseconds: UInt64 = 0
        // Dataset item → model row, refreshed when the fold has added items.
        var itemRows: [Int] = []
        var mappedItems = -1
        var nextPositive = 0
        for (position, event) in dataset.events.enumerated() {
            if nextPositive < dataset.positives.count, dataset.positives[nextPositive].event == position {
                let positive = dataset.positives[nextPositive]
                nextPositive += 1
                let userRow = fold.ensureUser(dataset.userIds[positive.user], time: event.timestamp)
                let wanted = everWanted[positive.user]!
                var drawn = 0
                while drawn < negatives {
                    let item = Int(stream.next() % UInt64(itemCount))
                    if wanted.contains(item) { continue }
                    sampled[drawn] = item
                    drawn += 1
                }
                let before = wantedBefore[positive.user] ?? []
                if mappedItems != fold.itemIds.count {
                    itemRows = dataset.itemIds.map { fold.itemIndex(of: $0) ?? -1 }
                    mappedItems = fold.itemIds.count
                }
                let models: [any RecommenderModel] = [fold.popularity, fold.online]
                for (slot, model) in models.enumerated() {
                    if modelScores.count < model.itemCount { modelScores = [Float](repeating: 0, count: model.itemCount) }
                    modelScores.withUnsafeMutableBufferPointer { model.score(user: userRow, into: $0) }
                    for item in 0..<itemCount { scores[item] = itemRows[item] >= 0 ? modelScores[itemRows[item]] : -.infinity }
                    let truth = scores[positive.item]
                    // Full: every item but the true one and those wanted before, counted as all
                    // items minus those.
                    var full = scores.withUnsafeBufferPointer { rank(of: truth, among: 0..<itemCount, scores: $0) } - 1
                    for item in before where item != positive.item && scores[item] >= truth { full -= 1 }
                    let sample = scores.withUnsafeBufferPointer { rank(of: truth, among: sampled, scores: $0) }
                    results[slot].add(fullRank: full, sampledRank: sample, k: k)
                }
                wantedBefore[positive.user, default: []].insert(positive.item)
                if nextPositive % 10_000 == 0 { progress?(nextPositive, dataset.positives.count) }
            }
            let start = DispatchTime.now().uptimeNanoseconds
            fold.apply(event)
            learnNanoseconds += DispatchTime.now().uptimeNanoseconds - start
        }
        let seconds = Double(learnNanoseconds) / 1e9
        return PrequentialRun(models: results, learnRate: seconds > 0 ? Double(dataset.events.count) / seconds : 0)
    }
}
