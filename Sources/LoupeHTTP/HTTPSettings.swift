import LoupeServing
import Foundation
import LoupeConfig

/// What the HTTP API needs from the configuration's `server:` and `inference:` sections, with
/// the environment applied (docs/configuration.md).
public struct HTTPSettings: Sendable {
    public var host: String
    public var port: Int
    /// The bearer token of write routes (and of reads when `protectReads`); nil = writes refused.
    /// Descriptions of the settings never show it.
    @Redacted public var apiToken: String?
    public var protectReads: Bool
    public var maxBodyBytes: Int
    public var maxEventsPerRequest: Int
    /// `k` when a request gives none.
    public var defaultRecommendations: Int
    /// The largest `k` a request may ask for.
    public var maxRecommendations: Int
    /// How often the service moves to a newer store snapshot.
    public var snapshotRefreshInterval: Duration
    /// Impressions waiting to be written; when full, new ones are dropped and counted.
    public var impressionQueueCapacity: Int
    /// The longest an impression waits before its batch is written.
    public var impressionFlushInterval: Duration
    /// Attempts to write a batch of impressions before it is counted as failed (1 = no retry).
    public var impressionWriteAttempts: Int
    /// Wait before the first retry of a failed impression write; doubled for each further one.
    public var impressionRetryBackoff: Duration
    /// A connection on which nothing arrives for this long is closed (between requests, before a
    /// request's head is complete, between parts of its body).
    public var idleTimeout: Duration
    /// A request's body must arrive whole within this long of its head, or the connection is closed.
    public var requestTimeout: Duration
    /// Connections served at once; further ones wait in the listen backlog until one closes.
    public var maxConnections: Int
    /// How long `/readyz` reuses the last answer of the log.
    public var readinessCacheDuration: Duration
    /// How long `/readyz` and `/metrics` wait for the log to answer.
    public var logProbeTimeout: Duration

    /// - Parameter environment: `LOUPE_API_TOKEN`, when set and not empty, overrides `server.api_token`.
    public init(
        server: ServerSettings, inference: InferenceSettings, environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        host = server.host
        port = server.port
        if let token = environment["LOUPE_API_TOKEN"], !token.isEmpty {
            apiToken = token
        } else {
            apiToken = server.apiToken.flatMap { $0.isEmpty ? nil : $0 }
        }
        protectReads = server.protectReads
        maxBodyBytes = server.maxBodyBytes
        maxEventsPerRequest = server.maxEventsPerRequest
        maxRecommendations = max(1, inference.maxRecommendations)
        defaultRecommendations = min(max(1, inference.numRecommendations), maxRecommendations)
        snapshotRefreshInterval = .milliseconds(max(1, inference.snapshotRefreshMs))
        impressionQueueCapacity = max(1, server.impressionQueueCapacity)
        impressionFlushInterval = .milliseconds(max(1, server.impressionFlushMs))
        impressionWriteAttempts = max(1, server.impressionWriteAttempts)
        impressionRetryBackoff = .milliseconds(max(0, server.impressionRetryBackoffMs))
        idleTimeout = .milliseconds(max(1, server.idleTimeoutMs))
        requestTimeout = .milliseconds(max(1, server.requestTimeoutMs))
        maxConnections = max(1, server.maxConnections)
        readinessCacheDuration = .milliseconds(max(0, server.readinessCacheMs))
        logProbeTimeout = .milliseconds(max(1, server.logProbeTimeoutMs))
    }
}
