import Foundation
import Testing

/// `loupe bench chaos` at a size CI affords: the learner SIGKILLed at random moments on both
/// backends, the broker restarted under a live producer and learner, and the store's file
/// hitting its size limit. The benchmark checks its invariants itself and exits 1 if one fails;
/// these tests run it and read its summary lines (docs/reliability.md has the full-size run).
@Suite(.serialized) struct ChaosTests {
    /// Runs `loupe bench chaos` with `arguments`; returns the summary lines of its scenarios.
    static func chaos(expectingSuccess: Bool = true, _ arguments: [String]) async throws -> [String] {
        let output = try await LoupeProcess.run(["bench", "chaos"] + arguments, expectSuccess: false)
        let report = String(decoding: output.stdout, as: UTF8.self)
        #expect(!expectingSuccess || output.status == 0, "loupe bench chaos \(arguments.joined(separator: " ")) exited \(output.status):\n\(report)\n\(output.stderr)")
        let lines = output.lines.filter { $0.hasPrefix("chaos ") }
        #expect(!lines.isEmpty, "loupe bench chaos printed no summary (exit \(output.status)):\n\(report)\n\(output.stderr)")
        return lines
    }

    static func brokers() throws -> String {
        guard let brokers = ProcessInfo.processInfo.environment["LOUPE_TEST_BROKERS"], !brokers.isEmpty else {
            throw TestSetupError(
                "LOUPE_TEST_BROKERS is not set: start the broker (ops/broker.sh start; export LOUPE_TEST_BROKERS=$(ops/broker.sh address)) or run ops/test.sh")
        }
        return brokers
    }

    /// The number after `name` in a summary line ("… lost 0, …").
    static func figure(_ name: String, in line: String) -> Int? {
        guard let range = line.range(of: name + " ") else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }

    @Test(arguments: LoupeProcess.Backend.allCases)
    func learnerKilledFourTimesEndsLikeAnUninterruptedRun(backend: LoupeProcess.Backend) async throws {
        var arguments = ["--scenario", "kill-learner", "--events", "60000", "--kills", "4", "--batch-size", "2048"]
        switch backend {
        case .embedded: arguments += ["--backend", "embedded"]
        case .kafka: arguments += ["--backend", "kafka", "--brokers", try Self.brokers()]
        }
        let lines = try await Self.chaos(arguments)
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.hasPrefix("chaos kill-learner \(backend):"))
        #expect(Self.figure("kills survived", in: line) == 4)
        #expect(Self.figure("lost", in: line) == 0)
        #expect(Self.figure("duplicated", in: line) == 0)
        #expect(Self.figure("dead-lettered", in: line) == 12, "60,000 events carry 12 poison lines")
        #expect(line.hasSuffix("PASSED"))
    }

    @Test func brokerRestartedUnderAProducerAndALearnerLosesAndDuplicatesNothing() async throws {
        // The scenario runs a broker of its own (it stops and restarts it) through this
        // repository's script; LOUPE_TEST_BROKERS is what says a broker can run here.
        _ = try Self.brokers()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("ops/broker.sh").path
        let lines = try await Self.chaos(expectingSuccess: false, [
            "--scenario", "broker-restart", "--events", "40000", "--restarts", "1", "--rate", "8000", "--batch-size", "2048",
            "--broker-script", script,
        ])
        let line = try #require(lines.first)
        #expect(Self.figure("lost", in: line) == 0)
        #expect(Self.figure("duplicated", in: line) == 0)
        #expect(Self.figure("accepted", in: line) == 40_000)
        // The local broker can lose a write it acknowledged when it is stopped (with SIGTERM),
        // such as a learner's batch record: the replay then cannot follow the live learner
        // (docs/reliability.md, "The broker stopped and restarted"). Kafka keeps acknowledged
        // writes; the scenario still fails when it happens, and this test says so.
        withKnownIssue("the local broker loses acknowledged writes across a restart", isIntermittent: true) {
            #expect(line.hasSuffix("PASSED"), "\(line)")
        }
    }

    @Test func storeFileAtItsLimitStopsTheLearnerClearlyAndMoreRoomLetsItFinish() async throws {
        let lines = try await Self.chaos([
            "--scenario", "store-full", "--brokers", try Self.brokers(), "--events", "60000", "--batch-size", "2048",
        ])
        let line = try #require(lines.first)
        #expect(Self.figure("lost", in: line) == 0)
        #expect(Self.figure("duplicated", in: line) == 0)
        #expect(line.hasSuffix("PASSED"))
    }
}
