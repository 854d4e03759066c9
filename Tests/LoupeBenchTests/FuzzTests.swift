import LoupeConcurrency
import LoupeKafka
import LoupeEmbeddedLog
import Foundation
import LoupeBench
import LoupeEvents
import LoupeLog
import Testing

/// The ingest fuzz run at a size CI affords (`loupe bench fuzz` runs it at full size): every
/// mutated input sent through `loupe produce`, HTTP and a raw producer is accepted or
/// dead-lettered, none lost or duplicated, no 5xx, and the learner folds the log to its end.
@Suite(.serialized) struct FuzzTests {
    enum Backend: String, CaseIterable { case embedded, kafka }

    @Test(arguments: Backend.allCases)
    func everyMutatedInputIsAccountedFor(backend: Backend) async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let binary = environment["LOUPE_BIN"], FileManager.default.isExecutableFile(atPath: binary) else {
            throw FuzzSetupError("LOUPE_BIN must name the release loupe binary (ops/test.sh sets it)")
        }
        let directory = NSTemporaryDirectory() + "loupe-fuzz-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = FuzzBenchmark.Options(loupeBinary: binary, logArguments: ["--data", directory + "/data"], storeDirectory: directory + "/store")
        options.inputs = 3_000
        options.seed = 11
        let log: any EventLog
        switch backend {
        case .embedded:
            log = try EmbeddedLog(directory: directory + "/data")
        case .kafka:
            guard let brokers = environment["LOUPE_TEST_BROKERS"], !brokers.isEmpty else {
                throw FuzzSetupError(
                    "LOUPE_TEST_BROKERS is not set: start the broker (ops/broker.sh start; export LOUPE_TEST_BROKERS=$(ops/broker.sh address)) or run ops/test.sh")
            }
            let prefix = "fz\(UUID().uuidString.prefix(8).lowercased())."
            try "log:\n  topic_prefix: \"\(prefix)\"\n".write(toFile: directory + "/loupe.yaml", atomically: true, encoding: .utf8)
            options.logArguments = ["--brokers", brokers, "--config", directory + "/loupe.yaml"]
            log = NamespacedLog(try KafkaLog(brokers: brokers, properties: [:]), prefix: prefix)
        }
        _ = try log.apply(TopicDefinitions.builtIn)
        // The benchmark waits for async work (`waitFor`): it runs on a thread of its own, never
        // on the cooperative pool, whose two threads (on two cores) it would otherwise block.
        let frozen = options
        let report = try await BlockingQueue(label: "fuzz").run { [log] in try FuzzBenchmark.run(log: log, options: frozen) }
        #expect(report.holds, "\(report.lines.joined(separator: "\n"))")
        #expect(report.sent == 3_000)
        #expect(report.accepted + report.deadLettered == report.sent)
        #expect(report.lost == 0 && report.duplicated == 0 && report.serverErrors == 0)
        // The mutations reach both outcomes on every path, for many reasons.
        for path in [report.produce, report.http, report.raw] {
            #expect(path.accepted > 100 && path.deadLettered > 100, "\(report.lines.joined(separator: "\n"))")
        }
        #expect(report.reasons.count >= 8, "\(report.reasons)")
        #expect(report.learnerRecords == report.produce.accepted + report.http.accepted + report.raw.sent)
    }
}

struct FuzzSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
