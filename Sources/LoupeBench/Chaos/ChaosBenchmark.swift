import Foundation
import LoupeEvents

/// `loupe bench chaos`: faults injected into real `loupe` processes — the learner killed with
/// SIGKILL, the broker stopped and restarted under a live producer and learner, the store's file
/// hitting its size limit — each run counting what was sent, accepted, dead-lettered, lost and
/// duplicated (docs/reliability.md).
///
/// Every scenario works in fresh logs and stores under `directory` and runs `executable` (the
/// `loupe` binary) as separate processes, as an operator would.
public struct ChaosBenchmark {
    let runner: LoupeRunner
    let directory: String
    /// The lines every scenario sends: generated events with a poison line every `poisonEvery`.
    let lines: [[UInt8]]
    let linesPath: String
    /// The learners' `learner.batch_size`.
    let batchSize: Int
    /// Where progress messages go (standard error).
    let say: (String) -> Void

    /// A poison line (rejected by `loupe produce`) goes in after every `poisonEvery` events.
    public init(
        executable: String, directory: String, events: [[UInt8]], batchSize: Int, poisonEvery: Int = 5_000,
        say: @escaping (String) -> Void
    ) throws {
        self.directory = directory
        self.batchSize = batchSize
        self.say = say
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        runner = LoupeRunner(executable: executable, directory: directory)
        var lines: [[UInt8]] = []
        lines.reserveCapacity(events.count + events.count / max(1, poisonEvery) + 1)
        for (index, event) in events.enumerated() {
            lines.append(event)
            if (index + 1) % poisonEvery == 0 { lines.append(Self.poison(index / poisonEvery)) }
        }
        self.lines = lines
        linesPath = directory + "/events.jsonl"
        var text: [UInt8] = []
        for line in lines {
            text += line
            text.append(0x0A)
        }
        try Data(text).write(to: URL(fileURLWithPath: linesPath))
    }

    /// Three kinds of bad input in turn: broken JSON, an unknown event type, a missing field.
    static func poison(_ number: Int) -> [UInt8] {
        switch number % 3 {
        case 0: Array("{\"event_type\": \"click\", \"event_id\": \"poison-\(number)\"".utf8)
        case 1: Array("{\"event_type\": \"teleport\", \"event_id\": \"poison-\(number)\", \"user_id\": \"u1\"}".utf8)
        default: Array("{\"event_type\": \"click\", \"event_id\": \"poison-\(number)\", \"schema_version\": 1}".utf8)
        }
    }

    /// `loupe topics apply`, then `loupe produce --file` of every line; returns what produce
    /// reported as accepted and rejected.
    func produceAll(into subject: ChaosSubject) throws -> (accepted: Int, rejected: Int) {
        try runner.run(["topics", "apply"] + subject.options, label: "\(subject.name)-topics")
        let produce = try runner.run(["produce", "--file", linesPath] + subject.options, label: "\(subject.name)-produce")
        guard let summary = Self.produceSummary(produce.standardError) else {
            throw ChaosError("loupe produce printed no summary: \(produce.standardError)")
        }
        return summary
    }

    /// Reads "produce: A accepted, R rejected" from `loupe produce`'s standard error.
    static func produceSummary(_ text: String) -> (accepted: Int, rejected: Int)? {
        for line in text.split(separator: "\n") where line.hasPrefix("produce: ") {
            let words = line.split(separator: " ")
            guard words.count >= 5, let accepted = Int(words[1]), let rejected = Int(words[3]) else { continue }
            return (accepted, rejected)
        }
        return nil
    }

    /// The count in the first "re-applied N recorded batch(es)" that `loupe learn` printed, or 0.
    static func reappliedBatches(_ text: String) -> Int {
        guard let range = text.range(of: "re-applied ") else { return 0 }
        return Int(text[range.upperBound...].prefix { $0.isNumber }) ?? 0
    }

    /// How many lines are valid events, and their distinct event ids.
    func sentEvents() -> (valid: Int, ids: Set<String>) {
        var valid = 0
        var ids = Set<String>()
        for line in lines {
            guard let event = try? EventCodec.decode(line) else { continue }
            valid += 1
            ids.insert(event.eventId)
        }
        return (valid, ids)
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
