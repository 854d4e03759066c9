import LoupeEmbeddedLog
import Foundation
import LoupeEvents
import LoupeLearning
import LoupeLog
import LoupeStore
import Testing

/// Records written straight into the log by any client — not through `produce` or HTTP — never
/// stop the learner: each one it cannot fold is skipped, counted and dead-lettered once, with
/// the reason and its place; live, restarted and replayed learners decide alike; forged
/// records on `learner-batches` are rejected, not obeyed; a crash loses no dead letter.
@Suite struct PoisonRecordTests {
    static let catalog =
        #"{"event_id":"c1","schema_version":1,"type":"item_upsert","timestamp":1000,"item_id":"frame-1","style":"aviator","frame_width_mm":140,"lens_height_mm":45,"bridge_mm":18,"temple_length_mm":145,"price":120,"currency":"EUR","material":"metal","color":"gold"}"#

    static func interaction(_ type: String, _ id: String, user: String, item: String, time: Int64) -> String {
        #"{"event_id":"\#(id)","schema_version":1,"type":"\#(type)","timestamp":\#(time),"user_id":"\#(user)","item_id":"\#(item)","session_id":"s"}"#
    }

    /// The longest ids there are (255 bytes, with two-byte characters): their purchase key,
    /// user ‖ 0 ‖ item, is LMDB's longest key.
    static let longUser = String(repeating: "é", count: 127) + "u"
    static let longItem = String(repeating: "ü", count: 127) + "i"

    /// Valid events and the poison among them: (payload, whether it is poison).
    static let records: [(topic: Topic, json: [UInt8], poison: Bool)] = {
        var records: [(Topic, [UInt8], Bool)] = []
        func add(_ topic: Topic, _ json: String, poison: Bool) { records.append((topic, Array(json.utf8), poison)) }
        add(.catalog, catalog, poison: false)
        add(.interactions, interaction("click", "e1", user: "u1", item: "frame-1", time: 2000), poison: false)
        add(.interactions, interaction("purchase", "p1", user: "evil\\u0000user", item: "frame-1", time: 2100), poison: true)
        add(.interactions, interaction("click", "e2", user: "u1", item: "frame\\u007f1", time: 2200), poison: true)
        add(.interactions, interaction("click", "e3", user: "u\\u2028x", item: "frame-1", time: 2300), poison: true)
        add(.interactions, interaction("click", "e4", user: String(repeating: "x", count: 256), item: "frame-1", time: 2400), poison: true)
        add(.interactions, interaction("purchase", "p2", user: longUser, item: longItem, time: 2500), poison: false)
        add(.feedback, #"{"event_id":"r1","schema_version":1,"type":"return","timestamp":2600,"user_id":"\#(longUser)","item_id":"\#(longItem)"}"#, poison: false)
        add(.interactions, "{not json", poison: true)
        add(.interactions, #"{"event_id":"i1","schema_version":1,"type":"impression","timestamp":2700,"request_id":"r","user_id":"u1","items":[],"model_version":"m","variant":"control"}"#, poison: true)
        add(.sessions, #"{"event_id":"s1","schema_version":1,"type":"session_start","timestamp":[],"user_id":"u1","session_id":"s1"}"#, poison: true)
        add(.interactions, interaction("click", "e5", user: "u2", item: "frame-1", time: 2800), poison: false)
        var bytes = Array(interaction("click", "e6", user: "u3", item: "frame-1", time: 2900).utf8)
        bytes[bytes.count - 3] = 0xFF
        records.append((.interactions, bytes, true))
        return records
    }()

    static func log() throws -> (directory: String, log: EmbeddedLog) {
        let directory = OnlineLearnerTests.freshDirectory()
        let log = try EmbeddedLog(directory: directory)
        _ = try log.apply(TopicDefinitions.builtIn)
        return (directory, log)
    }

    /// Writes records as any Kafka client could: no validation on the way in.
    static func write(_ records: [(topic: Topic, json: [UInt8], poison: Bool)], to log: any EventLog) throws {
        let producer = try log.makeProducer()
        for (index, record) in records.enumerated() {
            try producer.send(topic: record.topic.rawValue, key: Array("k\(index % 3)".utf8), value: record.json, timestamp: 1000 + Int64(index))
        }
        try producer.close()
    }

    /// Every record of `topic`, in partition then offset order.
    static func records(of topic: Topic, in log: any EventLog) throws -> [LogRecord] {
        var records: [LogRecord] = []
        try log.forEachRecord(in: try log.partitions(of: [topic.rawValue])) { records.append($0) }
        return records
    }

    static func deadLetters(in log: any EventLog) throws -> [DeadLetter] {
        try records(of: .deadLetter, in: log).map { record in
            guard case .deadLetter(let letter) = try EventCodec.decode(record.value, topic: .deadLetter) else {
                throw LearnerError("not a dead letter")
            }
            return letter
        }
    }

    @Test func poisonIsDeadLetteredOnceAndTheFoldGoesOn() throws {
        let (directory, log) = try Self.log()
        let half = Self.records.count / 2
        try Self.write(Array(Self.records[..<half]), to: log)
        let store = try StateStore(directory: directory, model: .onlineLearner)
        _ = try OnlineLearner(store: store, log: log, settings: OnlineLearnerTests.settings(batchSize: 3)).learn(untilEnd: true)
        // Restarted, with the rest of the records.
        try Self.write(Array(Self.records[half...]), to: log)
        _ = try OnlineLearner(store: store, log: log, settings: OnlineLearnerTests.settings(batchSize: 3)).learn(untilEnd: true)

        let poison = Self.records.filter(\.poison).count
        let counters = try OnlineLearnerTests.counters(store, ["applied", "dead_lettered"])
        #expect(counters == ["applied": Int64(Self.records.count - poison), "dead_lettered": Int64(poison)])
        // The longest ids folded: bought, then returned.
        #expect(try store.read { try $0.user(Self.longUser)?.version } == 2)

        let letters = try Self.deadLetters(in: log)
        #expect(letters.count == poison)
        #expect(Set(letters.map(\.eventId)).count == poison)
        for letter in letters {
            #expect(letter.source == "learner")
            #expect(letter.location?.contains("@") == true, "\(letter)")
            #expect(!letter.reason.isEmpty)
        }
        #expect(Set(letters.map(\.reasonCode)) == ["invalid_value", "invalid_json", "wrong_topic", "wrong_type", "invalid_utf8"])

        // A replay makes the same decisions and writes no dead letter.
        let rebuilt = try StateStore(directory: OnlineLearnerTests.freshDirectory(), model: .onlineLearner)
        _ = try OnlineLearner(store: rebuilt, log: log, settings: OnlineLearnerTests.settings()).replay()
        #expect(try rebuilt.checksum().digest == store.checksum().digest)
        #expect(try Self.deadLetters(in: log).count == poison)
    }

    @Test func forgedLearnerBatchesAreRejectedNotObeyed() throws {
        let (directory, log) = try Self.log()
        let valid = Self.records.filter { !$0.poison }
        try Self.write(valid, to: log)
        let store = try StateStore(directory: directory, model: .onlineLearner)
        let settings = OnlineLearnerTests.settings(batchSize: 2)
        let first = try OnlineLearner(store: store, log: log, settings: settings).learn(untilEnd: true)
        #expect(first.batches > 1 && first.rejectedBatches == 0)

        // Another client writes to learner-batches: a batch far out of sequence, one with a
        // position beyond the end of the log, garbage, and a valid batch of another learner.
        let producer = try log.makeProducer()
        func forge(_ event: Event) throws {
            try producer.send(topic: Topic.learnerBatches.rawValue, key: Array(settings.learnerId.utf8), value: EventCodec.encode(event), timestamp: 5000)
        }
        var positions: [String: [Int64]] = [:]
        for topic in OnlineLearner.topics { positions[topic.rawValue] = Array(repeating: 0, count: try log.partitionCount(of: topic.rawValue)) }
        try forge(.learnerBatch(LearnerBatch(eventId: "f1", timestamp: 5000, learner: settings.learnerId, sequence: Int64(first.batches) + 5, positions: positions)))
        var beyond = positions
        beyond["interactions"]![0] = 1_000_000
        try forge(.learnerBatch(LearnerBatch(eventId: "f2", timestamp: 5000, learner: settings.learnerId, sequence: Int64(first.batches) + 1, positions: beyond)))
        try producer.send(topic: Topic.learnerBatches.rawValue, key: Array(settings.learnerId.utf8), value: Array("garbage".utf8), timestamp: 5000)
        try forge(.learnerBatch(LearnerBatch(eventId: "f3", timestamp: 5000, learner: "someone-else", sequence: 1, positions: positions)))
        try producer.close()
        try Self.write([(.interactions, Array(Self.interaction("click", "late", user: "u9", item: "frame-1", time: 9000).utf8), false)], to: log)

        let second = try OnlineLearner(store: store, log: log, settings: settings).learn(untilEnd: true)
        #expect(second.rejectedBatches == 3)
        #expect(second.records == 1)
        let letters = try Self.deadLetters(in: log)
        #expect(letters.count == 3)
        #expect(Set(letters.map(\.reasonCode)) == ["out_of_sequence", "invalid_positions", "invalid_json"])
        #expect(letters.allSatisfy { $0.location?.hasPrefix("learner-batches/") == true })

        // Neither a restart nor a replay writes them again; the replay equals the live state.
        let third = try OnlineLearner(store: store, log: log, settings: settings).learn(untilEnd: true)
        #expect(third.rejectedBatches == 3 && third.records == 0)
        let rebuilt = try StateStore(directory: OnlineLearnerTests.freshDirectory(), model: .onlineLearner)
        let replay = try OnlineLearner(store: rebuilt, log: log, settings: settings).replay()
        #expect(replay.rejectedBatches == 3)
        #expect(try Self.deadLetters(in: log).count == 3)
        #expect(try rebuilt.checksum().digest == store.checksum().digest)
    }

    /// A learner that dies after writing a batch's dead letters but before recording the batch
    /// (the only window between them) has lost none: its restart writes them again, with the
    /// same ids.
    @Test func aCrashBeforeTheBatchIsRecordedLosesNoDeadLetter() throws {
        let (directory, log) = try Self.log()
        try Self.write(Self.records, to: log)
        let store = try StateStore(directory: directory, model: .onlineLearner)
        let crashing = CrashingLog(log)
        #expect(throws: CrashingLog.Crash.self) {
            try OnlineLearner(store: store, log: crashing, settings: OnlineLearnerTests.settings()).learn(untilEnd: true)
        }
        let poison = Self.records.filter(\.poison).count
        #expect(try Self.deadLetters(in: log).count == poison)
        #expect(try OnlineLearnerTests.counters(store, ["dead_lettered"]) == ["dead_lettered": 0])

        _ = try OnlineLearner(store: store, log: log, settings: OnlineLearnerTests.settings()).learn(untilEnd: true)
        let letters = try Self.deadLetters(in: log)
        #expect(Set(letters.map(\.eventId)).count == poison)
        #expect(letters.count == 2 * poison)
        #expect(try OnlineLearnerTests.counters(store, ["dead_lettered"]) == ["dead_lettered": Int64(poison)])
    }
}

/// A log whose producers fail the first time anything is sent to `learner-batches`: the
/// learner's crash between a batch's dead letters and its record.
final class CrashingLog: EventLog, @unchecked Sendable {
    struct Crash: Error {}

    let base: any EventLog
    private let lock = NSLock()
    private var crashed = false

    init(_ base: any EventLog) { self.base = base }

    var description: String { "crashing \(base.description)" }
    func apply(_ topics: [TopicSpec]) throws -> [String: TopicApplyOutcome] { try base.apply(topics) }
    func describeTopics() throws -> [TopicDescription] { try base.describeTopics() }
    func partitionCount(of topic: String) throws -> Int { try base.partitionCount(of: topic) }
    func watermarks(_ partition: TopicPartition) throws -> Watermarks { try base.watermarks(partition) }
    func makeConsumer(group: String?) throws -> any LogConsumer { try base.makeConsumer(group: group) }
    func makeProducer() throws -> any LogProducer { Producer(base: try base.makeProducer(), log: self) }

    func crashOnce() -> Bool {
        lock.withLock {
            defer { crashed = true }
            return !crashed
        }
    }

    final class Producer: LogProducer {
        let base: any LogProducer
        let log: CrashingLog

        init(base: any LogProducer, log: CrashingLog) {
            self.base = base
            self.log = log
        }

        func send(topic: String, key: [UInt8]?, value: [UInt8], timestamp: Int64) throws {
            if topic == Topic.learnerBatches.rawValue, log.crashOnce() { throw Crash() }
            try base.send(topic: topic, key: key, value: value, timestamp: timestamp)
        }

        func flush() throws { try base.flush() }
        func close() throws { try base.close() }
    }
}
