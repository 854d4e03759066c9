import LoupeServing
import Logging

/// The service's log handler: `StreamLogHandler`'s output on standard output, with the logger's
/// metadata kept as set and formatted only when a message is logged.
///
/// Hummingbird puts a request id into every request's logger, and `StreamLogHandler` formats its
/// whole metadata each time a key is set; most requests log nothing, so that formatting was
/// wasted work on every request (about 1.5 % of the CPU time of `loupe bench serve`'s HTTP runs).
struct DeferredMetadataLogHandler: LogHandler {
    private var base: StreamLogHandler
    var metadata: Logger.Metadata = [:]

    init(label: String) {
        base = StreamLogHandler.standardOutput(label: label)
    }

    /// Writing to `stream` instead (tests).
    init(label: String, stream: any TextOutputStream & Sendable) {
        base = StreamLogHandler(label: label, stream: stream, metadataProvider: nil)
    }

    var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { base.metadataProvider }
        set { base.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Logs through `StreamLogHandler` with this logger's metadata added to the message's own
    /// (the message's win on a shared key, as they do in `StreamLogHandler`).
    func log(event: LogEvent) {
        var event = event
        if !metadata.isEmpty { event.metadata = metadata.merging(event.metadata ?? [:]) { _, explicit in explicit } }
        base.log(event: event)
    }
}

extension Logger {
    /// A logger of `loupe serve` (`DeferredMetadataLogHandler`).
    public static func service(label: String) -> Logger {
        Logger(label: label, factory: { DeferredMetadataLogHandler(label: $0) })
    }
}
