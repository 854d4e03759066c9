import LoupeServing
import HummingbirdCore

/// At most `maximum` connections served at once: beyond it the server stops accepting, so
/// further connections wait in the kernel's listen backlog (and are refused once it is full)
/// until one closes. Hummingbird calls it on the listening channel's event loop only.
struct ConnectionLimit: AvailableConnectionsDelegate {
    let maximum: Int
    let metrics: ServingMetrics
    private var open = 0

    init(maximum: Int, metrics: ServingMetrics) {
        self.maximum = maximum
        self.metrics = metrics
    }

    mutating func connectionOpened() {
        open += 1
        metrics.recordOpenConnections(open)
    }

    mutating func connectionClosed() {
        open -= 1
        metrics.recordOpenConnections(open)
    }

    func isAcceptingNewConnections() -> Bool {
        open < maximum
    }
}
