import LoupeEmbeddedLog
import Foundation
import LoupeEvents
import LoupeLearning
import LoupeLog
import LoupeStore
import Testing

/// `RoleLoop` with a role other than the learner: a role supplies topics, state and fold, and
/// gets batches recorded before they are applied, duplicates skipped, poison dead-lettered,
/// positions committed with its state, and a replay that equals the live fold.
@Suite struct RoleLoopTests {
    /// Counts events by type into its own table.
    struct CountingRole: FoldingRole {
        struct State: FoldState {
            var counts: [String: Int64] = [:]
            var outcomes: [String: Int64] = [:]
            var changed: Set<String> = []

            mutating func apply(_ event: Event) {
                counts[event.type, default: 0] += 1
                changed.insert(event.type)
            }

            mutating func count(_ outcome: FoldOutcome) {
                outcomes["\(outcome)", default: 0] += 1
                changed.insert("outcome/\(outcome)")
            }

            mutating func clearChanges() { changed.removeAll() }
        }

        let table: RawTable
        let clocks: RawTable

        init(store: StateStore) throws {
            table = try store.table(named: "counting")
            clocks = try store.table(named: "counting_clocks")
        }

        var id: String { "counter" }
        var deadLetterSource: String { "counting" }
        var topics: [Topic] { [.interactions, .feedback] }
        var loopSettings: RoleLoopSettings {
            RoleLoopSettings(batchSize: 3, maxDelayMilliseconds: 50, deduplicationWindowMilliseconds: 86_400_000)
        }

        func loadState(from snapshot: StoreSnapshot) throws -> State {
            var state = State()
            let cursor = try snapshot.cursor(table)
            var entry = try cursor.first()
            while let current = entry {
                let key = String(decoding: current.key, as: UTF8.self)
                let value = current.value.withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(as: Int64.self)) }
                if key.hasPrefix("outcome/") { state.outcomes[String(key.dropFirst(8))] = value } else { state.counts[key] = value }
                entry = try cursor.next()
            }
            return state
        }

        func emptyState() -> State { State() }

        func write(_ state: State, to transaction: StoreTransaction) throws {
            for key in state.changed {
                let value = key.hasPrefix("outcome/") ? state.outcomes[String(key.dropFirst(8))]! : state.counts[key]!
                try transaction.put(table, Array(key.utf8), withUnsafeBytes(of: value.littleEndian) { Array($0) })
            }
        }
    }

    static func click(_ id: String, user: String = "u-1", time: Int64) -> [UInt8] {
        Array(
            #"{"event_id":"\#(id)","schema_version":1,"type":"click","timestamp":\#(time),"user_id":"\#(user)","item_id":"i-1","session_id":"s-1"}"#
                .utf8)
    }

    @Test func anotherRoleFoldsExactlyOnceAndReplaysEqually() throws {
        let directory = NSTemporaryDirectory() + "loupe-role-loop-\(UUID().uuidString)"
        let log = try EmbeddedLog(directory: directory)
        _ = try log.apply(TopicDefinitions.builtIn)
        let producer = try log.makeProducer()
        let base: Int64 = 1_767_225_600_000
        var values = (0..<10).map { Self.click("e-\($0)", user: "u-\($0 % 3)", time: base + Int64($0)) }
        values.append(Self.click("e-4", user: "u-1", time: base + 4))  // the same event again
        values.append(Array("not json".utf8))  // poison, written past the ingest checks
        for (index, value) in values.enumerated() {
            try producer.send(topic: Topic.interactions.rawValue, key: Array("k-\(index % 2)".utf8), value: value, timestamp: base + Int64(index))
        }
        try producer.close()

        let store = try StateStore(directory: directory + "/live", model: .onlineLearner)
        let live = try RoleLoop(store: store, log: log, role: try CountingRole(store: store))
        let summary = try live.learn(untilEnd: true)
        #expect(summary.records == 12)
        let state = try store.read { try CountingRole(store: store).loadState(from: $0) }
        #expect(state.counts == ["click": 10])
        #expect(state.outcomes == ["applied": 10, "duplicate": 1, "deadLettered": 1])

        // Its batches are on learner-batches under its id; its dead letter names it.
        var batches = 0
        var letters: [DeadLetter] = []
        try log.forEachRecord(in: try log.partitions(of: [Topic.learnerBatches.rawValue, Topic.deadLetter.rawValue])) { record in
            switch try EventCodec.decode(record.value) {
            case .learnerBatch(let batch): if batch.learner == "counter" { batches += 1 }
            case .deadLetter(let letter): letters.append(letter)
            default: break
            }
        }
        #expect(batches == summary.batches)
        #expect(batches >= 4)
        #expect(letters.count == 1)
        #expect(letters.first?.source == "counting")
        #expect(letters.first?.eventId.hasPrefix("dl-counting-counter-interactions/") == true)

        // Nothing new: a second life folds nothing and writes nothing.
        #expect(try RoleLoop(store: store, log: log, role: try CountingRole(store: store)).learn(untilEnd: true).records == 0)

        // A replay into a fresh store makes the same state and writes no dead letter.
        let rebuilt = try StateStore(directory: directory + "/rebuilt", model: .onlineLearner)
        let replayed = try RoleLoop(store: rebuilt, log: log, role: try CountingRole(store: rebuilt)).replay()
        #expect(replayed.batches == summary.batches)
        #expect(try rebuilt.checksum().digest == store.checksum().digest)
        var lettersAfterReplay = 0
        try log.forEachRecord(in: try log.partitions(of: [Topic.deadLetter.rawValue])) { _ in lettersAfterReplay += 1 }
        #expect(lettersAfterReplay == 1)
    }
}
