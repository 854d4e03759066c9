import LoupeCLI
import UnixSignals
import LoupeLogBackends
import ArgumentParser
import Foundation
import LoupeConcurrency
import LoupeConfig
import LoupeLearning
import LoupeLog
import LoupeStore
import Logging
import ServiceLifecycle
import Synchronization

/// Unblocks SIGINT and SIGTERM: a process inherits its parent's signal mask, and a supervisor
/// that blocked them would otherwise leave SIGTERM pending forever.
func unblockStopSignals() {
    var signals = sigset_t()
    sigemptyset(&signals)
    for signalNumber in [SIGINT, SIGTERM] { sigaddset(&signals, signalNumber) }
    pthread_sigmask(SIG_UNBLOCK, &signals, nil)
}

struct Learn: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fold the log into the state store: the online learner.",
        discussion: """
            Reads catalog, face-analysis, sessions, interactions and feedback in a deterministic \
            order (docs/learning.md), updates user and item embeddings, and commits each batch \
            to the state store under --data together with the log positions it consumed, so a \
            restart — even after kill -9 — continues exactly where the last commit left off. \
            Without --until-end it runs until SIGINT or SIGTERM, finishing its current batch.

            Example:
              loupe topics apply
              loupe generate --events 100000 | loupe produce
              loupe learn --until-end
              loupe store stats
            """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Stop once the end of the log (as it is at start) has been learned.")
    var untilEnd = false

    func run() throws {
        let configuration = try global.loadConfiguration()
        let untilEnd = untilEnd
        let result = Mutex<OnlineLearner.Summary?>(nil)
        // The learner is a service of its own group, as the server is: SIGTERM or SIGINT shuts
        // the group down gracefully, and the learner finishes the batch it is on.
        let learner = RoleService(name: "learner") { shouldStop in
            let log = try LogFactory.open(configuration.log)
            let store = try StateStore(directory: configuration.log.data, model: configuration.learner.model)
            let learner = try OnlineLearner(store: store, log: log, settings: LearnerSettings(configuration.learner))
            let progress = ProgressReporter("learn")
            var reportedReplay = false
            let summary = try learner.learn(untilEnd: untilEnd, shouldStop: shouldStop) {
                // Said at once, not only in the final line: a learner killed later still told
                // how many recorded but uncommitted batches it re-applied (loupe bench chaos counts them).
                if !reportedReplay, $0.replayedBatches > 0 {
                    reportedReplay = true
                    progress.finish()
                    FileHandle.standardError.write(Data("learn: re-applied \($0.replayedBatches) recorded batch(es) first\n".utf8))
                }
                progress.update($0.records, detail: "\($0.batches) batches")
            }
            progress.finish()
            result.withLock { $0 = summary }
        }
        unblockStopSignals()
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: learner, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: Logger(label: "loupe.learn", factory: { _ in SwiftLogNoOpLogHandler() })))
        try waitFor { try await group.run() }
        guard let summary = result.withLock({ $0 }) else { throw CLIError("the learner stopped without a summary") }
        var report = "learn: \(summary.records) records in \(summary.batches) batches into \(configuration.log.data)/state"
        if summary.replayedBatches > 0 { report += " (first re-applied \(summary.replayedBatches) recorded batch(es))" }
        if summary.rejectedBatches > 0 {
            report += "; \(summary.rejectedBatches) record(s) on learner-batches were not this learner's batches and went to dead-letter"
        }
        FileHandle.standardError.write(Data((report + "\n").utf8))
    }
}

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild a learner's state from the log into a fresh store.",
        discussion: """
            Applies, in order, every batch the learner (learner.id in the configuration) \
            recorded in the learner-batches topic, into the state store under --data, which \
            must not exist yet. The result equals the live learner's state at its last batch: \
            compare with `loupe store checksum`. With the embedded log, --log-data names the \
            data directory that holds the log (default: --data).

            Example:
              loupe replay --data ./rebuilt --log-data ./loupe-data
              loupe store checksum --data ./rebuilt
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Data directory of the embedded log to replay (default: --data).", valueName: "dir"))
    var logData: String?

    func run() throws {
        var configuration = try global.loadConfiguration()
        let storeDirectory = configuration.log.data
        if FileManager.default.fileExists(atPath: storeDirectory + "/state") {
            throw CLIError("\(storeDirectory)/state already exists; replay builds a new store — choose an empty --data")
        }
        if let logData { configuration.log.data = logData }
        let log = try LogFactory.open(configuration.log)
        let store = try StateStore(directory: storeDirectory, model: configuration.learner.model)
        let learner = try OnlineLearner(store: store, log: log, settings: LearnerSettings(configuration.learner))
        let progress = ProgressReporter("replay")
        let summary = try learner.replay { progress.update($0.batches) }
        progress.finish()
        var report = "replay: \(summary.batches) batches into \(storeDirectory)/state"
        if summary.rejectedBatches > 0 {
            report += "; \(summary.rejectedBatches) record(s) on learner-batches were not this learner's batches (see dead-letter)"
        }
        FileHandle.standardError.write(Data((report + "\n").utf8))
    }
}
