import LoupeML
import LoupeEmbeddedLog
import Foundation
import LoupeConfig
import LoupeEvents
import LoupeLearning
import LoupeLog
import LoupeStore
import LoupeWorld
import Testing

/// The learner on the embedded log: it stores what the in-memory fold learns, a replay equals it, and
/// bad or early input neither stops it nor is lost. (Crash recovery against Kafka, with real
/// processes, is in LoupeCLITests.)
@Suite struct OnlineLearnerTests {
    struct Setup {
        let directory: String
        let log: EmbeddedLog
        let world: SyntheticWorld
    }

    static func freshDirectory() -> String {
        NSTemporaryDirectory() + "loupe-learner-\(UUID().uuidString)"
    }

    /// A generated world produced into a fresh embedded log (with one partition per topic when
    /// `singlePartitions`, so that the merged order is the generator's own).
    static func world(events: Int, seed: UInt64, users: Int = 1_000, items: Int = 300, singlePartitions: Bool = false) throws -> Setup {
        let directory = freshDirectory()
        let log = try EmbeddedLog(directory: directory)
        _ = try log.apply(
            singlePartitions ? TopicDefinitions.builtIn.map { var topic = $0; topic.partitions = 1; return topic } : TopicDefinitions.builtIn)
        let world = try SyntheticWorld(WorldConfiguration(seed: seed, users: users, items: items, events: events))
        let producer = try log.makeProducer()
        let ingestor = EventIngestor(producer: producer, source: "test", clock: { 0 })
        try ingestor.ingest(batch: world.events().map(EventCodec.encode), origin: "world", firstIndex: 1)
        try producer.close()
        #expect(ingestor.summary.acceptedCount == events)
        return Setup(directory: directory, log: log, world: world)
    }

    static func settings(batchSize: Int = 1_000) -> LearnerSettings {
        var settings = LearnerSettings()
        settings.batchSize = batchSize
        settings.maxDelayMilliseconds = 50
        return settings
    }

    /// The learner's counters by name, 0 for one never written.
    static func counters(_ store: StateStore, _ names: [String]) throws -> [String: Int64] {
        let committed = try LearnerCounters.committed(in: store)
        var counters: [String: Int64] = [:]
        for name in names {
            let counter = try #require(LearnerCounter(rawValue: name), "no learner counter \(name)")
            counters[name] = committed[counter]
        }
        return counters
    }

    /// What `loupe learn` stores is what the in-memory fold (`LearnerFold`, which the offline
    /// evaluation scores) learns from the same events: every stored row, bias and user vector is
    /// bit for bit the fold's.
    @Test func theStoreHoldsWhatTheInMemoryFoldLearns() throws {
        let setup = try Self.world(events: 30_000, seed: 9, users: 600, items: 200, singlePartitions: true)
        let store = try StateStore(directory: setup.directory, model: .onlineLearner)
        let summary = try OnlineLearner(store: store, log: setup.log, settings: Self.settings(batchSize: 4_000)).learn(untilEnd: true)
        #expect(summary.records == 30_000)

        var fold = LearnerFold(settings: Self.settings())
        for event in setup.world.events() { fold.apply(event) }
        let model = fold.online
        #expect(model.itemCount == 200 && model.userCount > 500)
        try store.read { snapshot throws in
            for (index, id) in fold.itemIds.enumerated() {
                #expect(try snapshot.itemEmbedding(id) == Array(model.items.row(index)), "item \(id)")
                #expect(try snapshot.itemBias(id) == model.biases[index], "bias of \(id)")
                #expect(try snapshot.itemPopularity(id) == fold.popularity.values[index], "popularity of \(id)")
            }
            for user in 0..<model.userCount {
                let id = SyntheticWorld.userId(user)
                guard let row = fold.userIndex(of: id) else { continue }
                #expect(try snapshot.userEmbedding(id) == Array(model.userVector(row)), "user \(id)")
            }
        }
    }

    @Test func replayEqualsTheLiveState() throws {
        let setup = try Self.world(events: 20_000, seed: 5)
        let live = try StateStore(directory: setup.directory, model: .onlineLearner)
        // Small batches and two runs, as a learner that was stopped and started again.
        let learner = try OnlineLearner(store: live, log: setup.log, settings: Self.settings(batchSize: 700))
        var stops = 0
        _ = try learner.learn(untilEnd: true, shouldStop: { stops += 1; return stops > 10 })
        _ = try OnlineLearner(store: live, log: setup.log, settings: Self.settings(batchSize: 700)).learn(untilEnd: true)

        let rebuilt = try StateStore(directory: Self.freshDirectory(), model: .onlineLearner)
        let replay = try OnlineLearner(store: rebuilt, log: setup.log, settings: Self.settings()).replay()
        #expect(replay.batches > 20)
        #expect(try rebuilt.checksum().digest == live.checksum().digest)
        let users = try rebuilt.read { try $0.count(.userEmbeddings) }
        let liveUsers = try live.read { try $0.count(.userEmbeddings) }
        #expect(users > 100 && users == liveUsers)
    }

    /// Two learners with their own ids, models and dimensions fold one log into one store side
    /// by side; each model replays to its own checksum, and a learner may not take over
    /// another's model.
    @Test func twoModelsOfOneStoreLearnAndReplayApart() throws {
        let setup = try Self.world(events: 6_000, seed: 11)
        let wide = Self.settings()
        var narrow = Self.settings(batchSize: 900)
        narrow.learnerId = "narrow"
        narrow.modelKey = try ModelKey(parsing: "online-bpr@d8")
        narrow.model.dimension = 8
        let wideStore = try StateStore(directory: setup.directory, model: wide.modelKey)
        let narrowStore = try wideStore.opening(narrow.modelKey)
        let wideSummary = try OnlineLearner(store: wideStore, log: setup.log, settings: wide).learn(untilEnd: true)
        let narrowSummary = try OnlineLearner(store: narrowStore, log: setup.log, settings: narrow).learn(untilEnd: true)
        #expect(wideSummary.records == narrowSummary.records && wideSummary.records > 5_000)
        #expect(try wideStore.models() == [wide.modelKey, narrow.modelKey])
        #expect(try wideStore.read { try $0.dimension } == 64)
        #expect(try narrowStore.read { try $0.dimension } == 8)
        #expect(try wideStore.read { try $0.positions() } == narrowStore.read { try $0.positions() })

        for (settings, store) in [(wide, wideStore), (narrow, narrowStore)] {
            let rebuilt = try StateStore(directory: Self.freshDirectory(), model: settings.modelKey)
            _ = try OnlineLearner(store: rebuilt, log: setup.log, settings: settings).replay()
            #expect(try rebuilt.checksum().digest == store.checksum().digest, "\(settings.modelKey)")
        }

        var intruder = narrow
        intruder.learnerId = "intruder"
        #expect {
            try OnlineLearner(store: narrowStore, log: setup.log, settings: intruder).learn(untilEnd: true)
        } throws: { "\($0)".contains("is written by learner \"narrow\"") }
        #expect(throws: LearnerError.self) { try OnlineLearner(store: wideStore, log: setup.log, settings: narrow) }
    }

    @Test func badAndEarlyInputIsHandledAndCounted() throws {
        let directory = Self.freshDirectory()
        let log = try EmbeddedLog(directory: directory)
        _ = try log.apply(TopicDefinitions.builtIn)
        let producer = try log.makeProducer()
        func send(_ topic: Topic, _ key: String, _ json: String, _ time: Int64) throws {
            try producer.send(topic: topic.rawValue, key: Array(key.utf8), value: Array(json.utf8), timestamp: time)
        }
        let click = { (id: String, user: String, item: String, time: Int64) in
            #"{"event_id":"\#(id)","schema_version":1,"type":"click","timestamp":\#(time),"user_id":"\#(user)","item_id":"\#(item)","session_id":"s"}"#
        }
        try send(.catalog, "frame-1", #"{"event_id":"c1","schema_version":1,"type":"item_upsert","timestamp":1000,"item_id":"frame-1","style":"aviator","frame_width_mm":140,"lens_height_mm":45,"bridge_mm":18,"temple_length_mm":145,"price":120,"currency":"EUR","material":"metal","color":"gold"}"#, 1000)
        // An item the catalog never mentioned, a user with no face analysis, a duplicate, an
        // out-of-order timestamp, and a payload that is not an event at all.
        try send(.interactions, "u1", click("e1", "u1", "ghost-item", 2000), 2000)
        try send(.interactions, "u1", click("e2", "u1", "frame-1", 3000), 3000)
        try send(.interactions, "u1", click("e2", "u1", "frame-1", 3000), 3000)
        try send(.interactions, "u1", click("e3", "u1", "frame-1", 1500), 1500)
        try send(.interactions, "u1", "{not json", 3100)
        try producer.close()

        let store = try StateStore(directory: directory, model: .onlineLearner)
        let summary = try OnlineLearner(store: store, log: log, settings: Self.settings()).learn(untilEnd: true)
        #expect(summary.records == 6)
        let counters = try Self.counters(store, ["applied", "duplicates", "dead_lettered", "unknown_items"])
        #expect(counters == ["applied": 4, "duplicates": 1, "dead_lettered": 1, "unknown_items": 1])
        #expect(try store.read { try $0.itemEmbedding("ghost-item") } != nil)
        #expect(try store.read { try $0.user("u1")?.version } == 3)

        let consumer = try log.makeConsumer(group: nil)
        try consumer.assign([TopicPartition(Topic.deadLetter.rawValue, 0): .beginning])
        let letters = try consumer.poll(maxRecords: 10, timeout: .seconds(5))
        guard letters.count == 1, case .deadLetter(let letter) = try EventCodec.decode(letters[0].value) else {
            Issue.record("expected one dead letter, got \(letters.count)")
            return
        }
        #expect(letter.source == "learner")
        #expect(letter.reasonCode == "invalid_json")
        #expect(letter.location?.hasPrefix("interactions/") == true)
    }

    /// An event id is applied once within the window, whether its repeat comes in the same
    /// batch, a later batch, or after a restart (which rebuilds the learner's index of seen ids
    /// from the store); outside the window, or once pruned, it is applied again.
    /// A batch is folded while the previous batch's transaction is still being written: its
    /// duplicate checks give what the store will say once that transaction commits, so an id
    /// that the pending transaction prunes counts as gone, whether or not it already is.
    @Test func idsThePendingWritePrunesCountAsGone() throws {
        let directory = Self.freshDirectory()
        let log = try EmbeddedLog(directory: directory)
        _ = try log.apply(TopicDefinitions.builtIn)
        let producer = try log.makeProducer()
        for (id, time) in [("e5", 20_000), ("x", 20_100), ("e6", 21_500), ("y", 21_600), ("e5", 20_900), ("z", 21_700)] as [(String, Int64)] {
            let json = #"{"event_id":"\#(id)","schema_version":1,"type":"click","timestamp":\#(time),"user_id":"u1","item_id":"frame-1","session_id":"s"}"#
            try producer.send(topic: Topic.interactions.rawValue, key: Array("u1".utf8), value: Array(json.utf8), timestamp: time)
        }
        try producer.close()
        var settings = Self.settings(batchSize: 2)
        settings.deduplicationWindowMilliseconds = 1_000
        let store = try StateStore(directory: directory, model: .onlineLearner)
        // Batches [e5, x], [e6, y], [e5 again, z]: the second one's commit prunes ids older than
        // 21,600 − 1,000, e5's 20,000 among them, so the repeat at 20,900 is applied.
        _ = try OnlineLearner(store: store, log: log, settings: settings).learn(untilEnd: true)
        #expect(try Self.counters(store, ["applied", "duplicates"]) == ["applied": 6, "duplicates": 0])
    }

    @Test func repeatsAreSkippedWithinTheWindowAcrossBatchesAndRestarts() throws {
        let directory = Self.freshDirectory()
        let log = try EmbeddedLog(directory: directory)
        _ = try log.apply(TopicDefinitions.builtIn)
        let producer = try log.makeProducer()
        func click(_ id: String, _ time: Int64) throws {
            let json = #"{"event_id":"\#(id)","schema_version":1,"type":"click","timestamp":\#(time),"user_id":"u1","item_id":"frame-1","session_id":"s"}"#
            try producer.send(topic: Topic.interactions.rawValue, key: Array("u1".utf8), value: Array(json.utf8), timestamp: time)
            try producer.flush()
        }
        var settings = Self.settings(batchSize: 2)
        settings.deduplicationWindowMilliseconds = 1_000
        let store = try StateStore(directory: directory, model: .onlineLearner)
        func counters() throws -> [String: Int64] { try Self.counters(store, ["applied", "duplicates"]) }
        try click("e1", 10_000)  // applied
        try click("e1", 10_400)  // the same batch: skipped
        try click("e2", 10_100)  // applied
        try click("e1", 10_500)  // a later batch: skipped
        try click("e1", 12_000)  // 2,000 ms after the first: applied
        try click("e1", 12_900)  // skipped (12,000)
        let learner = try OnlineLearner(store: store, log: log, settings: settings)
        _ = try learner.learn(untilEnd: true)
        #expect(try counters() == ["applied": 3, "duplicates": 3])
        // The clock is 12,900, so everything before 11,900 was pruned.
        #expect(try store.read { try $0.count(.seenEventsByTime) } == 1)

        try click("e2", 10_150)  // within the window of e2's 10,100, but that was pruned: applied
        try click("e1", 12_950)  // the same learner, a later run: skipped
        _ = try learner.learn(untilEnd: true)
        #expect(try counters() == ["applied": 4, "duplicates": 4])

        try click("e1", 12_100)  // a new learner reads the seen ids from the store: skipped
        try click("e3", 13_000)  // applied
        _ = try OnlineLearner(store: store, log: log, settings: settings).learn(untilEnd: true)
        #expect(try counters() == ["applied": 5, "duplicates": 5])
        try store.read { snapshot throws in
            #expect(try snapshot.hasSeen("e1", at: 12_000) && snapshot.hasSeen("e3", at: 13_000))
            #expect(try !snapshot.hasSeen("e1", at: 12_100) && !snapshot.hasSeen("e2", at: 10_150))
        }
        try producer.close()
    }

    @Test func keepsEachUsersRecentHistoryAndWhatTheyKept() throws {
        let directory = Self.freshDirectory()
        let log = try EmbeddedLog(directory: directory)
        _ = try log.apply(TopicDefinitions.builtIn)
        let producer = try log.makeProducer()
        let interaction = { (id: String, type: String, item: String, time: Int64) in
            #"{"event_id":"\#(id)","schema_version":1,"type":"\#(type)","timestamp":\#(time),"user_id":"u1","item_id":"\#(item)","session_id":"s"}"#
        }
        // Record times as the events' own, so that the merge (by clock) interleaves the topics
        // in event order.
        let events: [(Topic, String, Int64)] = [
            (.interactions, interaction("e1", "view", "f1", 1_000), 1_000),
            (.interactions, interaction("e2", "purchase", "f1", 2_000), 2_000),
            (.interactions, interaction("e3", "purchase", "f2", 3_000), 3_000),
            (.feedback, #"{"event_id":"e4","schema_version":1,"type":"return","timestamp":4000,"user_id":"u1","item_id":"f2"}"#, 4_000),
            (.interactions, interaction("e5", "click", "f3", 5_000), 5_000),
        ]
        for (topic, json, time) in events {
            try producer.send(topic: topic.rawValue, key: Array("u1".utf8), value: Array(json.utf8), timestamp: time)
        }
        try producer.close()

        var settings = Self.settings(batchSize: 2)
        settings.historyLength = 4
        let store = try StateStore(directory: directory, model: .onlineLearner)
        _ = try OnlineLearner(store: store, log: log, settings: settings).learn(untilEnd: true)
        let (history, kept) = try store.read { try ($0.history(of: "u1"), $0.purchases(of: "u1")) }
        // The newest four, oldest first, across batches of two; the returned frame is not kept.
        #expect(history.entries.map(\.itemId) == ["f1", "f2", "f2", "f3"])
        #expect(history.entries.map(\.kind) == [.purchase, .purchase, .return, .click])
        #expect(history.entries.map(\.time) == [2_000, 3_000, 4_000, 5_000])
        #expect(history.entries[2].weight < 0 && history.entries[3].weight > 0)
        #expect(kept == ["f1"])
    }
}

/// The configuration's `learner:` defaults are the learner's own.
@Suite struct LearnerSettingsTests {
    @Test func theConfigurationsDefaultsAreTheLearnersDefaults() {
        #expect(LearnerSettings(LearnerConfiguration()) == LearnerSettings())
    }
}
