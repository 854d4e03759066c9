import Foundation
import LoupeEvents
import Testing

/// `loupe tail` as a user runs it: groups resume where they left off, `--until-end` stops at
/// the end as it was at start, `--since` seeks by time.
@Suite struct TailTests {
    @Test(arguments: LoupeProcess.Backend.allCases)
    func groupResumesFromItsCommittedPosition(backend: LoupeProcess.Backend) async throws {
        let log = try LoupeProcess.isolatedLog(backend)
        try await LoupeProcess.run(["topics", "apply"] + log)
        let generated = try await LoupeProcess.run(["generate", "--events", "1500", "--seed", "21", "--items", "100"]).lines
        let feedback = generated.filter { (try? EventCodec.decode(Array($0.utf8)).topic) == .feedback }
        #expect(feedback.count > 20)
        let half = generated.count / 2
        try await LoupeProcess.run(["produce"] + log, stdin: Data(generated[..<half].joined(separator: "\n").utf8))

        let tail = ["tail", "--topic", "feedback", "--group", "readers", "--from-beginning", "--until-end"] + log
        let first = try await LoupeProcess.run(tail).lines
        #expect(try await LoupeProcess.run(tail).lines.isEmpty, "a second run of the group has nothing new")

        try await LoupeProcess.run(["produce"] + log, stdin: Data(generated[half...].joined(separator: "\n").utf8))
        let second = try await LoupeProcess.run(tail).lines
        let eventIds = try (first + second).map { try EventCodec.decode(Array($0.utf8)).eventId }
        let expected = try feedback.map { try EventCodec.decode(Array($0.utf8)).eventId }
        #expect(!first.isEmpty && !second.isEmpty)
        #expect(Set(eventIds) == Set(expected))
        #expect(eventIds.count == expected.count, "no record is printed twice")
    }

    @Test(arguments: LoupeProcess.Backend.allCases)
    func sinceSeeksByTimestamp(backend: LoupeProcess.Backend) async throws {
        let log = try LoupeProcess.isolatedLog(backend)
        try await LoupeProcess.run(["topics", "apply"] + log)
        let generated = try await LoupeProcess.run(["generate", "--events", "1500", "--seed", "22", "--items", "100"])
        try await LoupeProcess.run(["produce"] + log, stdin: generated.stdout)
        let sessions = try generated.lines.map { try EventCodec.decode(Array($0.utf8)) }.filter { $0.topic == .sessions }
        let cut = sessions[sessions.count / 2].timestamp
        let tailed = try await LoupeProcess.run(["tail", "--topic", "sessions", "--since", String(cut), "--until-end"] + log).lines
        let timestamps = try tailed.map { try EventCodec.decode(Array($0.utf8)).timestamp }
        #expect(timestamps.count == sessions.filter { $0.timestamp >= cut }.count)
        #expect(timestamps.allSatisfy { $0 >= cut })
    }

    @Test func badOptionsAreExplained() async throws {
        let both = try await LoupeProcess.run(["tail", "--topic", "x", "--from-beginning", "--since", "0"], expectSuccess: false)
        #expect(both.status != 0)
        #expect(both.stderr.contains("exclude each other"))
        let badTime = try await LoupeProcess.run(["tail", "--topic", "x", "--since", "yesterday"], expectSuccess: false)
        #expect(badTime.stderr.contains("ISO-8601"))
        let log = try LoupeProcess.isolatedLog(.embedded)
        let missing = try await LoupeProcess.run(["tail", "--topic", "no-such-topic", "--until-end"] + log, expectSuccess: false)
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no-such-topic"))
    }
}
