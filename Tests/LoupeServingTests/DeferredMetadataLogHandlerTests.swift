import Logging
import Synchronization
import Testing

@testable import LoupeHTTP
@testable import LoupeServing

@Suite struct DeferredMetadataLogHandlerTests {
    /// Collects what the handler writes.
    final class Lines: TextOutputStream, @unchecked Sendable {
        private let text = Mutex("")
        func write(_ string: String) { text.withLock { $0 += string } }
        var written: String { text.withLock { $0 } }
    }

    @Test func writesTheLoggersMetadataWithTheMessagesOwnWinningOnASharedKey() {
        let lines = Lines()
        var logger = Logger(label: "loupe.test", factory: { DeferredMetadataLogHandler(label: $0, stream: lines) })
        logger[metadataKey: "request"] = "r-1"
        logger[metadataKey: "shared"] = "from the logger"
        #expect(logger[metadataKey: "request"] == "r-1")
        logger.info("hello", metadata: ["shared": "from the message"])
        let line = lines.written
        #expect(line.contains("info loupe.test: "))
        #expect(line.contains("request=r-1"))
        #expect(line.contains("shared=from the message"))
        #expect(!line.contains("from the logger"))
        #expect(line.hasSuffix("hello\n"))
    }

    @Test func respectsTheLogLevel() {
        let lines = Lines()
        var logger = Logger(label: "loupe.test", factory: { DeferredMetadataLogHandler(label: $0, stream: lines) })
        logger.logLevel = .warning
        logger.info("quiet")
        logger.warning("loud")
        #expect(!lines.written.contains("quiet"))
        #expect(lines.written.contains("loud"))
    }
}
