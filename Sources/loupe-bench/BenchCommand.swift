import LoupeCLI
import LoupeConcurrency
import LoupeML
import LoupeConfig
import LoupeKafka
import LoupeEmbeddedLog
import ArgumentParser
import Foundation
import LoupeBench
import LoupeLearning
import LoupeEvents
import LoupeLog
import LoupeWorld

@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        // Run as `loupe bench …`, which hands its arguments to this executable.
        commandName: "loupe bench",
        abstract: "Measure Loupe's throughput (docs/benchmarks.md) and reliability under faults and fuzzing (docs/reliability.md).",
        discussion: """
            The benchmarks are their own executable, loupe-bench, beside loupe (the shipped \
            binary does not link them); `loupe bench …` runs it with the same arguments.
            """,
        subcommands: [LogThroughput.self, LearnThroughput.self, ServeLatency.self, Fuzz.self, Chaos.self]
    )

    /// The `loupe` beside this executable: the roles the fault benchmarks start and kill are
    /// the shipped binary's.
    static func loupeExecutable() throws -> String {
        let own = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let loupe = own.deletingLastPathComponent().appendingPathComponent("loupe").path
        guard FileManager.default.isExecutableFile(atPath: loupe) else {
            throw CLIError("\(loupe) is missing: the fault benchmarks run the loupe executable beside loupe-bench (swift build -c release)")
        }
        return loupe
    }

    struct LogThroughput: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "log",
            abstract: "Events per second through each log backend, produce and consume.",
            discussion: """
                Generates a synthetic world (not timed), then produces its events through \
                `EventIngestor` (validation and canonical JSON encoding, as `loupe produce`) and \
                consumes them back with JSON decoding and validation. The embedded log is \
                measured in a fresh temporary directory; Kafka (with --brokers) in fresh topics \
                under a unique `bench-…` prefix.

                Example:
                  loupe bench log --events 1000000 --brokers 127.0.0.1:9092
                """
        )

        enum Backend: String, ExpressibleByArgument, CaseIterable {
            case embedded, kafka, both
        }

        @OptionGroup var global: GlobalOptions

        @Option(help: "How many events to produce and consume.")
        var events = 1_000_000

        @Option(help: "embedded, kafka or both (default: both with --brokers, else embedded).")
        var backend: Backend?

        @Option(help: "Seed of the generated world.")
        var seed: UInt64 = 42

        func validate() throws {
            guard events >= 1_000 else { throw ValidationError("--events must be at least 1000") }
            if backend == .kafka || backend == .both, global.brokers == nil {
                throw ValidationError("--backend \(backend!.rawValue) needs --brokers")
            }
        }

        func run() throws {
            let settings = try global.loadConfiguration().log
            let chosen = backend ?? (settings.brokers == nil ? .embedded : .both)

            let lines = try Bench.generatedLines(events: events, seed: seed)
            let bytes = lines.reduce(0) { $0 + $1.count }
            print("bench log: \(events) events, \(bytes / 1_000_000) MB of JSON (mean \(bytes / events) bytes), seed \(seed)")
            print("machine: \(usableCores) usable core(s), \(ProcessInfo.processInfo.physicalMemory >> 30) GiB")

            var results: [(name: String, target: Int, result: LogBenchmark.Result)] = []
            if chosen == .embedded || chosen == .both {
                let directory = NSTemporaryDirectory() + "loupe-bench-\(UUID().uuidString)"
                defer { try? FileManager.default.removeItem(atPath: directory) }
                results.append(try measure(try EmbeddedLog(directory: directory), lines, name: "embedded", target: 200_000))
            }
            if chosen == .kafka || chosen == .both, let brokers = settings.brokers {
                let prefix = "bench-\(UUID().uuidString.prefix(8).lowercased())."
                let kafka = NamespacedLog(try KafkaLog(brokers: brokers, properties: settings.kafka), prefix: prefix)
                results.append(try measure(kafka, lines, name: "kafka", target: 100_000))
            }
            print("")
            print("backend   produce events/s  consume events/s  target (each way)  produce/target  consume/target")
            for (name, target, result) in results {
                let columns = [
                    name.padding(toLength: 10, withPad: " ", startingAt: 0),
                    String(Int(result.produceRate)).padding(toLength: 18, withPad: " ", startingAt: 0),
                    String(Int(result.consumeRate)).padding(toLength: 18, withPad: " ", startingAt: 0),
                    String(target).padding(toLength: 19, withPad: " ", startingAt: 0),
                    String(format: "%.2f", result.produceRate / Double(target)).padding(toLength: 16, withPad: " ", startingAt: 0),
                    String(format: "%.2f", result.consumeRate / Double(target)),
                ]
                print(columns.joined())
            }
        }

        /// Runs one backend; `target` is the issue's goal for this machine, in events/s each way.
        private func measure(_ log: any EventLog, _ lines: [[UInt8]], name: String, target: Int) throws -> (
            name: String, target: Int, result: LogBenchmark.Result
        ) {
            _ = try log.apply(TopicDefinitions.builtIn)
            let progress = ProgressReporter("bench \(log.description)", total: lines.count)
            let result = try LogBenchmark.run(log: log, lines: lines) { _, done in progress.update(done) }
            progress.finish()
            FileHandle.standardError.write(
                Data("\(log.description): produce \(Int(result.produceRate))/s (\(String(format: "%.2f", result.produceSeconds)) s), consume \(Int(result.consumeRate))/s (\(String(format: "%.2f", result.consumeSeconds)) s)\n".utf8))
            return (name, target, result)
        }
    }

    /// The events of a generated world as JSON lines (not timed by any benchmark).
    static func generatedLines(events: Int, seed: UInt64) throws -> [[UInt8]] {
        let progress = ProgressReporter("generate", total: events)
        let world = try SyntheticWorld(WorldConfiguration(seed: seed, users: max(2_000, events / 50), items: 2_000, events: events))
        var lines: [[UInt8]] = []
        lines.reserveCapacity(events)
        for event in world.events() {
            lines.append(EventCodec.encode(event))
            progress.update(lines.count)
        }
        progress.finish()
        return lines
    }

    struct LearnThroughput: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "learn",
            abstract: "Events per second from the log to committed state, and the time to replay them.",
            discussion: """
                For each backend and each dimension: produces a generated world into a fresh log \
                (not timed), runs the learner over it to the end (timed: reading, decoding, \
                learning, committing), then replays its recorded batches into a fresh store \
                (timed). Peak memory is the process's maximum resident set.

                Example:
                  loupe bench learn --events 1000000 --brokers 127.0.0.1:9092
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "How many events to learn.")
        var events = 1_000_000

        @Option(help: "Embedding dimensions to measure, comma-separated.")
        var dimensions = "64,128"

        @Option(help: "embedded, kafka or both (default: both with --brokers, else embedded).")
        var backend: LogThroughput.Backend?

        @Option(help: "Seed of the generated world.")
        var seed: UInt64 = 42

        func run() throws {
            let configuration = try global.loadConfiguration()
            let settings = configuration.log
            let chosen = backend ?? (settings.brokers == nil ? .embedded : .both)
            let sizes = try dimensions.split(separator: ",").map { text in
                guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value > 0 else {
                    throw ValidationError("--dimensions takes positive integers, such as 64,128")
                }
                return value
            }
            let lines = try Bench.generatedLines(events: events, seed: seed)
            print("bench learn: \(events) events, seed \(seed), \(usableCores) usable core(s)")
            print("batch size \(configuration.learner.batchSize) (learner.batch_size); CPU = user + system time while learning")
            print("backend   d    learn events/s  learn s  CPU s   replay s  target  learn/target")
            for dimension in sizes {
                var learner = LearnerSettings(configuration.learner)
                learner.model.dimension = dimension
                if chosen == .embedded || chosen == .both {
                    let directory = NSTemporaryDirectory() + "loupe-bench-learn-\(UUID().uuidString)"
                    defer { try? FileManager.default.removeItem(atPath: directory) }
                    let result = try LearnBenchmark.run(log: try EmbeddedLog(directory: directory), lines: lines, settings: learner, directory: directory)
                    report("embedded", result, target: 100_000)
                }
                if chosen == .kafka || chosen == .both, let brokers = settings.brokers {
                    let directory = NSTemporaryDirectory() + "loupe-bench-learn-\(UUID().uuidString)"
                    defer { try? FileManager.default.removeItem(atPath: directory) }
                    let prefix = "bench-\(UUID().uuidString.prefix(8).lowercased())."
                    let kafka = NamespacedLog(try KafkaLog(brokers: brokers, properties: settings.kafka), prefix: prefix)
                    report("kafka", try LearnBenchmark.run(log: kafka, lines: lines, settings: learner, directory: directory), target: nil)
                }
            }
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            print("peak memory (max resident set of this process): \(usage.ru_maxrss / 1024) MiB")
        }

        private func report(_ name: String, _ result: LearnBenchmark.Result, target: Int?) {
            let columns = [
                name.padding(toLength: 10, withPad: " ", startingAt: 0),
                String(result.dimension).padding(toLength: 5, withPad: " ", startingAt: 0),
                String(Int(result.learnRate)).padding(toLength: 16, withPad: " ", startingAt: 0),
                String(format: "%.2f", result.learnSeconds).padding(toLength: 9, withPad: " ", startingAt: 0),
                String(format: "%.2f", result.learnCPUSeconds).padding(toLength: 8, withPad: " ", startingAt: 0),
                String(format: "%.2f", result.replaySeconds).padding(toLength: 10, withPad: " ", startingAt: 0),
                (target.map(String.init) ?? "-").padding(toLength: 8, withPad: " ", startingAt: 0),
                target.map { String(format: "%.2f", result.learnRate / Double($0)) } ?? "-",
            ]
            print(columns.joined())
        }
    }
}
