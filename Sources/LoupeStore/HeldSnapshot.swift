import LoupeLMDB
import Foundation

/// A store snapshot that stays open beyond one closure, for a reader that serves many requests
/// from one consistent state (the recommender) and moves to a newer one when it chooses.
///
/// One thread at a time uses it, through `withSnapshot`; it may be a different thread each
/// time (the environment is opened with `MDB_NOTLS`). `close()`, or the last reference going
/// away, ends the read transaction, never while a `withSnapshot` body runs.
///
/// The transaction lives on a small holder thread of its own, inside an ordinary
/// `StateStore.read`, so it takes part in the environment's resize lock like any read. That
/// matters when another process has grown the map: this process may adopt the larger map only
/// when none of its read transactions is open, so opening a new snapshot then waits until every
/// held snapshot of the process is closed (see `StateStore.openSnapshot(waitingAtMost:)`).
public final class HeldSnapshot: Sendable {
    private let channel: SnapshotChannel
    /// LMDB's transaction id (`StoreSnapshot.transactionId`) of this snapshot.
    public let transactionId: Int

    fileprivate init(channel: SnapshotChannel, transactionId: Int) {
        self.channel = channel
        self.transactionId = transactionId
    }

    deinit {
        channel.close()
    }

    /// Runs `body` with the snapshot, excluding every other user of this held snapshot until it
    /// returns. Buffers it hands out are valid only inside `body`. Throws `HeldSnapshotClosedError`
    /// after `close()`. Do not call `close()` inside `body`.
    public func withSnapshot<T>(_ body: (StoreSnapshot) throws -> T) throws -> T {
        channel.condition.lock()
        defer { channel.condition.unlock() }
        guard let snapshot = channel.snapshot else { throw HeldSnapshotClosedError() }
        return try body(snapshot)
    }

    /// Ends the read transaction (waiting for a running `withSnapshot` body). Idempotent.
    public func close() {
        channel.close()
    }

    public var isClosed: Bool {
        channel.condition.lock()
        defer { channel.condition.unlock() }
        return channel.snapshot == nil
    }
}

/// `HeldSnapshot.withSnapshot` after the snapshot was closed.
public struct HeldSnapshotClosedError: Error, Sendable, Equatable, CustomStringConvertible {
    public init() {}
    public var description: String { "the held store snapshot is closed" }
}

extension StateStore {
    /// Opens a snapshot that stays open until it is closed or released; see `HeldSnapshot`.
    ///
    /// Waits as long as it takes. If another process has grown the map and this process holds
    /// another snapshot, that is until the other snapshot is closed; a caller that keeps one
    /// snapshot open while it opens the next should use `openSnapshot(waitingAtMost:)`.
    public func openSnapshot() throws -> HeldSnapshot {
        try openSnapshot(deadline: nil)!
    }

    /// Opens a held snapshot, or returns nil if that takes longer than `timeout` — normally
    /// because the map must be re-mapped (another process grew it) and a snapshot this process
    /// holds keeps that from happening. Close the held snapshots, then open without a limit.
    public func openSnapshot(waitingAtMost timeout: Duration) throws -> HeldSnapshot? {
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) * 1e-18
        return try openSnapshot(deadline: Date(timeIntervalSinceNow: seconds))
    }

    private func openSnapshot(deadline: Date?) throws -> HeldSnapshot? {
        let channel = SnapshotChannel()
        let thread = Thread { [self] in channel.hold(self) }
        thread.name = "loupe.held-snapshot"
        // The holder only blocks; a small stack is plenty.
        thread.stackSize = 1 << 18
        thread.start()
        return try channel.waitUntilOpen(deadline: deadline).map { HeldSnapshot(channel: channel, transactionId: $0) }
    }
}

extension StoreSnapshot {
    /// LMDB's id of this snapshot's transaction: the id of the last commit it sees. Equal ids mean
    /// equal contents; a commit in any process makes the id of later snapshots larger.
    public var transactionId: Int { transaction.id }
}

/// The holder thread and its users meet here.
///
/// `@unchecked Sendable`: every stored property is read and written only with `condition`
/// locked, and the `StoreSnapshot` it hands out is used only under that lock too.
private final class SnapshotChannel: @unchecked Sendable {
    let condition = NSCondition()
    var snapshot: StoreSnapshot?
    var transactionId = 0
    var opened = false
    var error: (any Error)?
    var closeRequested = false
    var finished = false

    /// Runs on the holder thread: opens the transaction, publishes it, and keeps it open until
    /// asked to close.
    func hold(_ store: StateStore) {
        do {
            try store.read { snapshot in
                condition.lock()
                defer { condition.unlock() }
                // Abandoned by `waitUntilOpen` before LMDB let us in: end at once.
                guard !closeRequested else { return }
                self.snapshot = snapshot
                transactionId = snapshot.transactionId
                opened = true
                condition.broadcast()
                while !closeRequested { condition.wait() }
                self.snapshot = nil
            }
        } catch {
            condition.lock()
            self.error = error
            condition.unlock()
        }
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// The transaction id once the snapshot is open; nil when `deadline` passed first.
    func waitUntilOpen(deadline: Date?) throws -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while !opened && !finished {
            if let deadline {
                if !condition.wait(until: deadline), !opened, !finished {
                    closeRequested = true
                    return nil
                }
            } else {
                condition.wait()
            }
        }
        if let error { throw error }
        return transactionId
    }

    func close() {
        condition.lock()
        defer { condition.unlock() }
        closeRequested = true
        condition.broadcast()
        while !finished { condition.wait() }
    }
}
