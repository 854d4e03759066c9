import LoupeServing
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import LoupeLog
import Prometheus
import ServiceLifecycle

/// `loupe serve`'s HTTP API on a `RecommendationService` (docs/serving.md, docs/openapi.yaml).
///
/// Reads go to the service; `POST /v1/events` goes through `EventSink` into the log; every
/// served list is queued on `ImpressionWriter`. `makeApplication()` is what tests run in-process
/// (HummingbirdTesting); `run()` serves until SIGINT or SIGTERM, then shuts down gracefully:
/// in-flight requests finish, then queued impressions and events are flushed to the log.
public struct HTTPServer: Sendable {
    public let settings: HTTPSettings
    public let metrics: ServingMetrics
    let service: any RecommendationService
    let events: EventSink
    let impressions: ImpressionWriter
    let access: AccessControl
    let probe: LogProbe
    let log: any EventLog
    let refresh: (@Sendable () throws -> Void)?
    let logger: Logger

    /// - Parameters:
    ///   - log: where posted events and impressions are written, and whose reachability
    ///     `/readyz` and the consumer-lag metric report.
    ///   - registry: the Prometheus registry `/metrics` exposes.
    ///   - refresh: called every `settings.snapshotRefreshInterval`, off the event loops, to
    ///     move the service to a newer store snapshot; nil for none.
    public init(
        service: any RecommendationService, log: any EventLog, settings: HTTPSettings,
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), refresh: (@Sendable () throws -> Void)? = nil,
        logger: Logger = .service(label: "loupe.serve")
    ) throws {
        self.settings = settings
        self.service = service
        self.metrics = ServingMetrics(registry: registry)
        self.events = try EventSink(log: log)
        self.impressions = try ImpressionWriter(
            log: log, capacity: settings.impressionQueueCapacity, flushInterval: settings.impressionFlushInterval,
            writeAttempts: settings.impressionWriteAttempts, retryBackoff: settings.impressionRetryBackoff,
            metrics: metrics, logger: logger)
        self.access = AccessControl(token: settings.apiToken, protectReads: settings.protectReads)
        self.probe = LogProbe(log: log, timeout: settings.logProbeTimeout, freshFor: settings.readinessCacheDuration, logger: logger)
        self.log = log
        self.refresh = refresh
        self.logger = logger
    }

    /// - Parameter onListening: called with the port once the server listens (the one the
    ///   system picked when `settings.port` is 0).
    public func makeApplication(onListening: (@Sendable (Int) -> Void)? = nil) -> Application<RouterResponder<APIRequestContext>> {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: RequestObservationMiddleware(metrics: metrics))
        addRoutes(to: router)
        var services: [any Service] = []
        if let refresh {
            services.append(
                SnapshotRefresher(interval: settings.snapshotRefreshInterval, refresh: refresh, metrics: metrics, logger: logger))
        }
        // Services stop in reverse order after the server: events, then impressions are flushed.
        services.append(impressions)
        services.append(events)
        let logger = logger
        let metrics = metrics
        let requestTimeout = settings.requestTimeout
        return Application(
            router: router,
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [
                        RequestDeadlineHandler(timeout: requestTimeout) {
                            metrics.recordRequestTimeout()
                            logger.notice("closed a connection whose request did not arrive whole within \(requestTimeout)")
                        }
                    ],
                    idleTimeout: TimeAmount(settings.idleTimeout))),
            configuration: ApplicationConfiguration(
                address: .hostname(settings.host, port: settings.port), serverName: "loupe",
                availableConnectionsDelegate: ConnectionLimit(maximum: settings.maxConnections, metrics: metrics)),
            services: services,
            onServerRunning: { channel in
                let port = channel.localAddress?.port
                logger.info("loupe serve: listening on http://\(channel.localAddress?.ipAddress ?? "?"):\(port.map(String.init) ?? "?")")
                if let port { onListening?(port) }
            },
            logger: logger)
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully.
    public func run() async throws {
        try await makeApplication().runService()
        logger.info("loupe serve: stopped; queued impressions and events are written")
    }

    /// Serves in this process until `stop()` on the returned handle, which shuts down as
    /// SIGTERM does `run()` (in-flight requests finish, queued impressions and events are
    /// written): for tools that embed the server, such as `loupe bench serve`.
    public func start() -> RunningServer {
        let listening = ListeningPort()
        return RunningServer(
            group: ServiceGroup(services: [makeApplication(onListening: { listening.set($0) })], logger: logger), listening: listening,
            logger: logger)
    }
}

/// A server started by `HTTPServer.start()`.
public final class RunningServer: Sendable {
    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    private let listening: ListeningPort
    private let logger: Logger

    init(group: ServiceGroup, listening: ListeningPort, logger: Logger) {
        self.group = group
        self.listening = listening
        self.logger = logger
        task = Task { try await group.run() }
    }

    /// The port the server listens on, once it does; nil if it does not within `timeout`.
    public func port(timeout: Duration = .seconds(30)) async -> Int? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let port = listening.port { return port }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return listening.port
    }

    /// Shuts the server down gracefully and waits until it has.
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
        logger.info("loupe serve: stopped; queued impressions and events are written")
    }
}

/// The port a started server listens on, set once it does.
final class ListeningPort: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int?

    var port: Int? { lock.withLock { value } }

    func set(_ port: Int) { lock.withLock { value = port } }
}
