import LoupeEmbeddedLog
import Foundation
import Synchronization
import LoupeEvents
import LoupeLog
import LoupeServing

/// An embedded log with Loupe's topics whose answers a test can make slow or failing:
/// `partitionCount` (what `/readyz` asks) and writes to a topic.
final class ControllableLog: EventLog, @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let base: any EventLog
    private let lock = NSLock()
    private var delay: Duration = .zero
    private var probeError: String?
    private var calls = 0
    private var writeFailures: [String: Int] = [:]
    /// False while probes are held.
    private let probeGate = Mutex<Bool>(true)

    init() throws {
        base = try EmbeddedLog(directory: NSTemporaryDirectory() + "loupe-guard-test-\(UUID().uuidString)")
        _ = try base.apply(TopicDefinitions.builtIn)
    }

    /// `partitionCount` waits this long, then throws `error` when one is given.
    func answerProbes(after delay: Duration, error: String? = nil) {
        lock.withLock {
            self.delay = delay
            self.probeError = error
        }
    }

    /// `partitionCount` blocks until `releaseProbes()`: a log that hangs for as long as a test
    /// needs, however slowly the test runs.
    func holdProbes() { probeGate.withLock { $0 = false } }

    func releaseProbes() { probeGate.withLock { $0 = true } }

    /// The next `count` sends to `topic` fail (a writer's attempt ends at its first failed send).
    func failWrites(to topic: Topic, _ count: Int) { lock.withLock { writeFailures[topic.rawValue] = count } }

    var partitionCountCalls: Int { lock.withLock { calls } }

    /// Whether this attempt to write to `topic` fails (counts it down).
    func takeWriteFailure(_ topic: String) -> Bool {
        lock.withLock {
            guard let left = writeFailures[topic], left > 0 else { return false }
            writeFailures[topic] = left - 1
            return true
        }
    }

    var description: String { "controllable log over \(base.description)" }

    func apply(_ topics: [TopicSpec]) throws -> [String: TopicApplyOutcome] { try base.apply(topics) }
    func describeTopics() throws -> [TopicDescription] { try base.describeTopics() }
    func watermarks(_ partition: TopicPartition) throws -> Watermarks { try base.watermarks(partition) }
    func makeConsumer(group: String?) throws -> any LogConsumer { try base.makeConsumer(group: group) }
    func makeProducer() throws -> any LogProducer { ControllableProducer(base: try base.makeProducer(), log: self) }

    func partitionCount(of topic: String) throws -> Int {
        let (delay, error) = lock.withLock {
            calls += 1
            return (self.delay, probeError)
        }
        while !probeGate.withLock({ $0 }) { Thread.sleep(forTimeInterval: 0.01) }
        if delay > .zero { Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) * 1e-18) }
        if let error { throw Failure(description: error) }
        return try base.partitionCount(of: topic)
    }

    /// Records currently in `topic`.
    func recordCount(_ topic: Topic) throws -> Int64 {
        try base.describeTopics().first { $0.name == topic.rawValue }?.retainedRecords ?? 0
    }
}

final class ControllableProducer: LogProducer {
    private let base: any LogProducer
    private let log: ControllableLog

    init(base: any LogProducer, log: ControllableLog) {
        self.base = base
        self.log = log
    }

    func send(topic: String, key: [UInt8]?, value: [UInt8], timestamp: Int64) throws {
        // A writer's attempt ends at the first send that throws, so each failure fails one attempt.
        if log.takeWriteFailure(topic) { throw ControllableLog.Failure(description: "broker gone: secret-internal-detail") }
        try base.send(topic: topic, key: key, value: value, timestamp: timestamp)
    }

    func flush() throws {
        try base.flush()
    }

    func close() throws { try base.close() }
}

/// A plain TCP connection to 127.0.0.1 that sends what a test says, when it says: to play a
/// slow or idle client. Reads wait on a thread of their own: a test blocked in `poll` on one of
/// Swift's few cooperative threads would starve the server it waits for.
final class RawConnection: Sendable {
    private let socket: Int32

    init(port: Int) throws {
        let descriptor = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ControllableLog.Failure(description: "socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            throw ControllableLog.Failure(description: "connect: \(errno)")
        }
        socket = descriptor
    }

    deinit { close(socket) }

    /// Sends `text`; false when the server has closed the connection.
    @discardableResult
    func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// Whether the server has closed the connection, without waiting.
    var isClosed: Bool {
        var byte: UInt8 = 0
        let received = recv(socket, &byte, 1, Int32(MSG_DONTWAIT | MSG_PEEK))
        return received == 0 || (received < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    enum Read: Equatable {
        case bytes(String)
        /// The server closed the connection (or reset it).
        case closed
        /// Nothing arrived within the wait.
        case nothing
    }

    /// What arrives within `wait`.
    func read(wait: Duration) async -> Read {
        await offThePool { self.waitAndRead(wait) }
    }

    private func waitAndRead(_ wait: Duration) -> Read {
        var watched = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000)
        guard poll(&watched, 1, milliseconds) > 0 else { return .nothing }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let received = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        guard received > 0 else { return .closed }
        return .bytes(String(decoding: buffer[0..<received], as: UTF8.self))
    }

    /// Reads until the server closes the connection or `wait` has passed; returns whether it
    /// closed, and everything received before.
    func readUntilClosed(wait: Duration) async -> (closed: Bool, received: String) {
        await offThePool {
            let deadline = ContinuousClock.now + wait
            var received = ""
            while ContinuousClock.now < deadline {
                switch self.waitAndRead(.milliseconds(50)) {
                case .closed: return (true, received)
                case .bytes(let text): received += text
                case .nothing: continue
                }
            }
            return (false, received)
        }
    }

    /// What `trickle` saw: whether the server closed the connection, everything it sent before,
    /// how long the trickle ran, and the longest pause between two sends (the client's own
    /// slowness, which a test compares with the server's timeouts).
    struct Trickle: Sendable {
        var closed: Bool
        var received: String
        var elapsed: Duration
        var longestPause: Duration
    }

    /// Sends `opening` followed by `text`, then `text` every `interval`, reading what arrives
    /// meanwhile, until the server closes the connection or `limit` has passed. It runs on a thread of its own, so that a busy
    /// cooperative pool cannot stretch the pauses past a server timeout.
    func trickle(_ text: String, every interval: Duration, for limit: Duration, opening: String = "") async -> Trickle {
        await offThePool {
            let start = ContinuousClock.now
            var result = Trickle(closed: false, received: "", elapsed: .zero, longestPause: .zero)
            var lastSend = start
            var next = opening + text
            while start.duration(to: .now) < limit {
                let now = ContinuousClock.now
                result.longestPause = max(result.longestPause, lastSend.duration(to: now))
                lastSend = now
                guard self.send(next) else {
                    result.closed = true
                    break
                }
                next = text
                let pauseEnd = now + interval
                var closed = false
                while !closed, ContinuousClock.now < pauseEnd {
                    switch self.waitAndRead(ContinuousClock.now.duration(to: pauseEnd)) {
                    case .closed: closed = true
                    case .bytes(let bytes): result.received += bytes
                    case .nothing: break
                    }
                }
                if closed {
                    result.closed = true
                    break
                }
            }
            result.elapsed = start.duration(to: .now)
            return result
        }
    }

    private func offThePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: work()) }.start()
        }
    }
}
