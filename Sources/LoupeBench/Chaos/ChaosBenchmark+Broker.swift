import Foundation
import Synchronization

extension ChaosBenchmark {
    /// A Kafka-compatible broker stopped (SIGTERM) and started again on the same port with the
    /// same data, `restarts` times, while `loupe produce` reads events from a pipe at `rate` per
    /// second and a live `loupe learn` folds them. The benchmark runs a broker of its own through
    /// `script` (ops/broker.sh with LOUPE_BROKER_STATE), because it must stop and start it.
    ///
    /// Counted from the log and the store at the end: every valid event sent must be in the log
    /// once and applied once; a producer or learner that fails must say why, and a learner that
    /// fails is started again (counted).
    public func restartBroker(script: String, restarts: Int, rate: Int, quietSeconds: Double = 3) throws -> ChaosFigures {
        var figures = ChaosFigures(scenario: "broker-restart", backend: "kafka")
        let brokerState = directory + "/broker"
        func broker(_ command: String) throws -> String {
            let child = try runner.start(
                ["LOUPE_BROKER_STATE=\(brokerState)", script, command], label: "broker-\(command)", program: "/usr/bin/env")
            let status = child.wait()
            guard status == 0 else { throw ChaosError("\(script) \(command) exited \(status): \(child.standardError)") }
            return child.standardOutput.split(separator: "\n").last.map(String.init) ?? ""
        }
        let address = try broker("start")
        defer { _ = try? broker("stop") }
        let subject = try ChaosSubject(name: "broker-restart", directory: directory, brokers: address, batchSize: batchSize)
        try runner.run(["topics", "apply"] + subject.options, label: "broker-topics")

        var learnerStarts = 1
        var learnerFailures: [String] = []
        var learner = try runner.start(["learn"] + subject.options, label: "broker-learn-1")
        /// Starts the learner again if it has exited, keeping what it said.
        func keepLearnerRunning() throws {
            guard !learner.isRunning else { return }
            let status = learner.wait()
            learnerFailures.append("exit \(status): \(learner.errorTail)")
            learnerStarts += 1
            learner = try runner.start(["learn"] + subject.options, label: "broker-learn-\(learnerStarts)")
        }

        let produce = try runner.start(["produce"] + subject.options, label: "broker-produce", feedsStandardInput: true)
        let feeder = LineFeeder(lines: lines, into: produce.input!, rate: rate)
        var outages: [Double] = []
        for restart in 1...max(1, restarts) {
            let due = lines.count * restart / (restarts + 1)
            while feeder.fed < due, !feeder.isDone { Thread.sleep(forTimeInterval: 0.05) }
            // The producer goes quiet for a moment first: the local broker loses writes it
            // acknowledged in about its last second when it is stopped under load (even with
            // SIGTERM; docs/reliability.md), which no client can make good. Kafka does not.
            feeder.pause(true)
            Thread.sleep(forTimeInterval: quietSeconds)
            say("chaos broker-restart: restart \(restart)/\(restarts) after \(feeder.fed) of \(lines.count) lines")
            let start = ContinuousClock.now
            _ = try broker("restart")
            outages.append(Self.seconds(since: start))
            feeder.pause(false)
            try keepLearnerRunning()
        }
        while !feeder.isDone {
            Thread.sleep(forTimeInterval: 0.1)
            try keepLearnerRunning()
        }
        let produceStatus = produce.wait()
        let produced = Self.produceSummary(produce.standardError)
        figures.sent = feeder.fed
        figures.accepted = produced?.accepted ?? 0
        figures.check(feeder.failure == nil, "writing to loupe produce failed: \(feeder.failure ?? "")")
        figures.check(produceStatus == 0, "loupe produce exited \(produceStatus): \(produce.errorTail)")

        say("chaos broker-restart: waiting for the learner to catch up")
        let total = try subject.learnedRecords()
        let deadline = ContinuousClock.now + .seconds(600)
        while try subject.foldedRecords() < total {
            guard ContinuousClock.now < deadline else { throw ChaosError("the learner did not catch up with \(total) records in 600 s") }
            try keepLearnerRunning()
            Thread.sleep(forTimeInterval: 0.1)
        }
        learner.signal(SIGTERM)
        let learnerStatus = learner.wait()
        figures.check(learnerStatus == 0, "the learner stopped with SIGTERM exited \(learnerStatus): \(learner.errorTail)")

        let (validSent, sentIds) = sentEvents()
        let (records, logIds) = try subject.eventIdentities()
        let counts = try subject.counters()
        let deadLetters = try subject.deadLetterRecords()
        let missing = sentIds.subtracting(logIds).count
        let logDuplicates = records - logIds.count - (validSent - sentIds.count)
        figures.deadLettered = (produced?.rejected ?? 0) + Int(counts.deadLettered)
        figures.lost = missing + max(0, logIds.count - Int(counts.applied))
        figures.duplicated = max(0, logDuplicates) + max(0, Int(counts.applied) - logIds.count)

        let replayed = try ChaosSubject(name: "broker-restart-replayed", directory: directory, sharingLogOf: subject)
        try runner.run(["replay"] + replayed.options, label: "broker-replay")
        let liveChecksum = try subject.checksum()
        let replayChecksum = try replayed.checksum()
        figures.details = [
            "fed at \(rate) lines/s, quiet \(quietSeconds) s before each restart; broker restarts \(outages.count), each \(outages.map { String(format: "%.1f s", $0) }.joined(separator: ", ")) from stop to ready",
            "produce: exit \(produceStatus), \(produced.map { "\($0.accepted) accepted, \($0.rejected) rejected" } ?? "no summary")",
            "log: \(records) records with \(logIds.count) distinct event ids (\(sentIds.count) distinct sent), \(deadLetters) dead letters",
            "learner: started \(learnerStarts) time(s)\(learnerFailures.isEmpty ? "" : "; exits: " + learnerFailures.joined(separator: "; ")); counters \(counts)",
            "replay of the recorded batches \(replayChecksum == liveChecksum ? "equals" : "DIFFERS FROM") the live state: \(liveChecksum)",
        ]
        let rejected = figures.deadLettered
        figures.check(deadLetters == Int64(rejected), "dead-letter holds \(deadLetters) records; \(rejected) were rejected")
        figures.check(replayChecksum == liveChecksum, "the replayed state differs from the live learner's")
        figures.details.append("sent but not in the log: \(missing); extra records in the log: \(max(0, logDuplicates))")
        figures.checkNothingLostOrDuplicated()
        return figures
    }
}

/// Writes lines into a child's standard input at a steady rate, on a thread of its own.
final class LineFeeder: Sendable {
    private let progress = Mutex<(fed: Int, done: Bool, failure: String?, paused: Bool)>((0, false, nil, false))

    init(lines: [[UInt8]], into input: FileHandle, rate: Int) {
        let chunk = max(1, rate / 20)
        Thread { [self] in
            let start = ContinuousClock.now
            var index = 0
            var pausedFor: Duration = .zero
            while index < lines.count {
                if self.progress.withLock({ $0.paused }) {
                    Thread.sleep(forTimeInterval: 0.05)
                    pausedFor += .milliseconds(50)
                    continue
                }
                let end = min(lines.count, index + chunk)
                var bytes: [UInt8] = []
                for line in lines[index..<end] {
                    bytes += line
                    bytes.append(0x0A)
                }
                do {
                    try input.write(contentsOf: bytes)
                } catch {
                    self.progress.withLock { $0.failure = "\(error)" }
                    break
                }
                index = end
                self.progress.withLock { $0.fed = index }
                let due = start + pausedFor + .milliseconds(index * 1000 / max(1, rate))
                let wait = due - ContinuousClock.now
                if wait > .zero { Thread.sleep(forTimeInterval: Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18) }
            }
            try? input.close()
            self.progress.withLock { $0.done = true }
        }.start()
    }

    var fed: Int { progress.withLock { $0.fed } }
    /// Stops or resumes feeding (lines are held back, not dropped).
    func pause(_ paused: Bool) { progress.withLock { $0.paused = paused } }
    var isDone: Bool { progress.withLock { $0.done } }
    var failure: String? { progress.withLock { $0.failure } }
}
