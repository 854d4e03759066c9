import LoupeEvaluation
import LoupeEvents
import LoupeLearning
import LoupeML
import LoupeWorld
import Testing

/// The failure these would have caught: a learner whose lists were led by items seen once or
/// twice, below popularity on held-out data while its own training-data check looked excellent.
/// Generated worlds stand in for real data here (MovieLens is never committed); each is scored
/// on events the models did not learn, with the learner's default settings.
@Suite struct LearningQualityTests {
    /// A world where popularity is a strong signal (skew 1.2, twice the default).
    static let skewed = try! GeneratedDataset(
        configuration: WorldConfiguration(seed: 11, users: 1_000, items: 300, events: 100_000, popularitySkew: 1.2))

    @Test func beatsPopularityOnHeldOutEventsOfAPopularitySkewedWorld() {
        let evaluation = OfflineEvaluation(dataset: Self.skewed.dataset, settings: LearnerSettings())
        let result = evaluation.holdout(Self.skewed.dataset.temporalSplit(.test), reference: Self.skewed.reference)
        let ndcg = Dictionary(uniqueKeysWithValues: result.models.map { ($0.model, $0.warm.mean.ndcg) })
        let popularity = ndcg["popularity"]!
        let learner = ndcg["online-bpr"]!
        #expect(result.models.first { $0.model == "online-bpr" }!.warm.users > 300)
        #expect(learner > 1.05 * popularity, "NDCG@10: learner \(learner), popularity \(popularity)")
        #expect(ndcg["oracle"]! > learner, "the generator's truth ranks best")
    }

    /// Over every user's top 10, the median item was wanted by at least as many users in training
    /// as the catalog's median item: the lists are not led by rarely seen items.
    @Test func listsAreNotLedByRarelySeenItems() {
        let dataset = Self.skewed.dataset
        let split = dataset.temporalSplit(.test)
        var fold = LearnerFold(settings: LearnerSettings())
        for position in split.train { fold.apply(dataset.events[position]) }
        let model = fold.online
        // How many users wanted each item in training.
        var counts = [Int](repeating: 0, count: dataset.itemIds.count)
        for items in split.seen.values { for item in items { counts[item] += 1 } }
        let rows = dataset.itemIds.map { fold.itemIndex(of: $0)! }
        var listed: [Int] = []
        var scores = [Float](repeating: 0, count: model.itemCount)
        var byItem = [Float](repeating: 0, count: dataset.itemIds.count)
        for user in split.seen.keys.sorted() {
            guard let row = fold.userIndex(of: dataset.userIds[user]) else { continue }
            scores.withUnsafeMutableBufferPointer { model.score(user: row, into: $0) }
            for item in byItem.indices { byItem[item] = scores[rows[item]] }
            let seen = split.seen[user]!
            let list = byItem.withUnsafeBufferPointer { topK($0, k: 10, candidate: { !seen.contains($0) }) }
            listed += list.map { counts[$0] }
        }
        let catalogMedian = counts.sorted()[counts.count / 2]
        let listedMedian = listed.sorted()[listed.count / 2]
        #expect(listed.count > 5_000)
        #expect(listedMedian >= catalogMedian, "median training count: listed \(listedMedian), catalog \(catalogMedian)")
    }
}
