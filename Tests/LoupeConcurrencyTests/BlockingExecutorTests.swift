import Dispatch
import Foundation
import LoupeConcurrency
import Synchronization
import Testing

@Suite struct BlockingExecutorTests {
    struct Failure: Error, Equatable {}

    /// From a thread of its own, as its callers do: a test body runs on the cooperative pool,
    /// which `waitFor` must never block.
    @Test func waitForReturnsTheResultOrRethrows() async throws {
        let queue = BlockingQueue(label: "wait-for")
        #expect(try await queue.run { try waitFor { await Task.yield(); return 42 } } == 42)
        await #expect(throws: Failure()) { try await queue.run { try waitFor { () async throws -> Int in throw Failure() } } }
    }

    final class Gauge: Sendable {
        let state = Mutex((running: 0, most: 0))
    }

    @Test func blockingWorkRunsOffTheCooperativePoolOneAtATime() async throws {
        let queue = BlockingQueue(label: "test")
        let gauge = Gauge()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await queue.run {
                        gauge.state.withLock { $0.running += 1; $0.most = max($0.most, $0.running) }
                        Thread.sleep(forTimeInterval: 0.02)
                        gauge.state.withLock { $0.running -= 1 }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(gauge.state.withLock { $0.most } == 1)
        // A timeout answers nil while the work goes on (held until the answer is in, so no
        // scheduling delay can let it finish first), and later work waits for it.
        let gate = DispatchSemaphore(value: 0)
        let late = try await queue.run(timeout: .milliseconds(20)) { gate.wait(); return 1 }
        #expect(late == nil)
        gate.signal()
        #expect(try await queue.run { 2 } == 2)
    }
}
