import LoupeCLI
import ArgumentParser
import Foundation
import LoupeEvents
import LoupeLog

struct Produce: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate JSON-lines events and append them to the log.",
        discussion: """
            Reads one JSON event per line from standard input (or --file). Each valid event is \
            written to the topic its type belongs to (or must belong to --topic), keyed by its \
            user id (item id for catalog events). Only client events are taken (interactions, \
            feedback, sessions, face analyses, catalog); events of Loupe's internal topics are \
            rejected as internal_topic. Each invalid line goes to the dead-letter topic \
            with the reason; the run never stops on bad input. Blank lines are skipped. A summary \
            of accepted and rejected lines goes to standard error; the exit status is 0 unless \
            the log itself fails.

            Example:
              loupe generate --events 10000 --seed 1 | loupe produce
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(
        help: ArgumentHelp(
            "Accept only events of this topic (others are rejected as wrong_topic): one of the client topics, "
                + Topic.clientTopics.map(\.rawValue).sorted().joined(separator: ", ") + ".",
            valueName: "topic"))
    var topic: Topic?

    func validate() throws {
        if let topic, !topic.isClientTopic {
            throw ValidationError(
                "\(topic.rawValue) is an internal topic, written only by Loupe's own roles; produce writes the client topics "
                    + Topic.clientTopics.map(\.rawValue).sorted().joined(separator: ", "))
        }
    }

    @Option(help: ArgumentHelp("Read events from this file instead of standard input.", valueName: "path"))
    var file: String?

    static let batchSize = 4096

    func run() throws {
        let log = try global.openLog()
        let descriptor: Int32
        if let file {
            descriptor = open(file, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw CLIError("cannot open \(file): \(String(cString: strerror(errno)))") }
        } else {
            descriptor = STDIN_FILENO
        }
        defer { if file != nil { close(descriptor) } }

        let producer = try log.makeProducer()
        let ingestor = EventIngestor(producer: producer, source: "produce", topic: topic, clock: { Int64(Date().timeIntervalSince1970 * 1000) })
        let origin = file ?? "stdin"
        let progress = ProgressReporter("produce")
        var blank = 0
        // Lines are validated in batches (on every core); a batch holds consecutive lines so
        // that each input's line number is `first + index`.
        var batch: [[UInt8]] = []
        var batchFirstLine = 1
        func ingestBatch() throws {
            guard !batch.isEmpty else { return }
            try ingestor.ingest(batch: batch, origin: origin, firstIndex: batchFirstLine)
            batch.removeAll(keepingCapacity: true)
        }
        try LineReader(descriptor: descriptor).forEachLine { line, number in
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                try ingestBatch()
                blank += 1
                return
            }
            if batch.isEmpty { batchFirstLine = number }
            batch.append(Array(line))
            if batch.count == Self.batchSize {
                try ingestBatch()
                progress.update(number)
            }
        }
        try ingestBatch()
        try producer.close()
        progress.finish()
        FileHandle.standardError.write(Data(Self.report(ingestor.summary, blank: blank, log: log).utf8))
    }

    static func report(_ summary: EventIngestor.Summary, blank: Int, log: any EventLog) -> String {
        var text = "produce: \(summary.acceptedCount) accepted, \(summary.rejectedCount) rejected into \(log.description)\n"
        if !summary.accepted.isEmpty {
            let parts = summary.accepted.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }
            text += "  accepted: " + parts.joined(separator: ", ") + "\n"
        }
        if !summary.rejected.isEmpty {
            let parts = summary.rejected.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) \($0.value)" }
            text += "  rejected to dead-letter: " + parts.joined(separator: ", ") + "\n"
        }
        if blank > 0 { text += "  blank lines skipped: \(blank)\n" }
        return text
    }
}

extension Topic: ExpressibleByArgument {}
