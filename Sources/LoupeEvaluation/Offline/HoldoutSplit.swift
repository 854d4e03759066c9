import LoupeEvents

/// Which part of the data a holdout split scores: the test part, or — for choosing
/// hyperparameters — the validation part carved out of the training data the way each protocol
/// says (the test part is then never read).
public enum EvaluationPart: String, CaseIterable, Sendable {
    case test, validation
}

/// A dataset cut into what the models learn and what they are scored against.
public struct HoldoutSplit: Sendable {
    /// Positions of the events the models learn, in order.
    public var train: [Int]
    /// Per scored user (dataset index): the items they turned out to want (not already wanted
    /// in training).
    public var relevant: [Int: Set<Int>]
    /// Per user: the items of their training positives, which are never candidates.
    public var seen: [Int: Set<Int>]
    /// The items ranked: those of the training positives.
    public var catalog: Set<Int>
    /// Users with positives in the scored part but none in training, who had a face analysis in
    /// the scored period (their relevant items, within the catalog), and the positions of those
    /// face analyses: a cold start with nothing but a face shape.
    public var coldRelevant: [Int: Set<Int>] = [:]
    public var coldEvents: [Int] = []
    /// Scored rows before and after dropping those whose user or item is not in training or
    /// whose item the user already had among its training positives (it cannot be listed).
    public var heldOutRows = 0
    public var keptRows = 0
}

extension OfflineDataset {
    /// Protocol A: the first 80 % of the positives in time order train, the rest test; for
    /// validation, the first 70 % train and the next 10 % are scored.
    public func temporalSplit(_ part: EvaluationPart) -> HoldoutSplit {
        let count = positives.count
        let end = part == .test ? count : count * 8 / 10
        let cut = part == .test ? count * 8 / 10 : count * 7 / 10
        let firstScored = cut < count ? positives[cut].event : events.count
        let lastEvent = end < count ? positives[end].event : events.count
        let trainPositives = positives[0..<cut]
        var split = holdout(train: Array(0..<firstScored), trainPositives: trainPositives, scored: positives[cut..<end])
        // Cold users: positives in the scored period and none in training, with a face analysis
        // in that period (before or after their first positive, as it happened).
        let trainUsers = Set(trainPositives.map(\.user))
        for positive in positives[cut..<end] where !trainUsers.contains(positive.user) && split.catalog.contains(positive.item) {
            split.coldRelevant[positive.user, default: []].insert(positive.item)
        }
        for position in firstScored..<lastEvent {
            guard case .faceAnalysis(let analysis) = events[position], let user = userIndex[analysis.userId],
                split.coldRelevant[user] != nil
            else { continue }
            split.coldEvents.append(position)
        }
        let analysed = Set(split.coldEvents.compactMap { position -> Int? in
            guard case .faceAnalysis(let analysis) = events[position] else { return nil }
            return userIndex[analysis.userId]
        })
        split.coldRelevant = split.coldRelevant.filter { analysed.contains($0.key) }
        return split
    }

    /// Protocol B: each user's last positive is scored and everything else trains; for
    /// validation, the second-to-last is scored and the last two are left out of training.
    public func leaveLastOutSplit(_ part: EvaluationPart) -> HoldoutSplit {
        var last: [Int: Int] = [:]
        var secondToLast: [Int: Int] = [:]
        for (index, positive) in positives.enumerated() {
            if let previous = last[positive.user] { secondToLast[positive.user] = previous }
            last[positive.user] = index
        }
        let scored = Set(part == .test ? Array(last.values) : Array(secondToLast.values))
        var excluded = scored
        if part == .validation { excluded.formUnion(last.values) }
        let excludedEvents = Set(excluded.map { positives[$0].event })
        let train = events.indices.filter { !excludedEvents.contains($0) }
        let trainPositives = positives.indices.filter { !excluded.contains($0) }.map { positives[$0] }
        return holdout(train: train, trainPositives: trainPositives, scored: scored.sorted().map { positives[$0] })
    }

    private func holdout(train: [Int], trainPositives: some Collection<Positive>, scored: some Collection<Positive>) -> HoldoutSplit {
        var seen: [Int: Set<Int>] = [:]
        var catalog: Set<Int> = []
        for positive in trainPositives {
            seen[positive.user, default: []].insert(positive.item)
            catalog.insert(positive.item)
        }
        var relevant: [Int: Set<Int>] = [:]
        var kept = 0
        // A positive for an item the user already had in training cannot be listed: not scored.
        for positive in scored
        where catalog.contains(positive.item) && seen[positive.user].map({ !$0.contains(positive.item) }) == true {
            relevant[positive.user, default: []].insert(positive.item)
            kept += 1
        }
        return HoldoutSplit(
            train: train, relevant: relevant, seen: seen, catalog: catalog, heldOutRows: scored.count, keptRows: kept)
    }
}
