import LoupeHTTP
import Foundation

/// A minimal HTTP/1.1 client on one keep-alive TCP connection to 127.0.0.1, for load generation:
/// GET requests, responses framed by `Content-Length`, bodies read and discarded.
final class LoopbackHTTPConnection {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let socket: Int32
    private var buffer: [UInt8] = []
    private var chunk = [UInt8](repeating: 0, count: 65_536)

    /// The descriptor becomes the connection's only once connected: a class whose initializer
    /// throws after setting every stored property runs its `deinit`, so closing it on failure
    /// as well would close the descriptor twice — the second time, whatever another thread has
    /// opened under that number meanwhile.
    init(port: Int) throws {
        let descriptor = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var noDelay: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        var address = LoopbackHTTPConnection.loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw Failure(description: "connect to 127.0.0.1:\(port): \(reason)")
        }
        socket = descriptor
    }

    deinit { close(socket) }

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    /// A port that was free a moment ago (bound to port 0, read back, released).
    static func freePort() throws -> Int {
        let probe = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(probe) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(probe, pointer, length) == 0 && getsockname(probe, pointer, &length) == 0
            }
        }
        guard bound else { throw Failure(description: "no free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Sends `GET path` and reads the whole response; returns its status code.
    func get(_ path: String) throws -> Int {
        try send(get: path)
        while true {
            if let status = try takeResponse() { return status }
            _ = try receive()
        }
    }

    /// Sends `GET path` (a request of a few dozen bytes: the socket's buffer takes it whole, also
    /// when non-blocking, since the previous response has been read).
    func send(get path: String) throws {
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            let written = request.withUnsafeBytes { Glibc.send(socket, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw Failure(description: "send: \(String(cString: strerror(errno)))") }
            sent += written
        }
    }

    /// The status of the first response in the received bytes, removed from them, when it has
    /// arrived whole; nil while more bytes are needed.
    func takeResponse() throws -> Int? {
        guard let headerEnd = Self.find([13, 10, 13, 10], in: buffer) else { return nil }
        let head = String(decoding: buffer[0..<headerEnd], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1.1 "),
            let status = Int(statusLine.dropFirst(9).prefix(3))
        else { throw Failure(description: "not an HTTP response: \(head.prefix(80))") }
        var length: Int?
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "content-length" {
                length = Int(parts[1].trimmingCharacters(in: .whitespaces))
            }
        }
        guard let length else { throw Failure(description: "response without Content-Length: \(head.prefix(200))") }
        let total = headerEnd + 4 + length
        guard buffer.count >= total else { return nil }
        buffer.removeFirst(total)
        return status
    }

    /// Reads what has arrived into the buffer; waits for it unless the socket is non-blocking.
    /// Returns false when a non-blocking socket has nothing to read.
    func receive() throws -> Bool {
        let received = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        if received < 0, errno == EAGAIN || errno == EWOULDBLOCK { return false }
        guard received > 0 else {
            throw Failure(description: received == 0 ? "connection closed by the server" : "recv: \(String(cString: strerror(errno)))")
        }
        buffer.append(contentsOf: chunk[0..<received])
        return true
    }

    /// Makes reads return at once when nothing has arrived (for `LoopbackLoadClient`).
    func makeNonBlocking() throws {
        let flags = fcntl(socket, F_GETFL)
        guard flags >= 0, fcntl(socket, F_SETFL, flags | O_NONBLOCK) == 0 else {
            throw Failure(description: "fcntl: \(String(cString: strerror(errno)))")
        }
    }

    var descriptor: Int32 { socket }

    private static func find(_ pattern: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= pattern.count else { return nil }
        for start in 0...(bytes.count - pattern.count) where bytes[start] == pattern[0] {
            if bytes[start..<start + pattern.count].elementsEqual(pattern) { return start }
        }
        return nil
    }
}

/// Many keep-alive connections to 127.0.0.1 driven by one thread with `poll`, each with one
/// request outstanding at a time (as `wrk` drives a server): the load generator of `loupe bench
/// serve`'s HTTP runs. One thread for all connections, rather than one blocked thread each,
/// leaves more of the cores that it shares with the server to the server: a response wakes no
/// thread of its own, and one wake-up handles every response that has arrived.
struct LoopbackLoadClient {
    struct Outcome {
        /// Nanoseconds from sending each request to having its whole response, for status 200.
        var samples: [UInt64] = []
        var errors = 0
        /// Responses with a 5xx status (also counted in `errors`).
        var serverErrors = 0
        var firstError: String?
    }

    let port: Int
    let connections: Int

    /// Sends requests for `nextPath()` on every connection until `deadline` (monotonic
    /// nanoseconds), each connection sending its next request as soon as the previous
    /// response is in, then waits for the responses still outstanding (they count, as a
    /// thread per connection would count its last request). A connection that fails is counted
    /// and replaced; when no connection has a request outstanding (every one failed), the run
    /// ends early.
    func run(until deadline: UInt64, nextPath: () -> String) throws -> Outcome {
        var outcome = Outcome()
        var open: [LoopbackHTTPConnection?] = Array(repeating: nil, count: connections)
        var sentAt = [UInt64](repeating: 0, count: connections)
        var outstanding = 0
        var watched = [pollfd](repeating: pollfd(fd: -1, events: Int16(POLLIN), revents: 0), count: connections)

        func fail(_ slot: Int, _ error: any Error) {
            outcome.errors += 1
            outcome.firstError = outcome.firstError ?? "\(error)"
            if sentAt[slot] != 0 { outstanding -= 1 }
            sentAt[slot] = 0
            open[slot] = nil
            watched[slot].fd = -1  // poll skips negative descriptors
        }
        /// Opens slot's connection if needed and sends its next request.
        func start(_ slot: Int) {
            do {
                if open[slot] == nil {
                    let connection = try LoopbackHTTPConnection(port: port)
                    try connection.makeNonBlocking()
                    open[slot] = connection
                    watched[slot].fd = connection.descriptor
                }
                let path = nextPath()
                sentAt[slot] = monotonicNanoseconds()
                outstanding += 1
                try open[slot]!.send(get: path)
            } catch {
                fail(slot, error)
            }
        }

        for slot in 0..<connections { start(slot) }
        while outstanding > 0 {
            // Slots whose connection failed are reopened on the next round.
            let now = monotonicNanoseconds()
            if now < deadline {
                for slot in 0..<connections where open[slot] == nil { start(slot) }
            } else if now > deadline + 30_000_000_000 {
                throw LoopbackHTTPConnection.Failure(description: "\(outstanding) responses still outstanding 30 s after the run")
            }
            let ready = watched.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), 100) }
            if ready < 0 {
                if errno == EINTR { continue }
                throw LoopbackHTTPConnection.Failure(description: "poll: \(String(cString: strerror(errno)))")
            }
            guard ready > 0 else { continue }
            for slot in 0..<connections where watched[slot].revents != 0 {
                watched[slot].revents = 0
                guard let connection = open[slot] else { continue }
                do {
                    while try connection.receive() {}
                    if let status = try connection.takeResponse() {
                        let end = monotonicNanoseconds()
                        outstanding -= 1
                        if status == 200 {
                            outcome.samples.append(end - sentAt[slot])
                        } else {
                            outcome.errors += 1
                            if status >= 500 { outcome.serverErrors += 1 }
                            outcome.firstError = outcome.firstError ?? "HTTP \(status)"
                        }
                        sentAt[slot] = 0
                        if end < deadline { start(slot) }
                    }
                } catch {
                    fail(slot, error)
                }
            }
        }
        return outcome
    }
}
