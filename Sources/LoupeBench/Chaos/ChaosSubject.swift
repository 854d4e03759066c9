import LoupeLogBackends
import LoupeEmbeddedLog
import Foundation
import LoupeConfig
import LoupeEvents
import LoupeLearning
import LoupeLog
import LoupeStore

/// One log and state store that a scenario works on: the global options that point `loupe`
/// children at them, and the in-process reads that count what they hold.
final class ChaosSubject {
    /// The topics the learner folds; the events a scenario sends go to these.
    static let learnedTopics: [Topic] = [.catalog, .faceAnalysis, .sessions, .interactions, .feedback]

    let name: String
    /// Global options of every `loupe` child working on this subject.
    var options: [String] { logOptions + ["--data", data] }
    /// The options that select the log and the learner's settings (--data aside).
    private let logOptions: [String]
    /// The data directory: the state store (and the embedded log) live under it.
    let data: String
    private let settings: LogSettings
    private var openLog: (any EventLog)?

    /// A fresh subject in `directory`: the embedded log, or (with `brokers`) Kafka topics under a
    /// unique prefix; its learner folds batches of `batchSize` records.
    init(name: String, directory: String, brokers: String?, batchSize: Int) throws {
        self.name = name
        let root = directory + "/\(name)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        data = root + "/data"
        let config = root + "/loupe.yaml"
        var yaml = "learner:\n  batch_size: \(batchSize)\n"
        var settings = LogSettings()
        settings.data = data
        if let brokers {
            let prefix = "chaos-\(UUID().uuidString.prefix(8).lowercased())."
            yaml += "log:\n  topic_prefix: \"\(prefix)\"\n  kafka:\n    receive.message.max.bytes: 1000000000\n"
            logOptions = ["--brokers", brokers, "--config", config]
            settings.brokers = brokers
            settings.topicPrefix = prefix
            settings.kafka = ["receive.message.max.bytes": "1000000000"]
        } else {
            logOptions = ["--config", config]
        }
        try yaml.write(toFile: config, atomically: true, encoding: .utf8)
        self.settings = settings
    }

    /// A fresh store on the Kafka topics of `other` (for `loupe replay` into it).
    init(name: String, directory: String, sharingLogOf other: ChaosSubject) throws {
        precondition(other.settings.brokers != nil, "only a Kafka log can be shared between data directories")
        self.name = name
        let root = directory + "/\(name)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        data = root + "/data"
        logOptions = other.logOptions
        var settings = other.settings
        settings.data = data
        self.settings = settings
    }

    var log: any EventLog {
        get throws {
            if let openLog { return openLog }
            let log = try LogFactory.open(settings)
            openLog = log
            return log
        }
    }

    /// Call after killing a process that wrote this subject's log, before counting it. The
    /// embedded log is open in this process the whole run, and LMDB may not show it a commit
    /// that the killed writer made durable but had not yet published
    /// (`LMDBEnvironment.publishCommitOfKilledWriter`); the store is opened afresh for each read
    /// and needs nothing. Kafka needs nothing.
    func settleAfterKill() throws {
        try (log as? EmbeddedLog)?.publishCommitOfKilledWriter()
    }

    /// The store, opened read-only for one read and closed again, so that this process holds no
    /// LMDB environment of it between reads; nil while no learner has created it (its file and
    /// all of its tables: a learner killed early may leave a file without them).
    private func readStore<T>(_ body: (StateStore) throws -> T) throws -> T? {
        guard let store = try? StateStore(directory: data, model: .onlineLearner, readOnly: true) else { return nil }
        return try body(store)
    }

    /// The positions the store holds (next offset per partition); empty before the first commit.
    func positions() throws -> [TopicPartition: Int64] {
        try readStore { store in
            try store.read { snapshot in
                var positions: [TopicPartition: Int64] = [:]
                for position in try snapshot.positions() {
                    positions[TopicPartition(position.topic, position.partition)] = position.offset
                }
                return positions
            }
        } ?? [:]
    }

    /// Records the learner has folded: the sum of the store's positions.
    func foldedRecords() throws -> Int64 {
        try positions().values.reduce(0, +)
    }

    /// The learner's counters, 0 for one never written.
    func counters() throws -> LearnerCounts {
        try readStore { store in
            let counters = try LearnerCounters.committed(in: store)
            return LearnerCounts(applied: counters[.applied], duplicates: counters[.duplicates], deadLettered: counters[.deadLettered])
        } ?? LearnerCounts()
    }

    func checksum() throws -> String {
        guard let digest = try readStore({ try $0.checksum().digest }) else {
            throw ChaosError("\(name): no state store at \(data)")
        }
        return digest
    }

    /// Bytes of the store's `data.mdb`.
    func storeFileBytes() -> Int {
        (try? FileManager.default.attributesOfItem(atPath: data + "/state/data.mdb")[.size] as? Int) ?? 0
    }

    /// Every partition of `topics` with its high watermark.
    func highWatermarks(_ topics: [Topic]) throws -> [TopicPartition: Int64] {
        var marks: [TopicPartition: Int64] = [:]
        for topic in topics {
            for partition in 0..<Int32(try log.partitionCount(of: topic.rawValue)) {
                let place = TopicPartition(topic.rawValue, partition)
                marks[place] = try log.watermarks(place).high
            }
        }
        return marks
    }

    /// Records in the learned topics (the sum of their high watermarks).
    func learnedRecords() throws -> Int64 {
        try highWatermarks(Self.learnedTopics).values.reduce(0, +)
    }

    func deadLetterRecords() throws -> Int64 {
        try highWatermarks([.deadLetter]).values.reduce(0, +)
    }

    /// Reads every record of `topics` from the beginning to the high watermark as it is now.
    func forEachRecord(of topics: [Topic], _ body: (LogRecord) throws -> Void) throws {
        try log.forEachRecord(in: try log.partitions(of: topics.map(\.rawValue)), body)
    }

    /// Counts the records of the learned topics and their distinct event ids.
    func eventIdentities() throws -> (records: Int, ids: Set<String>) {
        var records = 0
        var ids = Set<String>()
        try forEachRecord(of: Self.learnedTopics) { record in
            records += 1
            if let event = try? EventCodec.decode(record.value) { ids.insert(event.eventId) }
        }
        return (records, ids)
    }

    /// The sequence numbers of the batches `learner` recorded in learner-batches whose
    /// positions go beyond the store's: each one was recorded and not yet committed when its
    /// learner stopped. The rule is the learner's own (OnlineLearner.pendingBatches), applied
    /// from outside.
    func recordedButUncommittedBatches(learner: String = "learner") throws -> [Int64] {
        let stored = try positions()
        var pending: [Int64] = []
        try forEachRecord(of: [.learnerBatches]) { record in
            guard case .learnerBatch(let batch) = try? EventCodec.decode(record.value, topic: .learnerBatches), batch.learner == learner
            else { return }
            let ahead = batch.positions.contains { topic, offsets in
                offsets.enumerated().contains { partition, offset in offset > (stored[TopicPartition(topic, Int32(partition))] ?? 0) }
            }
            if ahead { pending.append(batch.sequence) }
        }
        return pending
    }

    /// Whether the last batch `learner` recorded reaches the end of every learned partition:
    /// a learner started now finds nothing new to record.
    func recordedBatchesReachTheEnd(learner: String = "learner") throws -> Bool {
        var last: LearnerBatch?
        try forEachRecord(of: [.learnerBatches]) { record in
            if case .learnerBatch(let batch) = try? EventCodec.decode(record.value, topic: .learnerBatches), batch.learner == learner {
                last = batch
            }
        }
        guard let last else { return false }
        return try highWatermarks(Self.learnedTopics).allSatisfy { place, end in
            (last.positions[place.topic].flatMap { Int(place.partition) < $0.count ? $0[Int(place.partition)] : nil } ?? 0) >= end
        }
    }

    /// Records in learner-batches: one per batch recorded, while no one forges them.
    func recordedBatches() throws -> Int64 {
        try highWatermarks([.learnerBatches]).values.reduce(0, +)
    }
}

/// The learner's counters that a scenario checks.
struct LearnerCounts: Equatable, CustomStringConvertible {
    var applied: Int64 = 0
    var duplicates: Int64 = 0
    var deadLettered: Int64 = 0

    var description: String { "applied \(applied), duplicates \(duplicates), dead-lettered \(deadLettered)" }
}
