import LoupeHTTP
import Foundation
import Synchronization
import Testing

@testable import LoupeBench

/// `bench serve`'s load generator against a small HTTP/1.1 server written here with plain
/// sockets, which answers each request in two writes (so that the client must put responses
/// together from partial reads) and counts what it answered.
@Suite struct LoopbackLoadClientTests {
    /// Accepts connections on 127.0.0.1 and answers every request with `status` and `body`.
    final class TinyServer: @unchecked Sendable {
        let port: Int
        private let listener: Int32
        private let answered = Atomic<Int>(0)
        private let stopping = Atomic<Bool>(false)

        init(status: String, body: String) throws {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = LoopbackHTTPConnection.loopback(port: 0)
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
                }
            }
            guard bound, listen(descriptor, 64) == 0 else {
                close(descriptor)
                throw LoopbackHTTPConnection.Failure(description: "listen: \(String(cString: strerror(errno)))")
            }
            listener = descriptor
            port = Int(UInt16(bigEndian: address.sin_port))
            let response = Array("HTTP/1.1 \(status)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
            let listener = descriptor
            // The accepting thread closes the listener when it ends, so that no call uses its
            // number after the close (another thread may have reopened that number by then).
            Thread { [self] in
                defer { close(listener) }
                while !stopping.load(ordering: .relaxed) {
                    let client = accept(listener, nil, nil)
                    guard client >= 0 else { return }
                    Thread { [self] in serve(client, response) }.start()
                }
            }.start()
        }

        var requestsAnswered: Int { answered.load(ordering: .relaxed) }

        /// Wakes the accepting thread (its `accept` fails once the listener is shut down), which
        /// then closes the listener.
        func stop() {
            stopping.store(true, ordering: .relaxed)
            shutdown(listener, Int32(SHUT_RDWR))
        }

        /// Reads requests (each ends with an empty line) and answers each in two writes.
        private func serve(_ client: Int32, _ response: [UInt8]) {
            defer { close(client) }
            var pending: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let received = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                guard received > 0 else { return }
                pending.append(contentsOf: chunk[0..<received])
                while let end = Self.endOfHead(pending) {
                    pending.removeFirst(end + 4)
                    let half = response.count / 2
                    response.withUnsafeBytes { bytes in
                        _ = send(client, bytes.baseAddress!, half, Int32(MSG_NOSIGNAL))
                        usleep(200)
                        _ = send(client, bytes.baseAddress! + half, bytes.count - half, Int32(MSG_NOSIGNAL))
                    }
                    answered.add(1, ordering: .relaxed)
                }
            }
        }

        private static func endOfHead(_ bytes: [UInt8]) -> Int? {
            guard bytes.count >= 4 else { return nil }
            for start in 0...(bytes.count - 4) where bytes[start..<start + 4].elementsEqual([13, 10, 13, 10]) { return start }
            return nil
        }
    }

    @Test func everyRequestIsAnsweredAndCountedAcrossConnections() throws {
        let server = try TinyServer(status: "200 OK", body: String(repeating: "x", count: 3_000))
        defer { server.stop() }
        var paths = 0
        let outcome = try LoopbackLoadClient(port: server.port, connections: 4).run(
            until: monotonicNanoseconds() + 300_000_000
        ) {
            paths += 1
            return "/v1/users/u\(paths)/recommendations"
        }
        #expect(outcome.errors == 0, "\(outcome.firstError ?? "")")
        #expect(outcome.samples.count > 20)
        // Every request sent was answered and timed: the client waits for the last ones.
        #expect(outcome.samples.count == paths)
        #expect(server.requestsAnswered == paths)
        #expect(outcome.samples.allSatisfy { $0 > 0 })
    }

    @Test func errorStatusesAreCountedNotTimed() throws {
        let server = try TinyServer(status: "503 Service Unavailable", body: "{\"error\":\"not ready\"}")
        defer { server.stop() }
        let outcome = try LoopbackLoadClient(port: server.port, connections: 2).run(
            until: monotonicNanoseconds() + 100_000_000
        ) { "/readyz" }
        #expect(outcome.samples.isEmpty)
        #expect(outcome.errors > 0)
        #expect(outcome.errors == server.requestsAnswered)
        #expect(outcome.firstError == "HTTP 503")
    }

    @Test func aRefusedConnectionIsAnErrorNotAHang() throws {
        let port = try LoopbackHTTPConnection.freePort()
        let outcome = try LoopbackLoadClient(port: port, connections: 2).run(until: monotonicNanoseconds() + 50_000_000) { "/" }
        #expect(outcome.samples.isEmpty)
        #expect(outcome.errors >= 2)
        #expect(outcome.firstError?.contains("connect to 127.0.0.1") == true)
    }
}
