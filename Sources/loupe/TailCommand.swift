import LoupeCLI
import ArgumentParser
import Foundation
import LoupeEvents
import LoupeLog

struct Tail: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a topic's records as JSON lines.",
        discussion: """
            Without --from-beginning or --since, only records written from now on are printed \
            (like `tail -f`). With --group, reading resumes from the group's committed position \
            and the position is committed as records are printed. Each line is flushed at once.

            Examples:
              loupe tail --topic interactions --from-beginning --until-end
              loupe tail --topic dead-letter --group ops --max 10
              loupe tail --topic drift-alerts --metadata
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "The topic to read.")
    var topic: String

    @Flag(help: "Start at the oldest retained record.")
    var fromBeginning = false

    @Option(help: ArgumentHelp("Start at the first record at or after this time (epoch ms or ISO-8601).", valueName: "time"))
    var since: String?

    @Flag(help: "Exit once the end of the topic as it was at start is reached (like kcat -e).")
    var untilEnd = false

    @Option(help: "Consumer group: resume from and commit to its position.")
    var group: String?

    @Option(help: "Exit after this many records.")
    var max: Int?

    @Flag(help: "Wrap each record with its topic, partition, offset, timestamp and key.")
    var metadata = false

    func validate() throws {
        if fromBeginning, since != nil { throw ValidationError("--from-beginning and --since exclude each other") }
        if let max, max <= 0 { throw ValidationError("--max must be positive") }
        if let since, Self.parseTime(since) == nil {
            throw ValidationError("--since \(since) is neither epoch milliseconds nor an ISO-8601 date-time")
        }
    }

    static func parseTime(_ text: String) -> Int64? {
        Int64(text) ?? ISO8601Timestamp.milliseconds(text)
    }

    func run() throws {
        let log = try global.openLog()
        let consumer = try log.makeConsumer(group: group)
        defer { consumer.close() }
        let start: StartPosition = since.flatMap(Self.parseTime).map { .timestamp($0) } ?? (fromBeginning ? .beginning : .end)
        if group != nil {
            try consumer.subscribe([topic], fallback: start)
        } else {
            let count = try log.partitionCount(of: topic)
            try consumer.assign(Dictionary(uniqueKeysWithValues: (0..<Int32(count)).map { (TopicPartition(topic, $0), start) }))
        }
        // With a group, Kafka assigns partitions asynchronously, so the ends are taken as each
        // partition arrives in the assignment rather than once at start.
        var ends: [TopicPartition: Int64] = [:]
        let started = ContinuousClock.now
        let output = OutputWriter(descriptor: STDOUT_FILENO, flushEachLine: true)
        var printed = 0
        while true {
            if untilEnd {
                let assigned = consumer.assignment()
                for partition in assigned where ends[partition] == nil { ends[partition] = try log.watermarks(partition).high }
                if !assigned.isEmpty, assigned.allSatisfy({ (consumer.position($0) ?? .min) >= ends[$0]! }) { break }
                if assigned.isEmpty, ContinuousClock.now - started > .seconds(30) {
                    throw CLIError("no partition of \(topic) was assigned to this consumer within 30 s (group \(group ?? "none"))")
                }
            }
            if let max, printed >= max { break }
            let records = try consumer.poll(maxRecords: Swift.min(max.map { $0 - printed } ?? 1000, 1000), timeout: .milliseconds(500))
            for record in records {
                try output.writeLine(metadata ? Self.envelope(record) : record.value)
                printed += 1
            }
            if group != nil, !records.isEmpty { try consumer.commit() }
        }
    }

    /// The record with its coordinates; the value is embedded as JSON when it parses.
    static func envelope(_ record: LogRecord) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("topic"); writer.string(record.topic)
        writer.key("partition"); writer.int(record.partition)
        writer.key("offset"); writer.int(record.offset)
        writer.key("timestamp"); writer.int(record.timestamp)
        writer.key("key")
        if let key = record.key { writer.string(String(decoding: key, as: UTF8.self)) } else { writer.null() }
        writer.key("value")
        if let value = try? JSONParser.parse(record.value) {
            writer.value(value)
        } else {
            writer.string(String(decoding: record.value, as: UTF8.self))
        }
        writer.endObject()
        return writer.bytes
    }
}
