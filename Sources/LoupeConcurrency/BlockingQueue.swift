import Dispatch
import Foundation

/// Loupe's one way to run blocking work from async code: on a thread of its own (a serial
/// queue), so that neither NIO's event loops nor Swift's cooperative pool ever wait on I/O or
/// on a long computation — the log's producers and queries, LMDB snapshot refreshes, a role's
/// whole fold loop. The other direction, a synchronous caller waiting for async work, is
/// `waitFor(_:)`.
public struct BlockingQueue: Sendable {
    private let queue: DispatchQueue

    /// - Parameter label: names the thread in debuggers; work on one queue runs one at a time.
    public init(label: String) {
        queue = DispatchQueue(label: label)
    }

    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// `work`'s result, or nil if it has not finished within `timeout` (it then still runs to
    /// completion in the background, and later work on this queue waits for it).
    public func run<T: Sendable>(timeout: Duration, _ work: @escaping @Sendable () throws -> T) async throws -> T? {
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

/// Runs `operation` on Swift's concurrency threads and blocks the calling thread until it is
/// done, returning its result or rethrowing its error: for synchronous entry points (the CLI's
/// commands, benchmarks) that drive async work. Never call it from the cooperative pool itself
/// (a test body, a task): it would hold one of the pool's few threads (two on two cores) while
/// waiting for work that needs them; run such a caller through `BlockingQueue` instead.
public func waitFor<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) throws -> T {
    let outcome = Outcome<T>()
    Task {
        do {
            outcome.result = .success(try await operation())
        } catch {
            outcome.result = .failure(error)
        }
        outcome.done.signal()
    }
    outcome.done.wait()
    return try outcome.result!.get()
}

/// Written by the task before it signals `done`, read after `done` is waited for.
private final class Outcome<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
    let done = DispatchSemaphore(value: 0)
}
