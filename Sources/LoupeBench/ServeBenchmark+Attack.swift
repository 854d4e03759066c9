import Foundation
import LoupeConfig
import LoupeServing

extension ServeBenchmark {
    /// c3: the usual HTTP load at every concurrency level (the simulated learner still writing)
    /// while `options.slowClients` slow clients hold connections open; reports 5xx responses,
    /// latency against the documented bound, and this process's open file descriptors before,
    /// during and after the attack (client and server share the process, so the counts include
    /// the attack's and the load client's own sockets, given beside them).
    static func measureUnderAttack(
        port: Int, recommender: Recommender, options: Options, server: ServerSettings, print: (String) -> Void
    ) throws {
        print(
            "c3. c under a slow-client attack: \(options.slowClients) connections, half idle, half trickling a request head "
                + "(a header line a second), reopened as soon as the server closes them; server.idle_timeout_ms = \(server.idleTimeoutMs), "
                + "request_timeout_ms = \(server.requestTimeoutMs), max_connections = \(server.maxConnections)")
        let before = SlowClientAttack.openDescriptors()
        let attack = SlowClientAttack(port: port, connections: options.slowClients)
        // Let the attack connect before the load starts.
        Thread.sleep(forTimeInterval: 1)
        for concurrency in options.concurrency {
            let result = try load(
                port: port, recommender: recommender, workers: concurrency, duration: options.duration, users: options.users,
                k: options.k, seed: options.seed &+ 5_000 &+ UInt64(concurrency))
            print(
                String(format: "   concurrency %2d: %.0f requests/s, ", concurrency, result.requestsPerSecond) + result.latency.formatted
                    + ", \(result.serverErrors) 5xx, \(result.errors) errors in all"
                    + (result.firstError.map { " (first: \($0))" } ?? ""))
            if concurrency == 1 {
                print(
                    "     documented bound p99 ≤ 10 ms for single requests over HTTP: \(result.latency.p99 <= 10 ? "held" : "not held")")
            }
        }
        let statistics = attack.stop()
        // The server notices the closed attack connections on its event loops; give it a moment.
        Thread.sleep(forTimeInterval: 2)
        let after = SlowClientAttack.openDescriptors()
        print(
            "   attack: \(statistics.opened) connections opened, \(statistics.closedByServer) closed by the server (timeouts), "
                + "\(statistics.connectFailures) connects failed")
        print(
            "   open file descriptors of the process: before \(before), during at most \(statistics.mostDescriptors) "
                + "(\(statistics.attackSocketsAtMost) of them the attack's client sockets, up to \(options.concurrency.max() ?? 0) the load client's), "
                + "after \(after)")
    }
}
