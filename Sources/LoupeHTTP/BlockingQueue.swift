import LoupeServing
import Dispatch
import Foundation

/// Runs blocking work (the log's producers and queries, LMDB snapshot refreshes) on a thread of
/// its own, so that neither NIO's event loops nor Swift's cooperative pool ever wait on I/O.
struct BlockingQueue: Sendable {
    private let queue: DispatchQueue

    /// - Parameter label: names the thread in debuggers; work on one queue runs one at a time.
    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// `work`'s result, or nil if it has not finished within `timeout` (it then still runs to
    /// completion in the background, and later work on this queue waits for it).
    func run<T: Sendable>(timeout: Duration, _ work: @escaping @Sendable () throws -> T) async throws -> T? {
        try await withCheckedThrowingContinuation { continuation in
            let first = FirstResult(continuation)
            queue.async { first.resume(with: Result { try work() }) }
            let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) * 1e-18
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { first.resume(with: .success(nil)) }
        }
    }
}

/// Resumes a continuation with whichever result arrives first and ignores the other.
private final class FirstResult<T: Sendable>: @unchecked Sendable {
    private var continuation: CheckedContinuation<T?, any Error>?
    private let lock = NSLock()

    init(_ continuation: CheckedContinuation<T?, any Error>) {
        self.continuation = continuation
    }

    func resume(with result: Result<T?, any Error>) {
        lock.lock()
        let pending = continuation
        continuation = nil
        lock.unlock()
        pending?.resume(with: result)
    }

    func resume(with result: Result<T, any Error>) {
        resume(with: result.map { Optional($0) })
    }
}
