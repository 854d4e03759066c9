import LoupeCLI
import LoupeHTTP
import LoupeLogBackends
import ArgumentParser
import Dispatch
import Foundation
import LoupeConcurrency
import LoupeConfig
import LoupeLog
import LoupeServing
import LoupeStore

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve recommendations over HTTP from the learned state.",
        discussion: """
            Answers GET /v1/users/{id}/recommendations and GET /v1/items/{id}/similar from \
            snapshots of the state store under --data (opened read-only, so `loupe learn` can \
            keep writing from another process), accepts POST /v1/events into the log, writes \
            every served list to the impressions topic, and exposes /healthz, /readyz and \
            /metrics. Routes and bodies: docs/openapi.yaml; details: docs/serving.md.

            Write routes need a bearer token: set server.api_token in --config or the \
            environment variable LOUPE_API_TOKEN (which wins). Without one they answer 403. \
            When the store does not exist yet, serve waits up to --wait-for-store seconds for \
            the learner to create it. SIGINT or SIGTERM stops it gracefully: requests in \
            flight finish and queued impressions are written first.

            Example:
              loupe topics apply
              loupe generate --events 100000 | loupe produce
              loupe learn --until-end
              LOUPE_API_TOKEN=secret loupe serve --port 8080
              curl 'http://127.0.0.1:8080/v1/users/u-1/recommendations?k=5'
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Address to listen on (default: server.host, 127.0.0.1).", valueName: "host"))
    var host: String?

    @Option(help: ArgumentHelp("Port to listen on; 0 picks a free one (default: server.port, 8080).", valueName: "port"))
    var port: Int?

    @Option(help: ArgumentHelp("Seconds to wait for the state store to appear; 0 fails at once.", valueName: "seconds"))
    var waitForStore = 60

    func validate() throws {
        if let port, !(0...65_535).contains(port) { throw ValidationError("--port must be 0…65535, got \(port)") }
        if waitForStore < 0 { throw ValidationError("--wait-for-store must be ≥ 0") }
    }

    func run() throws {
        var configuration = try global.loadConfiguration()
        if let host { configuration.server.host = host }
        if let port { configuration.server.port = port }
        let log = try LogFactory.open(configuration.log)
        try Self.waitForStore(directory: configuration.log.data, waitSeconds: waitForStore)
        // Requests already run on every core: BLAS threads inside one request only contend
        // with them (docs/benchmarks.md, bench serve).
        BLASThreads.set(1)
        let recommender = try Recommender(directory: configuration.log.data, settings: configuration.inference)
        let server = try HTTPServer(
            service: recommender, log: log,
            settings: HTTPSettings(server: configuration.server, inference: configuration.inference),
            refresh: { try recommender.refresh() })
        let metrics = server.metrics
        recommender.observeScoringPasses { requests, _ in metrics.recordRetrievalScan(requests: requests) }
        try waitFor { try await server.run() }
    }

    /// Returns once the learner has created the store (its models may come later: the server
    /// reports a variant's model not ready until it exists).
    static func waitForStore(directory: String, waitSeconds: Int) throws {
        let deadline = Date(timeIntervalSinceNow: TimeInterval(waitSeconds))
        var announced = false
        while true {
            do {
                _ = try StateStore.models(directory: directory)
                return
            } catch StoreError.storeNotFound(let path) {
                guard Date() < deadline else {
                    throw CLIError(
                        "no state store at \(path)\(waitSeconds > 0 ? " after \(waitSeconds) s" : ""): run `loupe learn` with the same --data first"
                    )
                }
                if !announced {
                    FileHandle.standardError.write(
                        Data("serve: waiting up to \(waitSeconds) s for `loupe learn` to create \(path)\n".utf8))
                    announced = true
                }
                Thread.sleep(forTimeInterval: 0.25)
            }
        }
    }
}
