import LoupeServing
import Foundation
import Prometheus

/// The service's Prometheus metrics (docs/serving.md lists them). Request metrics are recorded
/// as requests finish; the recommender's and the log's state is sampled when `/metrics` is read.
public final class ServingMetrics: @unchecked Sendable {
    public let registry: PrometheusCollectorRegistry

    /// The recommender's cumulative cache counts at the last sample, to turn them into counter
    /// increments. Guarded by `lock`.
    private var lastCacheHits: UInt64 = 0
    private var lastCacheMisses: UInt64 = 0
    /// Labelled series made so far (`series`). Guarded by `lock`.
    private var seriesByKey: [SeriesKey: AnyObject] = [:]
    private let lock = NSLock()

    private let impressionsWritten: Counter
    private let impressionsFailed: Counter
    private let impressionsDropped: Counter
    private let impressionsQueued: Gauge
    private let impressionWriteRetries: Counter
    private let connectionsOpen: Gauge
    private let requestTimeouts: Counter
    private let cacheHits: Counter
    private let cacheMisses: Counter
    private let cacheHitRatio: Gauge
    private let cacheEntries: Gauge
    private let cacheBytes: Gauge
    private let snapshotAge: Gauge
    private let snapshotRefreshFailures: Counter
    private let recommenderReady: Gauge
    private let catalogItems: Gauge
    private let logReachable: Gauge
    private let retrievalScans: Counter
    private let retrievalScanRequests: Counter

    static let latencyBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(10),
    ]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        impressionsWritten = registry.makeCounter(
            descriptor: Self.name("impressions_written_total", "Impressions durably written to the impressions topic."))
        impressionsFailed = registry.makeCounter(
            descriptor: Self.name(
                "impressions_failed_total", "Impressions lost because every attempt to write them to the log failed."))
        impressionWriteRetries = registry.makeCounter(
            descriptor: Self.name("impression_write_retries_total", "Retried writes of a batch of impressions after a failed attempt."))
        connectionsOpen = registry.makeGauge(descriptor: Self.name("http_connections_open", "HTTP connections being served."))
        requestTimeouts = registry.makeCounter(
            descriptor: Self.name(
                "http_request_timeouts_total", "Connections closed because a request did not arrive whole within the request timeout."))
        impressionsDropped = registry.makeCounter(
            descriptor: Self.name("impressions_dropped_total", "Impressions not written because the impression queue was full."))
        impressionsQueued = registry.makeGauge(descriptor: Self.name("impressions_queued", "Impressions waiting to be written."))
        cacheHits = registry.makeCounter(
            descriptor: Self.name("cache_hits_total", "Recommendation lists served from the prediction cache."))
        cacheMisses = registry.makeCounter(
            descriptor: Self.name("cache_misses_total", "Recommendation lists computed because the cache had none."))
        cacheHitRatio = registry.makeGauge(
            descriptor: Self.name("cache_hit_ratio", "Cache hits / (hits + misses) since the recommender started."))
        cacheEntries = registry.makeGauge(descriptor: Self.name("cache_entries", "Lists in the prediction cache."))
        cacheBytes = registry.makeGauge(descriptor: Self.name("cache_bytes", "Approximate memory of the prediction cache."))
        snapshotAge = registry.makeGauge(
            descriptor: Self.name("snapshot_age_seconds", "Seconds since the served store snapshot was opened."))
        snapshotRefreshFailures = registry.makeCounter(
            descriptor: Self.name(
                "snapshot_refresh_failures_total", "Snapshot refreshes that failed (the previous snapshot stays in use)."))
        recommenderReady = registry.makeGauge(
            descriptor: Self.name("recommender_ready", "1 when the recommender has a model loaded, else 0."))
        catalogItems = registry.makeGauge(descriptor: Self.name("catalog_items", "Items in the served snapshot."))
        logReachable = registry.makeGauge(
            descriptor: Self.name("log_reachable", "1 when the log answered the last query in time, else 0."))
        retrievalScans = registry.makeCounter(
            descriptor: Self.name("retrieval_scans_total", "Passes over the item matrix (each scores one or more coalesced requests)."))
        retrievalScanRequests = registry.makeCounter(
            descriptor: Self.name(
                "retrieval_scan_requests_total",
                "Requests scored by those passes; divided by retrieval_scans_total, the mean coalescing."))
    }

    /// One pass of the retrieval scan over `requests` coalesced requests.
    public func recordRetrievalScan(requests: Int) {
        retrievalScans.increment()
        retrievalScanRequests.increment(by: Int64(requests))
    }

    // MARK: Requests

    func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        let labels = [("route", route), ("method", method), ("status", String(status))]
        series(Self.requests, labels) { registry.makeCounter(descriptor: Self.requests, labels: labels) }.increment()
        series(Self.requestDuration, labels) {
            registry.makeDurationHistogram(descriptor: Self.requestDuration, labels: labels, buckets: Self.latencyBuckets)
        }.record(duration)
    }

    func recordError(route: String, code: String) {
        let labels = [("route", route), ("code", code)]
        series(Self.errors, labels) { registry.makeCounter(descriptor: Self.errors, labels: labels) }.increment()
    }

    // MARK: Events

    func recordAccepted(topic: String, count: Int) {
        let labels = [("topic", topic)]
        series(Self.eventsAccepted, labels) { registry.makeCounter(descriptor: Self.eventsAccepted, labels: labels) }
            .increment(by: Int64(count))
    }

    func recordRejected(reason: String, count: Int) {
        let labels = [("reason", reason)]
        series(Self.eventsRejected, labels) { registry.makeCounter(descriptor: Self.eventsRejected, labels: labels) }
            .increment(by: Int64(count))
    }

    /// The labelled series of `descriptor` with `labels`, made by `make` on first use and then
    /// kept: the registry's own lookup checks and formats the names and help texts on every call,
    /// which for the request metrics was about 1 % of a request's CPU under load. Label values
    /// are bounded (routes, standard methods, statuses, error codes, topics, reasons), so the
    /// table stays small.
    private func series<Metric: AnyObject>(
        _ descriptor: MetricNameDescriptor, _ labels: [(String, String)], make: () -> Metric
    ) -> Metric {
        let key = SeriesKey(metric: descriptor.metricName, labelValues: labels.map(\.1))
        lock.lock()
        defer { lock.unlock() }
        if let existing = seriesByKey[key] as? Metric { return existing }
        let made = make()
        seriesByKey[key] = made
        return made
    }

    // MARK: Impressions

    func recordImpressionsWritten(_ count: Int) { impressionsWritten.increment(by: Int64(count)) }
    func recordImpressionsFailed(_ count: Int) { impressionsFailed.increment(by: Int64(count)) }
    func recordImpressionDropped() { impressionsDropped.increment() }
    func recordImpressionsQueued(_ count: Int) { impressionsQueued.set(to: Double(count)) }
    func recordImpressionWriteRetry() { impressionWriteRetries.increment() }

    // MARK: Connections

    func recordOpenConnections(_ count: Int) { connectionsOpen.set(to: Double(count)) }
    func recordRequestTimeout() { requestTimeouts.increment() }

    // MARK: Samples

    func recordRefreshFailure() { snapshotRefreshFailures.increment() }

    /// Samples the recommender's status (at each scrape).
    func record(_ status: ServingStatus) {
        recommenderReady.set(to: status.ready ? 1 : 0)
        catalogItems.set(to: Double(status.itemCount))
        snapshotAge.set(to: status.snapshotAgeSeconds)
        cacheEntries.set(to: Double(status.cacheEntries))
        cacheBytes.set(to: Double(status.cacheBytes))
        let total = status.cacheHits + status.cacheMisses
        cacheHitRatio.set(to: total == 0 ? 0 : Double(status.cacheHits) / Double(total))
        lock.lock()
        // A count below the last sample means the recommender started over: count it all.
        let newHits = status.cacheHits >= lastCacheHits ? status.cacheHits - lastCacheHits : status.cacheHits
        let newMisses = status.cacheMisses >= lastCacheMisses ? status.cacheMisses - lastCacheMisses : status.cacheMisses
        lastCacheHits = status.cacheHits
        lastCacheMisses = status.cacheMisses
        lock.unlock()
        cacheHits.increment(by: Int64(clamping: newHits))
        cacheMisses.increment(by: Int64(clamping: newMisses))
    }

    /// Samples the learner's lag behind the log, per topic; nil when the log did not answer.
    func record(consumerLag: [String: Int64]?) {
        logReachable.set(to: consumerLag == nil ? 0 : 1)
        for (topic, lag) in consumerLag ?? [:] {
            let labels = [("topic", topic)]
            series(Self.consumerLag, labels) { registry.makeGauge(descriptor: Self.consumerLag, labels: labels) }.set(to: Double(lag))
        }
    }

    /// The Prometheus text exposition of every metric.
    func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }

    // MARK: Names

    private static func name(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "loupe", metricName: name, unitName: "", helpText: help)
    }

    private static var requests: MetricNameDescriptor {
        name("http_requests_total", "HTTP requests by route, method and status.")
    }
    private static var requestDuration: MetricNameDescriptor {
        name("http_request_duration_seconds", "HTTP request latency by route, method and status.")
    }
    private static var errors: MetricNameDescriptor {
        name("http_errors_total", "Refused or failed HTTP requests by route and error code.")
    }
    private static var eventsAccepted: MetricNameDescriptor {
        name("events_accepted_total", "Events from POST /v1/events written to their topic.")
    }
    private static var eventsRejected: MetricNameDescriptor {
        name("events_rejected_total", "Events from POST /v1/events rejected (sent to dead-letter), by reason.")
    }
    private static var consumerLag: MetricNameDescriptor {
        name("consumer_lag_records", "Records in the log not yet in the served state, per topic.")
    }
}

/// A metric's name and its label values, in the order its callers give them.
private struct SeriesKey: Hashable {
    let metric: String
    let labelValues: [String]
}
