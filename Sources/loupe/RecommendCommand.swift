import LoupeCLI
import LoupeConfig
import ArgumentParser
import Foundation
import LoupeEvents
import LoupeLMDB
import LoupeServing
import LoupeStore

struct Recommend: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the top k for every user (or a list of users) as JSON lines.",
        discussion: """
            Batch inference from one snapshot of one model in the state store under --data \
            (--model, default inference.model; opened read-only, so `loupe learn` may keep \
            writing): each user gets the list \
            GET /v1/users/{id}/recommendations would give (candidates, filters, rerank, MMR; the \
            cache is not used), one JSON line per user, in user id order for --all and in file \
            order for --users:

              {"user_id":"u-1","items":[{"item_id":"f-7","score":0.83,"reason":"personalized"}],"model_id":"online-bpr","model_version":"1"}

            The output is written to a temporary file beside --out and renamed when complete, \
            so a failed run leaves no partial file. Progress (users done, rate, ETA) is shown \
            on standard error when it is a terminal; a summary line is always printed there.

            Examples:
              loupe recommend --all --out recommendations.jsonl
              loupe recommend --users ids.txt --k 20 --out some.jsonl --data /var/lib/loupe
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("The model to serve, as id@version (default: inference.model).", valueName: "id@version"))
    var model: String?

    @Flag(help: "Recommend for every user in the store.")
    var all = false

    @Option(help: ArgumentHelp("A file of user ids, one per line (instead of --all).", valueName: "file"))
    var users: String?

    @Option(help: ArgumentHelp("Where to write the JSON lines.", valueName: "file"))
    var out: String

    @Option(help: ArgumentHelp("Items per user (default: inference.num_recommendations).", valueName: "n"))
    var k: Int?

    @Option(help: ArgumentHelp("Users per chunk handed to the recommender.", valueName: "n"))
    var chunkSize = 4_096

    @Option(help: ArgumentHelp("single (each user's pipeline in parallel) or batch (one matrix-product scan per block of users).", valueName: "strategy"))
    var strategy: BatchInference.Strategy = .single

    func validate() throws {
        guard all != (users != nil) else { throw ValidationError("give exactly one of --all and --users FILE") }
        if let k, k < 1 { throw ValidationError("--k must be at least 1, got \(k)") }
        guard chunkSize >= 1 else { throw ValidationError("--chunk-size must be at least 1") }
    }

    func run() throws {
        let configuration = try global.loadConfiguration()
        let k = k ?? configuration.inference.numRecommendations
        guard k <= configuration.inference.maxRecommendations else {
            throw CLIError("--k \(k) exceeds inference.max_recommendations (\(configuration.inference.maxRecommendations))")
        }
        let ids = try users.map(Self.readUserIds)
        var settings = configuration.inference
        settings.cacheMaxMB = 0
        if let model {
            do {
                settings.model = try ModelKey(parsing: model)
            } catch {
                throw ValidationError("--model: \(error)")
            }
        }
        // Batch inference serves one model, not the experiment's variants.
        settings.variants = ["batch": 1]
        settings.variantModels = [:]
        let recommender = try Recommender(directory: configuration.log.data, settings: settings)
        let status = recommender.status
        guard status.ready else {
            throw CLIError(
                "nothing to recommend from in \(configuration.log.data)/state: \(status.reason ?? "not ready"); run `loupe learn` first")
        }
        let modelVersion = settings.model.description
        let userIds = try ids ?? recommender.userIds()

        // Every core already runs a user's pipeline of its own; BLAS threads would only contend.
        if strategy == .single { BLASThreads.set(1) }
        let output = try AtomicOutputFile(path: out)
        let progress = ProgressReporter("recommend", total: userIds.count)
        let start = ContinuousClock.now
        do {
            try BatchInference(recommender: recommender, strategy: strategy, chunkSize: chunkSize).run(
                userIds: userIds, k: k, write: output.write, progress: { progress.update($0) })
            try output.commit()
        } catch {
            output.discard()
            progress.finish()
            throw error
        }
        progress.finish()
        let elapsed = start.duration(to: .now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let rate = seconds > 0 ? Int(Double(userIds.count) / seconds) : userIds.count
        FileHandle.standardError.write(
            Data(
                "recommend: \(userIds.count) users, k \(k), \(String(format: "%.1f", seconds)) s (\(rate) users/s), \(modelVersion) → \(out)\n"
                    .utf8))
    }

    /// Non-empty lines of `path`, trimmed of surrounding spaces and a trailing CR.
    static func readUserIds(_ path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("cannot read --users \(path): \(FileManager.default.fileExists(atPath: path) ? "not readable" : "no such file")")
        }
        return String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
    }
}

/// A file written under a temporary name beside its destination and renamed into place by
/// `commit()`, so readers never see a partial file and a failed run leaves none behind.
final class AtomicOutputFile {
    let path: String
    private let temporaryPath: String
    private var descriptor: Int32

    init(path: String) throws {
        self.path = path
        let url = URL(fileURLWithPath: path)
        temporaryPath = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp").path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw CLIError("cannot write \(path): it is a directory")
        }
        descriptor = PrivateFiles.open(temporaryPath, flags: O_WRONLY | O_TRUNC)
        guard descriptor >= 0 else {
            throw CLIError("cannot write \(path): \(String(cString: strerror(errno))) (creating \(temporaryPath))")
        }
    }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw CLIError("writing \(temporaryPath) failed: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    /// Flushes to disk and renames into place.
    func commit() throws {
        guard fsync(descriptor) == 0, close(descriptor) == 0 else {
            throw CLIError("writing \(temporaryPath) failed: \(String(cString: strerror(errno)))")
        }
        descriptor = -1
        guard rename(temporaryPath, path) == 0 else {
            throw CLIError("cannot rename \(temporaryPath) to \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Removes the temporary file.
    func discard() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        unlink(temporaryPath)
    }
}

extension BatchInference.Strategy: ExpressibleByArgument {}
