import LoupeLog
import Glibc
import LoupeLMDB

/// Wakes readers of the embedded log, in any process, when a writer has committed records.
///
/// The writer rewrites a small file (`appended`) after every commit; readers watch it with
/// inotify and sleep in `poll(2)` until it changes or their timeout passes. A reader drains
/// pending notifications *before* it looks for records, so a commit that lands between its
/// look and its sleep still wakes it: no busy-spinning and no lost wake-ups.
/// A producer's notifier is used only by its one writer thread, hence `@unchecked Sendable`.
final class AppendNotifier: @unchecked Sendable {
    private let path: String
    private var writeDescriptor: Int32 = -1
    private var sequence: UInt64 = 0

    init(directory: String) {
        path = directory + "/appended"
    }

    deinit {
        if writeDescriptor >= 0 { close(writeDescriptor) }
    }

    /// Tells every watcher that records were appended.
    func notify() throws {
        if writeDescriptor < 0 {
            writeDescriptor = PrivateFiles.open(path, flags: O_WRONLY)
            if writeDescriptor < 0 { throw LogError("cannot open \(path): \(String(cString: strerror(errno)))") }
        }
        sequence &+= 1
        let written = withUnsafeBytes(of: sequence) { pwrite(writeDescriptor, $0.baseAddress, $0.count, 0) }
        if written < 0 { throw LogError("cannot write \(path): \(String(cString: strerror(errno)))") }
    }

    /// A reader's subscription to the notifications.
    final class Watch {
        private let descriptor: Int32

        init(path: String) throws {
            // The file must exist before it can be watched.
            let file = PrivateFiles.open(path, flags: O_WRONLY)
            if file >= 0 { close(file) }
            descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
            guard descriptor >= 0 else { throw LogError("inotify_init1: \(String(cString: strerror(errno)))") }
            guard inotify_add_watch(descriptor, path, UInt32(IN_MODIFY)) >= 0 else {
                let message = String(cString: strerror(errno))
                close(descriptor)
                throw LogError("cannot watch \(path): \(message)")
            }
        }

        deinit {
            close(descriptor)
        }

        /// Forgets notifications received so far.
        func drain() {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while buffer.withUnsafeMutableBytes({ read(descriptor, $0.baseAddress, $0.count) }) > 0 {}
        }

        /// Sleeps until a notification arrives or `milliseconds` pass.
        func wait(milliseconds: Int32) {
            var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            _ = poll(&request, 1, max(0, milliseconds))
        }
    }

    func watch() throws -> Watch {
        try Watch(path: path)
    }
}
