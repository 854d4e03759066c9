import Glibc

/// Reads newline-separated lines from a file descriptor in large chunks, handing each line to
/// the caller as a buffer that is valid only during the call. Lines of any length are
/// supported (the buffer grows); a trailing `\r` is removed; the last line need not end in `\n`.
package struct LineReader {
    package let descriptor: Int32
    package var chunkSize = 1 << 20

    package init(descriptor: Int32, chunkSize: Int = 1 << 20) {
        self.descriptor = descriptor
        self.chunkSize = chunkSize
    }

    /// Calls `body` with each line and its 1-based line number.
    package func forEachLine(_ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        var filled = 0
        var lineNumber = 0
        while true {
            if filled == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
            let count = buffer.withUnsafeMutableBytes { raw in
                read(descriptor, raw.baseAddress! + filled, raw.count - filled)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw CLIError("read failed: \(String(cString: strerror(errno)))")
            }
            let endOfInput = count == 0
            filled += count
            var consumed = 0
            try buffer.withUnsafeBufferPointer { all in
                var start = 0
                for index in 0..<filled where all[index] == UInt8(ascii: "\n") {
                    lineNumber += 1
                    try body(Self.trimmed(all, start, index), lineNumber)
                    start = index + 1
                }
                if endOfInput, start < filled {
                    lineNumber += 1
                    try body(Self.trimmed(all, start, filled), lineNumber)
                    start = filled
                }
                consumed = start
            }
            if consumed > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    raw.baseAddress!.copyMemory(from: raw.baseAddress! + consumed, byteCount: filled - consumed)
                }
                filled -= consumed
            }
            if endOfInput { return }
        }
    }

    private static func trimmed(_ all: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> UnsafeBufferPointer<UInt8> {
        var end = end
        if end > start, all[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return UnsafeBufferPointer(rebasing: all[start..<end])
    }
}

/// An error the CLI reports as a message and exit status 1.
package struct CLIError: Error, CustomStringConvertible {
    package var description: String

    package init(_ description: String) {
        self.description = description
    }
}

/// Writes to a file descriptor in large blocks; `flushEachLine` makes every line visible at
/// once (for `tail`, whose reader may be waiting for it).
package final class OutputWriter {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private let flushEachLine: Bool

    package init(descriptor: Int32, flushEachLine: Bool = false) {
        self.descriptor = descriptor
        self.flushEachLine = flushEachLine
        buffer.reserveCapacity(1 << 16)
    }

    package func writeLine(_ bytes: [UInt8]) throws {
        buffer.append(contentsOf: bytes)
        buffer.append(UInt8(ascii: "\n"))
        if flushEachLine || buffer.count >= 1 << 16 { try flush() }
    }

    package func flush() throws {
        var written = 0
        while written < buffer.count {
            let count = buffer.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, $0.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                throw CLIError("write failed: \(String(cString: strerror(errno)))")
            }
            written += count
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
