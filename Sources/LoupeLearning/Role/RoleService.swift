import LoupeConcurrency
import Foundation
import ServiceLifecycle
import Synchronization

/// A folding role as a `Service` of swift-service-lifecycle, as `loupe serve` is one: `work`
/// runs on a thread of its own (a role's loop blocks on the log and the store), and a graceful
/// shutdown (SIGTERM or SIGINT through the `ServiceGroup`) asks it to stop, which a `RoleLoop`
/// does after committing the batch it is on. `work` polls `shouldStop`.
public struct RoleService: Service {
    private let name: String
    private let work: @Sendable (_ shouldStop: @escaping @Sendable () -> Bool) throws -> Void

    public init(name: String, work: @escaping @Sendable (_ shouldStop: @escaping @Sendable () -> Bool) throws -> Void) {
        self.name = name
        self.work = work
    }

    public func run() async throws {
        let stop = StopFlag()
        try await withGracefulShutdownHandler {
            try await BlockingQueue(label: "loupe-\(name)").run { [work] in try work { stop.isSet } }
        } onGracefulShutdown: {
            stop.set()
        }
    }
}

/// Set once, read from any thread.
private final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)

    var isSet: Bool { value.load(ordering: .relaxed) }

    func set() { value.store(true, ordering: .relaxed) }
}
