import LoupeCLI
import LoupeConfig
import ArgumentParser
import Foundation
import LoupeBench

extension Bench {
    struct ServeLatency: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Latency and throughput of recommendations: top-k search, in-process and over HTTP.",
            discussion: """
                For each dimension: writes a store of --items items and --users users directly \
                (seeded random rows and records, not learned; timed and reported), then measures \
                (a) exact top-k search of single queries — ours, a plain sgemv + full sort \
                baseline, and FAISS IndexFlatIP when --python can import faiss \
                (ops/bench/faiss_topk.py); (b) single requests in-process, without and with a \
                simulated learner writing into the same store and refresh() every \
                inference.snapshot_refresh_ms; (c) requests over HTTP on loopback to the \
                in-process `loupe serve` application at each --concurrency. The store lives in \
                a temporary directory and is removed afterwards (about 1 GB at d = 128 when built, \
                about 2 GB after the simulated learner's commits).

                --slow-clients N adds a run (c3) of the HTTP load while N slow clients attack \
                the server: half open a connection and send nothing, half trickle a request head \
                that never ends; each reopens as soon as the server closes it. It reports 5xx \
                responses, latency, and the process's open file descriptors before, during and \
                after. The server uses the configuration's server: section (idle_timeout_ms, \
                request_timeout_ms, max_connections).

                Example:
                  loupe bench serve --dimensions 64,128 --python /tmp/faiss-venv/bin/python
                  loupe bench serve --dimensions 64 --concurrency 1,8 --slow-clients 256
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "Items in the generated store.")
        var items = 50_000

        @Option(help: "Users in the generated store.")
        var users = 1_000_000

        @Option(help: "Embedding dimensions to measure, comma-separated.")
        var dimensions = "64,128"

        @Option(help: "Sequential in-process requests per measurement.")
        var requests = 5_000

        @Option(help: "Single queries for the top-k comparison.")
        var queries = 1_000

        @Option(help: "Seconds of HTTP load per concurrency level.")
        var duration = 10.0

        @Option(help: "HTTP client connections (concurrent requests), comma-separated.")
        var concurrency = "1,8,32,64"

        @Option(help: "Python interpreter for the FAISS comparison (default: .venv/bin/python if present, else python3).")
        var python: String?

        @Option(help: ArgumentHelp("Build the stores in DIR/d<dimension> and keep them (for `loupe recommend --data DIR/d64/data`).", valueName: "dir"))
        var keepStore: String?

        @Option(help: "Slow clients attacking the server during an extra HTTP run (0: no such run).")
        var slowClients = 0

        func validate() throws {
            guard items >= 1_000, users >= 1_000 else { throw ValidationError("--items and --users must be at least 1000") }
            guard requests >= 100, queries >= 100 else { throw ValidationError("--requests and --queries must be at least 100") }
            guard duration > 0 else { throw ValidationError("--duration must be positive") }
            guard (0...4_096).contains(slowClients) else { throw ValidationError("--slow-clients must be 0…4096") }
        }

        func run() throws {
            let configuration = try global.loadConfiguration()
            var options = ServeBenchmark.Options()
            options.items = items
            options.users = users
            options.dimensions = try Self.integers(dimensions, option: "--dimensions")
            options.concurrency = try Self.integers(concurrency, option: "--concurrency")
            options.requests = requests
            options.topKQueries = queries
            options.duration = .milliseconds(Int(duration * 1_000))
            options.storeDirectory = keepStore
            options.slowClients = slowClients
            options.python = python ?? (FileManager.default.isExecutableFile(atPath: ".venv/bin/python") ? ".venv/bin/python" : "python3")
            let progress = ProgressBox()
            try ServeBenchmark.run(
                options, inference: configuration.inference, server: configuration.server,
                print: { line in
                    progress.finish()
                    // Unbuffered, so a redirected report shows each phase as it finishes.
                    FileHandle.standardOutput.write(Data((line + "\n").utf8))
                },
                progress: { label, done, total in progress.update(label, done, total) })
        }

        static func integers(_ text: String, option: String) throws -> [Int] {
            try text.split(separator: ",").map { part in
                guard let value = Int(part.trimmingCharacters(in: .whitespaces)), value > 0 else {
                    throw ValidationError("\(option) takes positive integers, such as 64,128")
                }
                return value
            }
        }
    }

    /// One progress line at a time, for the benchmark's phases.
    private final class ProgressBox {
        private var reporter: ProgressReporter?
        private var label = ""

        func update(_ label: String, _ done: Int, _ total: Int) {
            if reporter == nil || label != self.label {
                reporter?.finish()
                reporter = ProgressReporter(label, total: total)
                self.label = label
            }
            reporter?.update(done)
        }

        func finish() {
            reporter?.finish()
            reporter = nil
        }
    }
}
