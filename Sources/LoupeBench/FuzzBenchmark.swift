import LoupeConcurrency
import LoupeHTTP
import Foundation
import LoupeConfig
import Synchronization
import LoupeEvents
import LoupeLearning
import LoupeLog
import LoupeServing
import LoupeStore
import LoupeWorld

/// The ingest fuzz run (`loupe bench fuzz`, and at a small size in `ops/test.sh`): mutated events
/// (`EventFuzzer`) go in a third each through `loupe produce` (the binary, as a user runs it),
/// `POST /v1/events` on a running HTTP server, and a raw producer straight into the client
/// topics, as any Kafka client could; then a learner folds the whole log. Every input is
/// accounted for: accepted (on its topic, and folded) or dead-lettered with a reason, by
/// whoever rejected it. Lost and duplicated inputs must be 0, and no request may get a 5xx.
public enum FuzzBenchmark {
    public struct Options: Sendable {
        public var inputs = 30_000
        public var seed: UInt64 = 1
        /// The `loupe` binary that `produce` runs from.
        public var loupeBinary: String
        /// The options that point `loupe produce` at `log` (`--data DIR`, or `--brokers … ` with
        /// a configuration whose topic prefix is the log's).
        public var logArguments: [String]
        /// Where the learner's store is made (a fresh directory).
        public var storeDirectory: String

        public init(loupeBinary: String, logArguments: [String], storeDirectory: String) {
            self.loupeBinary = loupeBinary
            self.logArguments = logArguments
            self.storeDirectory = storeDirectory
        }
    }

    public struct Path: Sendable, Equatable {
        public var sent = 0
        public var accepted = 0
        public var deadLettered = 0
    }

    public struct Report: Sendable {
        public var produce = Path()
        public var http = Path()
        public var raw = Path()
        /// Inputs neither on their topic nor in dead-letter (must be 0).
        public var lost = 0
        /// Inputs on their topic or in dead-letter more than once (must be 0).
        public var duplicated = 0
        /// HTTP responses with a 5xx status (must be 0).
        public var serverErrors = 0
        public var kinds: [String: Int] = [:]
        public var reasons: [String: Int] = [:]
        public var learnerRecords = 0
        public var problems: [String] = []

        public var sent: Int { produce.sent + http.sent + raw.sent }
        public var accepted: Int { produce.accepted + http.accepted + raw.accepted }
        public var deadLettered: Int { produce.deadLettered + http.deadLettered + raw.deadLettered }
        public var holds: Bool { lost == 0 && duplicated == 0 && serverErrors == 0 && problems.isEmpty }

        public var lines: [String] {
            func row(_ name: String, _ path: Path) -> String {
                "  \(name): sent \(path.sent), accepted \(path.accepted), dead-lettered \(path.deadLettered)"
            }
            var lines = [
                "fuzz: sent \(sent), accepted \(accepted), dead-lettered \(deadLettered), lost \(lost), duplicated \(duplicated), 5xx \(serverErrors)",
                row("produce", produce), row("http   ", http), row("raw    ", raw),
                "  learner folded \(learnerRecords) records and kept going",
                "  mutations: " + kinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "),
                "  reasons: " + reasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "),
            ]
            lines += problems.map { "  PROBLEM: \($0)" }
            return lines
        }
    }

    public static func run(log: any EventLog, options: Options, progress: (String) -> Void = { _ in }) throws -> Report {
        var report = Report()
        let world = try SyntheticWorld(WorldConfiguration(seed: options.seed, users: 500, items: 200, events: options.inputs))
        var fuzzer = EventFuzzer(seed: options.seed &+ 0x5EED)
        var lines: [[UInt8]] = []
        var posts: [[UInt8]] = []
        var raw: [(topic: String, bytes: [UInt8])] = []
        let clientTopics = Topic.clientTopics.map(\.rawValue).sorted()
        for (index, event) in world.events().enumerated() {
            let (bytes, kind) = fuzzer.mutate(event)
            report.kinds[kind.rawValue, default: 0] += 1
            switch index % 3 {
            case 0: lines.append(Self.asLine(bytes))
            case 1: posts.append(Self.asLine(bytes))
            default:
                // Mostly the topic the event was made for; one in ten, any client topic.
                raw.append((index % 10 == 2 ? clientTopics[(index / 10) % clientTopics.count] : event.topic.rawValue, bytes))
            }
        }
        let counted = try log.partitions(of: clientTopics + [Topic.deadLetter.rawValue])
        let before = try Self.ends(of: counted, in: log)

        // 1. loupe produce, the binary.
        progress("fuzz: \(lines.count) inputs through loupe produce")
        report.produce = try Self.produce(lines, options: options)

        // 2. POST /v1/events on a running server.
        progress("fuzz: \(posts.count) inputs through POST /v1/events")
        (report.http, report.serverErrors) = try Self.post(posts, log: log)

        // 3. A raw producer, any client topic, any key.
        progress("fuzz: \(raw.count) inputs straight into the client topics")
        let producer = try log.makeProducer()
        for (index, (topic, bytes)) in raw.enumerated() {
            try producer.send(
                topic: topic, key: Array("fuzz-\(index % 97)".utf8), value: bytes,
                timestamp: 1_767_225_600_000 + Int64(index))
        }
        try producer.close()
        report.raw.sent = raw.count

        // The learner folds it all.
        progress("fuzz: the learner folds the log")
        var settings = LearnerSettings()
        settings.maxDelayMilliseconds = 50
        let store = try StateStore(directory: options.storeDirectory, model: settings.modelKey)
        let summary = try OnlineLearner(store: store, log: log, settings: settings).learn(untilEnd: true)
        report.learnerRecords = summary.records

        // Accounting.
        let after = try Self.ends(of: counted, in: log)
        let onTopics = Int(counted.filter { $0.topic != Topic.deadLetter.rawValue }.reduce(0) { $0 + after[$1]! - before[$1]! })
        var ids: [String: Int] = [:]
        var bySource: [String: Int] = [:]
        try log.forEachRecord(in: try log.partitions(of: [Topic.deadLetter.rawValue]), from: before) { record in
            guard case .deadLetter(let letter) = try EventCodec.decode(record.value, topic: .deadLetter) else { return }
            ids[letter.eventId, default: 0] += 1
            bySource[letter.source, default: 0] += 1
            report.reasons[letter.reasonCode, default: 0] += 1
        }
        let repeated = ids.values.reduce(0) { $0 + $1 - 1 }
        let counters = try LearnerCounters.committed(in: store)
        report.raw.deadLettered = Int(counters[.deadLettered])
        report.raw.accepted = report.raw.sent - report.raw.deadLettered

        let expectedOnTopics = report.produce.accepted + report.http.accepted + report.raw.sent
        report.lost = max(0, expectedOnTopics - onTopics)
        report.duplicated = max(0, onTopics - expectedOnTopics) + repeated
        if summary.records != onTopics { report.problems.append("the learner read \(summary.records) records of \(onTopics)") }
        let folded = Int(counters[.applied] + counters[.duplicates] + counters[.deadLettered])
        if folded != onTopics { report.problems.append("applied + duplicates + dead-lettered = \(folded), not the \(onTopics) records") }
        for (source, path) in [("produce", report.produce), ("http", report.http), ("learner", report.raw)] {
            let found = bySource[source] ?? 0
            if found != path.deadLettered {
                report.problems.append("\(path.deadLettered) rejected by \(source), but \(found) dead letters from it")
                report.lost += max(0, path.deadLettered - found)
            }
        }
        let unaccounted = report.sent - report.accepted - report.deadLettered
        if unaccounted != 0 { report.problems.append("\(unaccounted) inputs neither accepted nor dead-lettered") }
        return report
    }

    /// An input as one line of JSON lines: a raw newline would make it two inputs, and a line
    /// of only spaces and tabs is no input at all, so those are changed (and still mutated).
    static func asLine(_ bytes: [UInt8]) -> [UInt8] {
        var line = bytes.map { $0 == 0x0A ? 0x0B : $0 }
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { line += Array("x".utf8) }
        return line
    }

    private static func produce(_ lines: [[UInt8]], options: Options) throws -> Path {
        let file = options.storeDirectory + ".produce.jsonl"
        var body: [UInt8] = []
        for line in lines { body += line + [0x0A] }
        try Data(body).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: options.loupeBinary)
        process.arguments = ["produce", "--file", file] + options.logArguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let summary = text.split(separator: "\n").first(where: { $0.hasPrefix("produce: ") })
        else { throw LoopbackHTTPConnection.Failure(description: "loupe produce failed: \(text)") }
        // "produce: A accepted, R rejected into …"
        let words = summary.split(separator: " ")
        guard words.count > 3, let accepted = Int(words[1]), let rejected = Int(words[3]) else {
            throw LoopbackHTTPConnection.Failure(description: "unexpected summary from loupe produce: \(summary)")
        }
        return Path(sent: lines.count, accepted: accepted, deadLettered: rejected)
    }

    /// Posts the lines in JSON-lines batches within the server's limits; returns the counts
    /// the responses gave and how many responses were 5xx.
    private static func post(_ lines: [[UInt8]], log: any EventLog) throws -> (Path, Int) {
        var server = ServerSettings()
        server.host = "127.0.0.1"
        server.port = 0
        let token = "fuzz-\(UInt64.random(in: 1...UInt64.max))"
        let settings = HTTPSettings(server: server, inference: InferenceSettings(), environment: ["LOUPE_API_TOKEN": token])
        let running = try HTTPServer(service: NoRecommender(), log: log, settings: settings).start()
        defer { try? waitFor { try await running.stop() } }
        // Port 0: the kernel picks a free port, which no other process can take in between.
        let listening = Mutex<Int?>(nil)
        try waitFor { listening.withLock { $0 = nil }; let port = await running.port(); listening.withLock { $0 = port } }
        guard let port = listening.withLock({ $0 }) else {
            throw LoopbackHTTPConnection.Failure(description: "the HTTP server did not start listening within 30 s")
        }
        try Self.waitUntilServing(port: port)

        var path = Path(sent: lines.count)
        var serverErrors = 0
        var start = 0
        while start < lines.count {
            var body: [UInt8] = []
            var end = start
            while end < lines.count, end - start < min(settings.maxEventsPerRequest, 200),
                body.count + lines[end].count + 1 <= settings.maxBodyBytes || end == start
            {
                body += lines[end] + [0x0A]
                end += 1
            }
            let (status, response) = try Self.request(
                port: port, method: "POST", path: "/v1/events",
                headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/x-ndjson"], body: body)
            if status >= 500 { serverErrors += 1 }
            guard case .object(let object)? = try? JSONParser.parse(response),
                case .int(let accepted)? = object["accepted"], case .int(let rejected)? = object["rejected"]
            else {
                throw LoopbackHTTPConnection.Failure(
                    description: "POST /v1/events answered \(status): \(String(decoding: response.prefix(300), as: UTF8.self))")
            }
            path.accepted += Int(accepted)
            path.deadLettered += Int(rejected)
            start = end
        }
        let (health, _) = try Self.request(port: port, method: "GET", path: "/healthz", headers: [:], body: [])
        if health != 200 { serverErrors += 1 }
        return (path, serverErrors)
    }

    private static func waitUntilServing(port: Int) throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while (try? Self.request(port: port, method: "GET", path: "/healthz", headers: [:], body: []).status) != 200 {
            guard ContinuousClock.now < deadline else {
                throw LoopbackHTTPConnection.Failure(description: "the HTTP server did not answer on port \(port) within 30 s")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// One request on its own connection (`Connection: close`): the status and the body.
    static func request(port: Int, method: String, path: String, headers: [String: String], body: [UInt8]) throws -> (
        status: Int, body: [UInt8]
    ) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw LoopbackHTTPConnection.Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var address = LoopbackHTTPConnection.loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw LoopbackHTTPConnection.Failure(description: "connect: \(String(cString: strerror(errno)))") }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let request = Array((head + "\r\n").utf8) + body
        var sent = 0
        while sent < request.count {
            let written = request.withUnsafeBytes { send(descriptor, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw LoopbackHTTPConnection.Failure(description: "send: \(String(cString: strerror(errno)))") }
            sent += written
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let received = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if received <= 0 { break }
            response += chunk[0..<received]
        }
        guard let split = Self.find([13, 10, 13, 10], in: response),
            let statusLine = String(decoding: response[0..<split], as: UTF8.self).split(separator: "\r\n").first,
            statusLine.hasPrefix("HTTP/1.1 "), let status = Int(statusLine.dropFirst(9).prefix(3))
        else { throw LoopbackHTTPConnection.Failure(description: "not an HTTP response (\(response.count) bytes)") }
        return (status, Array(response[(split + 4)...]))
    }

    private static func find(_ pattern: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= pattern.count else { return nil }
        for start in 0...(bytes.count - pattern.count) where bytes[start..<(start + pattern.count)].elementsEqual(pattern) {
            return start
        }
        return nil
    }

    /// Each partition's high watermark.
    private static func ends(of partitions: [TopicPartition], in log: any EventLog) throws -> [TopicPartition: Int64] {
        var ends: [TopicPartition: Int64] = [:]
        for partition in partitions { ends[partition] = try log.watermarks(partition).high }
        return ends
    }
}

/// A service with no model, for runs that exercise only the write routes.
struct NoRecommender: RecommendationService {
    func recommendations(for request: RecommendationRequest) async throws -> RecommendationList {
        throw ServingError.notReady("no model in a fuzz run")
    }

    func similar(to itemId: String, k: Int) throws -> SimilarItems {
        throw ServingError.notReady("no model in a fuzz run")
    }

    func variant(of userId: String) -> String { "control" }

    var status: ServingStatus {
        ServingStatus(
            models: [
                ModelStatus(
                    model: .onlineLearner, ready: false, reason: "no model in a fuzz run", snapshot: nil, snapshotAgeSeconds: 0,
                    positions: [], itemCount: 0)
            ], cacheHits: 0, cacheMisses: 0, cacheEntries: 0, cacheBytes: 0)
    }
}
