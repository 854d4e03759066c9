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
    }
}
