import LoupeEmbeddedLog
import Foundation
import LoupeEvents
import LoupeLog
import Testing

/// Loupe against a Kafka client it did not write (kcat), and several `loupe` processes sharing
/// one embedded log.
@Suite struct InteroperabilityTests {
    /// Runs kcat to its end (on a thread of its own, as `LoupeProcess.run` does).
    static func kcat(_ arguments: [String], stdin: Data? = nil) async throws -> String {
        return try await onOwnThread { try kcatBlocking(arguments, stdin: stdin) }
    }

    private static func kcatBlocking(_ arguments: [String], stdin: Data?) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/kcat")
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input
        try process.run()
        nonisolated(unsafe) var outData = Data()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { outData = output.fileHandleForReading.readDataToEndOfFile() }
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        group.wait()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw TestSetupError("kcat \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(errorText)")
        }
        return String(decoding: outData, as: UTF8.self)
    }

    static func kafkaSetup() throws -> (log: [String], brokers: String, prefix: String) {
        let log = try LoupeProcess.isolatedLog(.kafka)
        let config = log[log.firstIndex(of: "--config")! + 1]
        let text = try String(contentsOfFile: config, encoding: .utf8)
        let prefix = text.split(separator: "\"")[1]
        return (log, log[log.firstIndex(of: "--brokers")! + 1], String(prefix))
    }

    @Test func loupeReadsWhatKcatProduces() async throws {
        let (log, brokers, prefix) = try Self.kafkaSetup()
        try await LoupeProcess.run(["topics", "apply"] + log)
        let lines = try await LoupeProcess.run(["generate", "--events", "2000", "--seed", "3", "--items", "50"]).lines
        let interactions = try lines.map { try EventCodec.decode(Array($0.utf8)) }.filter { $0.topic == .interactions }
        #expect(interactions.count > 500)
        var input = ""
        for event in interactions {
            input += "\(event.key)\t\(String(decoding: EventCodec.encode(event), as: UTF8.self))\n"
        }
        _ = try await Self.kcat(
            ["-b", brokers, "-P", "-t", prefix + "interactions", "-K", "\t", "-X", "partitioner=murmur2_random"],
            stdin: Data(input.utf8))

        let tailed = try await LoupeProcess.run(["tail", "--topic", "interactions", "--from-beginning", "--until-end", "--metadata"] + log).lines
        #expect(tailed.count == interactions.count)
        var received: [String: Event] = [:]
        for line in tailed {
            guard case .object(let envelope) = try JSONParser.parse(line),
                case .int(let partition)? = envelope["partition"], case .string(let key)? = envelope["key"],
                let value = envelope["value"]
            else {
                Issue.record("unexpected tail output \(line)")
                continue
            }
            let event = try EventCodec.decode(value, topic: .interactions)
            #expect(key == event.key)
            #expect(Int32(partition) == Murmur2.partition(for: Array(key.utf8), partitions: 6), "key \(key)")
            received[event.eventId] = event
        }
        #expect(received == Dictionary(uniqueKeysWithValues: interactions.map { ($0.eventId, $0) }))
    }

    @Test func kcatReadsWhatLoupeProduces() async throws {
        let (log, brokers, prefix) = try Self.kafkaSetup()
        try await LoupeProcess.run(["topics", "apply"] + log)
        let generated = try await LoupeProcess.run(["generate", "--events", "2000", "--seed", "4", "--items", "50"])
        try await LoupeProcess.run(["produce"] + log, stdin: generated.stdout)
        let expected = try generated.lines.map { try EventCodec.decode(Array($0.utf8)) }.filter { $0.topic == .interactions }

        let output = try await Self.kcat(["-b", brokers, "-C", "-t", prefix + "interactions", "-e", "-q", "-f", "%p\t%k\t%s\n"])
        let rows = output.split(separator: "\n")
        #expect(rows.count == expected.count)
        var received: [String: Event] = [:]
        for row in rows {
            let fields = row.split(separator: "\t", maxSplits: 2).map(String.init)
            let event = try EventCodec.decode(Array(fields[2].utf8), topic: .interactions)
            #expect(fields[1] == event.key)
            #expect(Int32(fields[0]) == Murmur2.partition(for: Array(fields[1].utf8), partitions: 6))
            received[event.eventId] = event
        }
        #expect(received == Dictionary(uniqueKeysWithValues: expected.map { ($0.eventId, $0) }))
    }

    @Test func processesShareTheEmbeddedLog() async throws {
        let log = try LoupeProcess.isolatedLog(.embedded)
        try await LoupeProcess.run(["topics", "apply"] + log)
        let first = try await LoupeProcess.run(["generate", "--events", "3000", "--seed", "11", "--items", "100"])
        // The second world's catalog would upsert the same item ids; leave it out so that
        // compaction of the catalog topic cannot change the count.
        let secondLines = try await LoupeProcess.run(["generate", "--events", "3000", "--seed", "12", "--items", "100"]).lines
            .filter { !$0.contains(#""type":"item_upsert""#) }
        let second = LoupeProcess.Output(status: 0, stdout: Data(secondLines.map { $0 + "\n" }.joined().utf8), stderr: "")
        let expected = first.lines.count + second.lines.count

        // A reader waiting for records, started before any writer.
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: LoupeProcess.binary)
        reader.arguments = ["tail", "--topic", "catalog", "--from-beginning", "--max", "100"] + log
        let readerOutput = Pipe()
        reader.standardOutput = readerOutput
        try reader.run()

        // Two writers at once.
        let writers = [first, second].map { generated in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: LoupeProcess.binary)
            process.arguments = ["produce"] + log
            let input = Pipe()
            process.standardInput = input
            process.standardError = Pipe()
            try! process.run()
            return (process, input, generated.stdout)
        }
        for (_, input, data) in writers {
            input.fileHandleForWriting.write(data)
            try input.fileHandleForWriting.close()
        }
        for (process, _, _) in writers {
            await process.exited()
            #expect(process.terminationStatus == 0)
        }
        let readerEnd = readerOutput.fileHandleForReading
        let catalog = try await onOwnThread { readerEnd.readDataToEndOfFile() }
        await reader.exited()
        #expect(String(decoding: catalog, as: UTF8.self).split(separator: "\n").count == 100)

        var total = 0
        for topic in Topic.allCases {
            total += try await LoupeProcess.run(["tail", "--topic", topic.rawValue, "--from-beginning", "--until-end"] + log).lines.count
        }
        #expect(total == expected)
    }
}
