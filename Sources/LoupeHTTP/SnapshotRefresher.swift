import LoupeConcurrency
import LoupeServing
import Logging
import ServiceLifecycle

/// Moves the recommender to a newer store snapshot every `interval` (`inference.snapshot_refresh_ms`),
/// on a thread of its own. A failed refresh is logged and counted; the previous snapshot stays.
struct SnapshotRefresher: Service {
    let interval: Duration
    let refresh: @Sendable () throws -> Void
    let metrics: ServingMetrics
    let logger: Logger
    private let queue = BlockingQueue(label: "loupe.snapshot-refresh")

    init(interval: Duration, refresh: @escaping @Sendable () throws -> Void, metrics: ServingMetrics, logger: Logger) {
        self.interval = interval
        self.refresh = refresh
        self.metrics = metrics
        self.logger = logger
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
                do {
                    try await queue.run(refresh)
                } catch {
                    metrics.recordRefreshFailure()
                    logger.warning("snapshot refresh failed; still serving the previous snapshot: \(error)")
                }
            }
        }
    }
}
