import Foundation
import Testing

/// `loupe learn` killed with SIGKILL at random points and restarted ends in exactly the state of
/// an uninterrupted run; `loupe replay` of a learner that learned while events kept arriving
/// equals it.
@Suite(.serialized) struct LearnerCrashTests {
    static func checksum(_ log: [String]) throws -> String {
        try LoupeProcess.run(["store", "checksum"] + log).lines.last ?? ""
    }

    /// A log with `events` generated events (seed 17) and a data directory for the store.
    static func producedLog(_ backend: LoupeProcess.Backend, events: Int) throws -> [String] {
        let log = try LoupeProcess.isolatedLog(backend)
        try LoupeProcess.run(["topics", "apply"] + log)
        let generated = try LoupeProcess.run(["generate", "--events", String(events), "--seed", "17", "--users", "5000", "--items", "800"])
        try LoupeProcess.run(["produce"] + log, stdin: generated.stdout)
        return log
    }

    @Test func killedFiveTimesEndsLikeAnUninterruptedRun() throws {
        let steady = try Self.producedLog(.kafka, events: 200_000)
        let crashy = try Self.producedLog(.kafka, events: 200_000)
        try LoupeProcess.run(["learn", "--until-end"] + steady)
        let expected = try Self.checksum(steady)

        var random = SystemRandomNumberGenerator()
        var kills = 0
        while kills < 5 {
            let learner = Process()
            learner.executableURL = URL(fileURLWithPath: LoupeProcess.binary)
            learner.arguments = ["learn", "--until-end"] + crashy
            learner.standardError = FileHandle.nullDevice
            try learner.run()
            usleep(UInt32.random(in: 200_000...800_000, using: &random))
            if learner.isRunning {
                kill(learner.processIdentifier, SIGKILL)
                learner.waitUntilExit()
                #expect(learner.terminationReason == .uncaughtSignal)
                kills += 1
            } else {
                // It finished before the kill: start over from a fresh store.
                learner.waitUntilExit()
                Issue.record("the learner finished before kill \(kills + 1); the test needs a slower run")
                return
            }
        }
        try LoupeProcess.run(["learn", "--until-end"] + crashy)
        #expect(try Self.checksum(crashy) == expected)
    }

    @Test(arguments: LoupeProcess.Backend.allCases)
    func replayOfALearnerThatLearnedWhileEventsArrivedEqualsIt(backend: LoupeProcess.Backend) throws {
        let log = try LoupeProcess.isolatedLog(backend)
        try LoupeProcess.run(["topics", "apply"] + log)
        let generated = try LoupeProcess.run(["generate", "--events", "40000", "--seed", "23"]).lines

        // A live learner (no --until-end) while the events arrive in four parts.
        let learner = Process()
        learner.executableURL = URL(fileURLWithPath: LoupeProcess.binary)
        learner.arguments = ["learn"] + log
        learner.standardError = FileHandle.nullDevice
        try learner.run()
        for part in 0..<4 {
            let slice = generated[part * 10_000..<(part + 1) * 10_000]
            try LoupeProcess.run(["produce"] + log, stdin: Data(slice.joined(separator: "\n").utf8))
            usleep(300_000)
        }
        sleep(2)
        learner.terminate()
        learner.waitUntilExit()
        #expect(learner.terminationStatus == 0, "SIGTERM finishes the current batch and exits cleanly")

        let data = log[log.firstIndex(of: "--data")! + 1]
        let rebuilt = NSTemporaryDirectory() + "loupe-replay-\(UUID().uuidString)"
        var replayLog = log
        replayLog[replayLog.firstIndex(of: "--data")! + 1] = rebuilt
        try LoupeProcess.run(["replay", "--log-data", data] + replayLog)
        #expect(try Self.checksum(replayLog) == Self.checksum(log))
    }
}
