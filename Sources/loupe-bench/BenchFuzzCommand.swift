import LoupeCLI
import LoupeConfig
import LoupeKafka
import LoupeEmbeddedLog
import ArgumentParser
import Foundation
import LoupeBench
import LoupeEvents
import LoupeLog

extension Bench {
    struct Fuzz: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fuzz",
            abstract: "Fuzz every way in: mutated events through produce, HTTP and a raw producer; count every one.",
            discussion: """
                Generates a synthetic world and mutates its events (bytes, types, lengths, Unicode, \
                numbers, nesting, keys, event types), then sends a third each through `loupe \
                produce`, `POST /v1/events` on an in-process server, and a raw producer straight \
                into the client topics, as any Kafka client could. A learner then folds the log. \
                Every input must be accounted for: accepted + dead-lettered = sent; lost, \
                duplicated and 5xx responses must be 0. Exits non-zero when any is not. Runs in a \
                fresh embedded log, or (with --brokers) in fresh Kafka topics under a unique prefix. \
                Figures go to docs/reliability.md.

                Example:
                  loupe bench fuzz --inputs 300000
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "How many mutated inputs to send (a third through each path).")
        var inputs = 30_000

        @Option(help: "Seed of the world and of the mutations.")
        var seed: UInt64 = 1

        func validate() throws {
            guard inputs >= 3 else { throw ValidationError("--inputs must be at least 3") }
        }

        func run() throws {
            let settings = try global.loadConfiguration().log
            let directory = NSTemporaryDirectory() + "loupe-fuzz-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            var options = FuzzBenchmark.Options(
                loupeBinary: try Self.executable(), logArguments: ["--data", directory + "/data"], storeDirectory: directory + "/store")
            let log: any EventLog
            if let brokers = settings.brokers {
                let prefix = "fuzz-\(UUID().uuidString.prefix(8).lowercased())."
                try "log:\n  topic_prefix: \"\(prefix)\"\n".write(toFile: directory + "/loupe.yaml", atomically: true, encoding: .utf8)
                options.logArguments = ["--brokers", brokers, "--config", directory + "/loupe.yaml"]
                log = NamespacedLog(try KafkaLog(brokers: brokers, properties: settings.kafka), prefix: prefix)
            } else {
                log = try EmbeddedLog(directory: directory + "/data")
            }
            _ = try log.apply(TopicDefinitions.builtIn)
            options.inputs = inputs
            options.seed = seed
            print("bench fuzz: \(inputs) inputs, seed \(seed), \(log.description)")
            let report = try FuzzBenchmark.run(log: log, options: options) { line in
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
            for line in report.lines { print(line) }
            guard report.holds else { throw ExitCode.failure }
        }

        /// The `loupe` beside this benchmark executable, which `produce` runs as.
        static func executable() throws -> String {
            try Bench.loupeExecutable()
        }
    }
}
