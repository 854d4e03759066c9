import Foundation

extension ChaosBenchmark {
    /// `loupe learn --until-end` killed with SIGKILL `kills` times at random moments, restarted
    /// after each kill, then run to the end; compared with an uninterrupted run over an equal
    /// log. The embedded log, or Kafka with `brokers`.
    ///
    /// The moments: before each life a random point of the log is drawn (sorted across lives);
    /// every other life is killed a random 0–150 ms after the learner's store has passed that
    /// point (less near the end of the log, so that the learner cannot finish first), so kills
    /// spread over the whole run however fast it learns. The other lives are aimed at the
    /// window between recording a batch and committing it: killed as soon as the learner has
    /// recorded its first new batch (unless the recorded batches already reach the end of the
    /// log; such a life is killed like the others). A kill that leaves a batch that its own
    /// life recorded in learner-batches beyond the store's positions landed mid-batch (between
    /// recording a batch and committing it); one that leaves only batches of earlier lives
    /// landed while the learner started or re-applied them. The next life re-applies exactly the
    /// batches left first and says how many.
    public func killLearner(brokers: String?, kills: Int) throws -> ChaosFigures {
        let backend = brokers == nil ? "embedded" : "kafka"
        var figures = ChaosFigures(scenario: "kill-learner", backend: backend)
        let steady = try ChaosSubject(name: "kill-\(backend)-steady", directory: directory, brokers: brokers, batchSize: batchSize)
        let crashy = try ChaosSubject(name: "kill-\(backend)-crashy", directory: directory, brokers: brokers, batchSize: batchSize)
        let produced = try produceAll(into: steady)
        let crashyProduced = try produceAll(into: crashy)
        figures.check(produced == crashyProduced, "the two logs differ: produce reported \(produced) and \(crashyProduced)")
        figures.sent = lines.count
        figures.accepted = produced.accepted

        say("chaos kill-learner \(backend): uninterrupted run")
        let steadyStart = ContinuousClock.now
        try runner.run(["learn", "--until-end"] + steady.options, label: "\(steady.name)-learn")
        let steadySeconds = Self.seconds(since: steadyStart)
        let expected = try steady.checksum()
        let expectedCounts = try steady.counters()
        let total = try crashy.learnedRecords()

        var random = SystemRandomNumberGenerator()
        let targets = (0..<kills).map { _ in Int64(Double(total) * Double.random(in: 0.02...0.85, using: &random)) }.sorted()
        var midBatch = 0
        var duringStart = 0
        var pendingAfterKills = 0
        var reapplied = 0
        var crossChecked = 0
        var pendingBefore: Int?
        let start = ContinuousClock.now
        for (life, target) in targets.enumerated() {
            let recordedBefore = try crashy.recordedBatches()
            let aimed = try life % 2 == 1 && !crashy.recordedBatchesReachTheEnd()
            let learner = try runner.start(["learn", "--until-end"] + crashy.options, label: "\(crashy.name)-life\(life + 1)")
            let deadline = ContinuousClock.now + .seconds(600)
            if aimed {
                // As soon as the learner records its first new batch, while it folds it: there
                // is one, since the recorded batches do not reach the end of the log.
                while learner.isRunning, try crashy.recordedBatches() == recordedBefore, ContinuousClock.now < deadline {
                    Thread.sleep(forTimeInterval: 0.001)
                }
            } else {
                while learner.isRunning, try crashy.foldedRecords() < target {
                    guard ContinuousClock.now < deadline else {
                        learner.signal(SIGKILL)
                        learner.wait()
                        throw ChaosError("life \(life + 1): the learner did not reach record \(target) of \(total) in 600 s")
                    }
                    Thread.sleep(forTimeInterval: 0.01)
                }
                // Up to 150 ms, but well within the time the rest of the log takes at the
                // uninterrupted run's rate, so that the kill lands before the learner finishes.
                let left = Double(total - target) / Double(total) * steadySeconds
                Thread.sleep(forTimeInterval: Double.random(in: 0...min(0.15, left / 4), using: &random))
            }
            guard learner.isRunning else {
                let status = learner.wait()
                figures.failures.append(
                    "life \(life + 1) ended (status \(status)) before its kill at record \(target) of \(total): \(learner.errorTail)")
                pendingBefore = try crashy.recordedButUncommittedBatches().count
                continue
            }
            learner.signal(SIGKILL)
            learner.wait()
            try crashy.settleAfterKill()
            let folded = try crashy.foldedRecords()
            let pendingBatches = try crashy.recordedButUncommittedBatches()
            let pending = pendingBatches.count
            figures.killsSurvived += 1
            if pendingBatches.contains(where: { $0 > recordedBefore }) {
                midBatch += 1
            } else if try crashy.recordedBatches() == recordedBefore {
                duringStart += 1
            }
            pendingAfterKills += pending
            let said = Self.reappliedBatches(learner.standardError)
            reapplied += said
            if let pendingBefore, learner.standardError.contains("re-applied") {
                crossChecked += 1
                figures.check(said == pendingBefore, "life \(life + 1) re-applied \(said) batch(es); the log held \(pendingBefore) beyond the store")
            }
            pendingBefore = pending
            say("chaos kill-learner \(backend): kill \(life + 1)/\(kills) at \(folded)/\(total) records, \(pending) recorded batch(es) uncommitted")
        }
        let last = try runner.run(["learn", "--until-end"] + crashy.options, label: "\(crashy.name)-final")
        let saidLast = Self.reappliedBatches(last.standardError)
        reapplied += saidLast
        if let pendingBefore {
            crossChecked += 1
            figures.check(saidLast == pendingBefore, "the final run re-applied \(saidLast) batch(es); the log held \(pendingBefore) beyond the store")
        }
        let crashySeconds = Self.seconds(since: start)

        let counts = try crashy.counters()
        let folded = try crashy.foldedRecords()
        figures.deadLettered = produced.rejected + Int(counts.deadLettered)
        figures.lost = Int(max(0, expectedCounts.applied - counts.applied) + max(0, total - folded))
        figures.duplicated = Int(max(0, counts.applied - expectedCounts.applied))
        let checksum = try crashy.checksum()
        figures.details = [
            "log: \(total) records in the learned topics; uninterrupted run \(String(format: "%.1f", steadySeconds)) s, "
                + "killed run \(String(format: "%.1f", crashySeconds)) s over \(kills + 1) lives",
            "kills that left a batch of their own life recorded but uncommitted (mid-batch): \(midBatch) of \(figures.killsSurvived); "
                + "before the life recorded any batch (starting or re-applying): \(duringStart); "
                + "recorded batches left uncommitted after the kills: \(pendingAfterKills) in all",
            "batches re-applied at restart (what loupe learn said): \(reapplied); cross-checked against the log after \(crossChecked) kill(s)",
            "learner counters: \(counts); uninterrupted: \(expectedCounts)",
            "checksum \(checksum == expected ? "equal" : "DIFFERENT"): \(checksum)",
        ]
        let survived = figures.killsSurvived
        figures.check(survived == kills, "\(kills - survived) of \(kills) kills did not happen")
        figures.check(midBatch > 0, "no kill landed between recording a batch and committing it")
        figures.check(reapplied > 0, "the recorded-but-uncommitted path never ran")
        figures.check(checksum == expected, "the killed run's checksum differs from the uninterrupted run's")
        figures.check(counts == expectedCounts, "the learner's counters differ: \(counts) against \(expectedCounts)")
        figures.checkNothingLostOrDuplicated()
        return figures
    }
}
