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
    /// Guarded by `lock`.
    private var requestSeriesByKey: [RequestSeriesKey: RequestSeries] = [:]
    private let lock = NSLock()

    private let impressionsWritten: Counter
    private let impressionsFailed: Counter
    private let impressionsDropped: Counter
    private let impressionsQueued: Gauge
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
            descriptor: Self.name("impressions_failed_total", "Impressions whose write to the log failed."))
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
        let series = requestSeries(route: route, method: method, status: status)
        series.count.increment()
        series.duration.record(duration)
    }

    /// One label set's request counter and latency histogram, made on its first request and then
    /// kept: the registry's lookup checks and formats the names and help texts on every call,
    /// which was about 1 % of a request's CPU under load. Label sets are few (routes, standard
    /// methods, statuses), so the table stays small.
    private func requestSeries(route: String, method: String, status: Int) -> RequestSeries {
        let key = RequestSeriesKey(route: route, method: method, status: status)
        lock.lock()
        defer { lock.unlock() }
        if let series = requestSeriesByKey[key] { return series }
        let labels = [("route", route), ("method", method), ("status", String(status))]
        let series = RequestSeries(
            count: registry.makeCounter(descriptor: Self.requests, labels: labels),
            duration: registry.makeDurationHistogram(
                descriptor: Self.requestDuration, labels: labels, buckets: Self.latencyBuckets))
        requestSeriesByKey[key] = series
        return series
    }

    func recordError(route: String, code: String) {
        registry.makeCounter(descriptor: Self.errors, labels: [("route", route), ("code", code)]).increment()
    }

    // MARK: Events

    func recordAccepted(topic: String, count: Int) {
        registry.makeCounter(descriptor: Self.eventsAccepted, labels: [("topic", topic)]).increment(by: Int64(count))
    }

    func recordRejected(reason: String, count: Int) {
        registry.makeCounter(descriptor: Self.eventsRejected, labels: [("reason", reason)]).increment(by: Int64(count))
    }

    // MARK: Impressions

    func recordImpressionsWritten(_ count: Int) { impressionsWritten.increment(by: Int64(count)) }
    func recordImpressionsFailed(_ count: Int) { impressionsFailed.increment(by: Int64(count)) }
    func recordImpressionDropped() { impressionsDropped.increment() }
    func recordImpressionsQueued(_ count: Int) { impressionsQueued.set(to: Double(count)) }

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
            registry.makeGauge(descriptor: Self.consumerLag, labels: [("topic", topic)]).set(to: Double(lag))
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

private struct RequestSeriesKey: Hashable {
    let route: String
    let method: String
    let status: Int
}

private struct RequestSeries {
    let count: Counter
    let duration: DurationHistogram
}
