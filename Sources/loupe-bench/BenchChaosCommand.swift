import LoupeCLI
import LoupeConcurrency
import LoupeConfig
import ArgumentParser
import Foundation
import LoupeBench
import LoupeEvents

extension Bench {
    struct Chaos: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "chaos",
            abstract: "Inject faults into real loupe processes and count that nothing is lost or duplicated.",
            discussion: """
                Scenarios (docs/reliability.md), each in fresh logs and stores of a temporary \
                directory, each sending the generated events with a poison line every 5,000:

                  kill-learner    loupe learn --until-end SIGKILLed --kills times at random \
                moments and restarted, then compared with an uninterrupted run (per backend).
                  broker-restart  a broker of the benchmark's own (run through --broker-script) \
                stopped and restarted --restarts times while loupe produce reads events from a \
                pipe at --rate lines/s and a live loupe learn folds them.
                  store-full      the learner limited to files of half the size its store reaches \
                (prlimit --fsize, as a full disk), then run again without the limit; needs \
                --brokers (with the embedded log, the log's own file would fill first).

                Each scenario prints events sent, accepted, dead-lettered, lost and duplicated \
                and kills survived; the exit status is 1 if any invariant failed. --brokers adds \
                the Kafka backend to kill-learner. The run directory is kept when \
                a scenario fails.

                Example:
                  loupe bench chaos --brokers 127.0.0.1:9092 --events 500000 --kills 20
                """
        )

        enum Scenario: String, ExpressibleByArgument, CaseIterable {
            case killLearner = "kill-learner"
            case brokerRestart = "broker-restart"
            case storeFull = "store-full"
            case all
        }

        @OptionGroup var global: GlobalOptions

        @Option(help: "Scenario to run (repeatable): kill-learner, broker-restart, store-full or all.")
        var scenario: [Scenario] = [.all]

        @Option(help: "embedded, kafka or both, for kill-learner (default: both with --brokers, else embedded).")
        var backend: LogThroughput.Backend?

        @Option(help: "Generated events each scenario sends.")
        var events = 500_000

        @Option(help: "SIGKILLs of the learner per backend.")
        var kills = 20

        @Option(help: "Broker restarts in broker-restart.")
        var restarts = 2

        @Option(help: "Lines per second fed to loupe produce in broker-restart.")
        var rate = 20_000

        @Option(help: "Seconds the producer is quiet before each broker restart (0: restart under load).")
        var quietSeconds = 3.0

        @Option(help: "learner.batch_size of the learners under test.")
        var batchSize = 8_192

        @Option(help: ArgumentHelp("ops/broker.sh of this repository, which broker-restart runs its broker with.", valueName: "path"))
        var brokerScript = "ops/broker.sh"

        @Option(help: "Seed of the generated world.")
        var seed: UInt64 = 42

        func validate() throws {
            guard events >= 1_000 else { throw ValidationError("--events must be at least 1000") }
            guard kills >= 1, restarts >= 1, rate >= 100, batchSize >= 1 else {
                throw ValidationError("--kills and --restarts must be at least 1, --rate at least 100, --batch-size at least 1")
            }
            if backend == .kafka || backend == .both, global.brokers == nil {
                throw ValidationError("--backend \(backend!.rawValue) needs --brokers")
            }
            if scenario.contains(.storeFull), global.brokers == nil {
                throw ValidationError("--scenario store-full needs --brokers")
            }
        }

        func run() throws {
            // A child that exits while the benchmark writes to its pipe must not kill the benchmark.
            signal(SIGPIPE, SIG_IGN)
            let brokers = try global.loadConfiguration().log.brokers
            let chosen = backend ?? (brokers == nil ? .embedded : .both)
            var backends: [String?] = []
            if chosen == .embedded || chosen == .both { backends.append(nil) }
            if chosen == .kafka || chosen == .both, let brokers { backends.append(brokers) }
            let scenarios = scenario.contains(.all) ? [.killLearner, .brokerRestart, .storeFull] : scenario
            if scenarios.contains(.brokerRestart), !FileManager.default.isExecutableFile(atPath: brokerScript) {
                throw ValidationError("--broker-script \(brokerScript) is not an executable file; run from the repository root or pass its path")
            }

            let directory = NSTemporaryDirectory() + "loupe-chaos-\(UUID().uuidString.prefix(8))"
            let executable = try Bench.loupeExecutable()
            let chaos = try ChaosBenchmark(
                executable: executable, directory: directory, events: try Bench.generatedLines(events: events, seed: seed),
                batchSize: batchSize
            ) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
            print("bench chaos: \(events) events (seed \(seed)) and a poison line every 5000, learner.batch_size \(batchSize), \(usableCores) usable core(s)")
            var results: [ChaosFigures] = []
            func record(_ figures: ChaosFigures) {
                results.append(figures)
                print(figures.report, terminator: "")
            }
            do {
                for scenario in scenarios {
                    switch scenario {
                    case .killLearner:
                        for brokers in backends { record(try chaos.killLearner(brokers: brokers, kills: kills)) }
                    case .brokerRestart:
                        record(try chaos.restartBroker(script: brokerScript, restarts: restarts, rate: rate, quietSeconds: quietSeconds))
                    case .storeFull:
                        guard let brokers else {
                            print("chaos store-full: NOT RUN: it needs --brokers (with the embedded log, the log's own file would fill first)")
                            continue
                        }
                        record(try chaos.fillStore(brokers: brokers))
                    case .all:
                        break
                    }
                }
            } catch {
                print("bench chaos: FAILED: \(error); the run's logs, stores and process output are in \(directory)")
                throw ExitCode.failure
            }
            if results.allSatisfy(\.passed) {
                try? FileManager.default.removeItem(atPath: directory)
                print("bench chaos: every invariant held")
            } else {
                print("bench chaos: FAILED; the run's logs, stores and process output are in \(directory)")
                throw ExitCode.failure
            }
        }
    }
}
