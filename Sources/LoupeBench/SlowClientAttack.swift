import LoupeHTTP
import Foundation
import Synchronization

/// Slow clients against a server on 127.0.0.1: `connections` sockets, half of which open and
/// send nothing, half of which send a request head that never ends, one header line every
/// `trickleInterval`. A connection the server closes is opened again at once, so the pressure
/// stays. Runs on a thread of its own until `stop()`, and samples this process's open file
/// descriptors (`/proc/self/fd`) while it runs.
final class SlowClientAttack: Sendable {
    struct Statistics: Sendable {
        /// Connections opened, including reopenings.
        var opened = 0
        /// Connections the server closed (or reset) while the attack ran.
        var closedByServer = 0
        /// Connects that failed (refused, or the backlog was full).
        var connectFailures = 0
        /// The most descriptors open in this process at any sample, and the attack's own
        /// sockets open at that moment.
        var mostDescriptors = 0
        var attackSocketsAtMost = 0
    }

    private let stopping = Atomic<Bool>(false)
    private let statistics = Mutex(Statistics())
    private let finished = DispatchSemaphore(value: 0)

    init(port: Int, connections: Int, trickleInterval: Duration = .seconds(1)) {
        let thread = Thread { [self] in
            run(port: port, connections: connections, trickleInterval: trickleInterval)
            finished.signal()
        }
        thread.name = "bench-slow-clients"
        thread.start()
    }

    /// Closes every attacking connection and returns the counters.
    func stop() -> Statistics {
        stopping.store(true, ordering: .relaxed)
        finished.wait()
        return statistics.withLock { $0 }
    }

    /// Descriptors open in this process now.
    static func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }

    private func run(port: Int, connections: Int, trickleInterval: Duration) {
        var sockets = [Int32](repeating: -1, count: connections)
        var lastSent = [ContinuousClock.Instant](repeating: .now, count: connections)
        defer { for socket in sockets where socket >= 0 { close(socket) } }
        var scratch = [UInt8](repeating: 0, count: 4_096)
        while !stopping.load(ordering: .relaxed) {
            let now = ContinuousClock.now
            for slot in 0..<connections {
                if sockets[slot] < 0 {
                    sockets[slot] = open(port: port)
                    lastSent[slot] = now
                    guard sockets[slot] >= 0 else {
                        statistics.withLock { $0.connectFailures += 1 }
                        continue
                    }
                    statistics.withLock { $0.opened += 1 }
                    if slot % 2 == 1 { _ = send(sockets[slot], "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n") }
                    continue
                }
                // Closed by the server: recv says so at once on a non-blocking socket.
                let received = scratch.withUnsafeMutableBytes { recv(sockets[slot], $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                let closed = received == 0 || (received < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                if !closed, slot % 2 == 1, lastSent[slot].duration(to: now) >= trickleInterval {
                    lastSent[slot] = now
                    if !send(sockets[slot], "X-Slow: 1\r\n") { statistics.withLock { $0.closedByServer += 1 }; reopen(&sockets[slot]); continue }
                }
                if closed {
                    statistics.withLock { $0.closedByServer += 1 }
                    reopen(&sockets[slot])
                }
            }
            let descriptors = Self.openDescriptors()
            let attackSockets = sockets.filter { $0 >= 0 }.count
            statistics.withLock {
                if descriptors > $0.mostDescriptors {
                    $0.mostDescriptors = descriptors
                    $0.attackSocketsAtMost = attackSockets
                }
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    private func reopen(_ socket: inout Int32) {
        close(socket)
        socket = -1
    }

    /// A connected socket, or -1. The connect completes in the kernel even when the server does
    /// not accept (it waits in the listen backlog).
    private func open(port: Int) -> Int32 {
        let descriptor = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return -1 }
        var address = LoopbackHTTPConnection.loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            return -1
        }
        return descriptor
    }

    private func send(_ socket: Int32, _ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) } == bytes.count
    }
}
