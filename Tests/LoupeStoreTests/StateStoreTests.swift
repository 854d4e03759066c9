import LoupeEvents
import Foundation
import LoupeLMDB
import LoupeStore
import Testing

@Suite struct StateStoreTests {
    // MARK: embeddings

    @Test func embeddingsRoundTrip() throws {
        let (store, _) = try Scratch.store(dimension: 4)
        try store.write { transaction throws in
            try transaction.putUserEmbedding("u1", [1, 2, 3, 4])
            try transaction.putItemEmbedding("i1", [-1, 0.5, 0, 1e-30])
            try [Float](repeating: 9, count: 4).withUnsafeBufferPointer { try transaction.putItemEmbedding("i2", $0) }
        }
        try store.write { try $0.putUserEmbedding("u1", [5, 6, 7, 8]) }
        try store.read { snapshot throws in
            #expect(try snapshot.dimension == 4)
            #expect(try snapshot.userEmbedding("u1") == [5, 6, 7, 8])
            #expect(try snapshot.itemEmbedding("i1") == [-1, 0.5, 0, 1e-30])
            #expect(try snapshot.withItemEmbedding("i2") { $0.reduce(0, +) } == 36)
            #expect(try snapshot.withUserEmbedding("nobody") { _ in 1 } == nil)
            #expect(try snapshot.userEmbedding("i1") == nil)
            #expect(try snapshot.itemEmbedding("") == nil)
            let destination = UnsafeMutableBufferPointer<Float>.allocate(capacity: 4)
            defer { destination.deallocate() }
            #expect(try snapshot.copyUserEmbedding("u1", into: destination))
            #expect(Array(destination) == [5, 6, 7, 8])
            #expect(try !snapshot.copyItemEmbedding("missing", into: destination))
            #expect(try snapshot.count(.userEmbeddings) == 1 && snapshot.count(.itemEmbeddings) == 2)
        }
    }

    /// LMDB places a value right after its key, so rows are 4-byte aligned for some key lengths
    /// and not for others; both paths must give the same values.
    @Test func rowsReadBackWhateverTheKeyLength() throws {
        let (store, _) = try Scratch.store(dimension: 3)
        let ids = (1...16).map { String(repeating: "k", count: $0) }
        try store.write { transaction throws in
            for (index, id) in ids.enumerated() { try transaction.putUserEmbedding(id, [Float(index), -Float(index), 0.25]) }
        }
        try store.read { snapshot throws in
            for (index, id) in ids.enumerated() {
                let row = try snapshot.withUserEmbedding(id) { buffer in
                    #expect(Int(bitPattern: buffer.baseAddress) % MemoryLayout<Float>.alignment == 0)
                    return Array(buffer)
                }
                #expect(row == [Float(index), -Float(index), 0.25])
            }
        }
    }

    @Test func dimensionIsEnforced() throws {
        let directory = Scratch.directory()
        let store = try StateStore(directory: directory, model: .onlineLearner)
        #expect(throws: StoreError.dimensionNotSet(table: "user_embeddings", key: "u1")) {
            try store.write { try $0.putUserEmbedding("u1", [1, 2]) }
        }
        try store.write { try $0.setDimension(2) }
        try store.write { try $0.setDimension(2) }
        #expect(throws: StoreError.dimensionConflict(stored: 2, requested: 3)) { try store.write { try $0.setDimension(3) } }
        #expect(throws: StoreError.dimensionMismatch(table: "item_embeddings", key: "i1", expected: 2, actual: 3)) {
            try store.write { try $0.putItemEmbedding("i1", [1, 2, 3]) }
        }
        #expect(throws: StoreError.self) { try store.write { try $0.putItemEmbedding("i1", [1, .nan]) } }
        #expect(throws: StoreError.self) { try store.write { try $0.putItemEmbedding("i1", [.infinity, 1]) } }
        #expect(throws: StoreError.self) { try store.write { try $0.setModelMetadata(ModelMetadataKey.dimension, 3) } }
        #expect(try store.read { try $0.dimension } == 2)
        #expect(try store.read { try $0.count(.itemEmbeddings) } == 0)
    }

    @Test func aFailedWriteStoresNothing() throws {
        let (store, _) = try Scratch.store(dimension: 2)
        #expect(throws: StoreError.self) {
            try store.write { transaction throws in
                try transaction.putUserEmbedding("u1", [1, 2])
                try transaction.setPosition(StorePosition(topic: "interactions", partition: 0, offset: 10))
                try transaction.putUserEmbedding("u2", [1, 2, 3])
            }
        }
        try store.read { snapshot throws in
            #expect(try snapshot.userEmbedding("u1") == nil)
            #expect(try snapshot.positions().isEmpty)
        }
    }

    @Test func keysMustFitLMDB() throws {
        let (store, _) = try Scratch.store(dimension: 1)
        let long = String(repeating: "x", count: StoreTable.maximumKeyLength + 1)
        #expect(throws: StoreError.self) { try store.write { try $0.putUserEmbedding(long, [1]) } }
        #expect(throws: StoreError.self) { try store.write { try $0.putUser("", UserRecord()) } }
        try store.write { try $0.putUserEmbedding(String(long.dropLast()), [1]) }
        #expect(try store.read { try $0.userEmbedding(long) } == nil)
    }

    // MARK: the item matrix

    @Test func itemMatrixIsContiguousAndInKeyOrder() throws {
        let (store, _) = try Scratch.store(dimension: 3)
        let ids = ["b", "a", "ab", "B", "é", "z9", "z10", "aa"]
        try store.write { transaction throws in
            for id in ids { try transaction.putItemEmbedding(id, Self.row(for: id)) }
        }
        let matrix = try store.read { try $0.itemEmbeddingMatrix() }
        let sorted = ids.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        #expect(matrix.ids == sorted)
        #expect(matrix.dimension == 3 && matrix.rowCount == ids.count)
        #expect(matrix.values == sorted.flatMap(Self.row(for:)))
        for (index, id) in sorted.enumerated() {
            #expect(Array(matrix.row(index)) == Self.row(for: id))
            #expect(matrix.rowIndex(of: id) == index)
        }
        #expect(matrix.rowIndex(of: "missing") == nil)
        let users = try store.read { try $0.userEmbeddingMatrix() }
        #expect(users.ids.isEmpty && users.values.isEmpty)
    }

    static func row(for id: String) -> [Float] {
        let seed = Float(id.unicodeScalars.reduce(0) { $0 * 31 + Int($1.value) } % 1000)
        return [seed, seed + 0.5, -seed]
    }

    // MARK: records

    @Test func usersAndItemsRoundTrip() throws {
        let (store, _) = try Scratch.store()
        let users = ["u2": UserRecord(version: 1, faceShapeIndex: 0), "u1": RecordLayoutTests.user]
        try store.write { transaction throws in
            for (id, record) in users { try transaction.putUser(id, record) }
            try transaction.putItem("frame", RecordLayoutTests.item)
            try transaction.putItem("placeholder", ItemRecord(version: 1))
        }
        try store.read { snapshot throws in
            #expect(try snapshot.user("u1") == RecordLayoutTests.user)
            #expect(try snapshot.item("frame") == RecordLayoutTests.item)
            #expect(try snapshot.user("nobody") == nil)
            var seen: [String] = []
            try snapshot.forEachUser { id, record in
                seen.append(id)
                #expect(users[id] == record)
            }
            #expect(seen == ["u1", "u2"])
            var items: [String] = []
            try snapshot.forEachItem { id, _ in items.append(id) }
            #expect(items == ["frame", "placeholder"])
        }
        #expect(throws: StoreError.invalidWrite(table: "users", key: "u3", reason: "face shape index 9 is not in 0–5")) {
            try store.write { try $0.putUser("u3", UserRecord(faceShapeIndex: 9)) }
        }
    }

    @Test func corruptRowsAreRejectedWithTableAndKey() throws {
        let (store, directory) = try Scratch.store(dimension: 4)
        try Scratch.plant(directory, table: .users, key: "broken-user", value: [1, 2, 3])
        try Scratch.plant(directory, table: .items, key: "broken-item", value: [7] + [UInt8](repeating: 0, count: 57))
        try Scratch.plant(directory, table: .userEmbeddings, key: "short-row", value: [0, 0, 0, 0, 0])
        try Scratch.plant(directory, table: .positions, key: "no-separator", value: [1])
        try Scratch.plant(directory, table: .seenEventsByTime, key: "e1", value: [])
        try store.read { snapshot throws in
            for (expectedTable, key, read) in [
                ("users", "broken-user", { _ = try snapshot.user("broken-user") }),
                ("items", "broken-item", { _ = try snapshot.item("broken-item") }),
                ("user_embeddings", "short-row", { _ = try snapshot.userEmbedding("short-row") }),
                ("positions", "no-separator", { _ = try snapshot.positions() }),
                ("seen_events_by_time", "e1", { try snapshot.forEachSeenEvent { _, _ in } }),
            ] as [(String, String, () throws -> Void)] {
                let error = #expect(throws: StoreError.self) { try read() }
                #expect(error?.isCorruptRow == true)
                let message = error.map { "\($0)" } ?? ""
                #expect(message.contains(expectedTable) && message.contains(key), "\(message)")
            }
            #expect(throws: StoreError.self) { try snapshot.forEachUser { _, _ in } }
            #expect(throws: StoreError.self) { try snapshot.userEmbeddingMatrix() }
        }
    }

    // MARK: opening

    @Test func readOnlyOpenOfAMissingStoreFailsAndCreatesNothing() throws {
        let directory = Scratch.directory()
        #expect(throws: StoreError.storeNotFound(path: directory + "/state")) {
            try StateStore(directory: directory, model: .onlineLearner, readOnly: true)
        }
        #expect(!FileManager.default.fileExists(atPath: directory))
        try FileManager.default.createDirectory(atPath: directory + "/state", withIntermediateDirectories: true)
        #expect(throws: StoreError.self) { try StateStore(directory: directory, model: .onlineLearner, readOnly: true) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/state").isEmpty)
        #expect("\(StoreError.storeNotFound(path: directory + "/state"))" == "no state store at \(directory)/state")
    }

    @Test func readOnlyStoreReadsButDoesNotWrite() throws {
        let (store, directory) = try Scratch.store(dimension: 2)
        try store.write { try $0.putItemEmbedding("i", [1, 2]) }
        let reader = try StateStore(directory: directory, model: .onlineLearner, readOnly: true)
        #expect(reader.isReadOnly)
        #expect(try reader.read { try $0.itemEmbedding("i") } == [1, 2])
        #expect(throws: StoreError.readOnly(path: directory + "/state")) { try reader.write { try $0.setDimension(2) } }
        #expect(throws: StoreError.self) { try reader.table(named: "not-there") }
    }

    @Test func aSecondOpenerSeesCommittedWrites() throws {
        let (first, directory) = try Scratch.store(dimension: 2)
        try first.write { try $0.putUserEmbedding("u", [1, 1]) }
        let second = try StateStore(directory: directory, model: .onlineLearner)
        #expect(try second.read { try $0.userEmbedding("u") } == [1, 1])
        try second.write { try $0.putUserEmbedding("u", [2, 2]) }
        #expect(try first.read { try $0.userEmbedding("u") } == [2, 2])
        #expect(try first.checksum() == second.checksum())
    }

    @Test func aSnapshotDoesNotSeeLaterWrites() throws {
        let (store, _) = try Scratch.store(dimension: 1)
        try store.write { transaction throws in
            try transaction.putUserEmbedding("u", [1])
            try transaction.setPosition(StorePosition(topic: "interactions", partition: 0, offset: 1))
        }
        try store.read { snapshot throws in
            // The writer runs on another thread, as a concurrent learner would.
            let done = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var failure: (any Error)?
            Thread {
                do {
                    try store.write { transaction throws in
                        try transaction.putUserEmbedding("u", [2])
                        try transaction.putUserEmbedding("v", [3])
                        try transaction.setPosition(StorePosition(topic: "interactions", partition: 0, offset: 3))
                    }
                } catch {
                    failure = error
                }
                done.signal()
            }.start()
            done.wait()
            #expect(failure == nil)
            #expect(try snapshot.userEmbedding("u") == [1])
            #expect(try snapshot.userEmbedding("v") == nil)
            #expect(try snapshot.position(topic: "interactions", partition: 0) == 1)
            #expect(try store.read { try $0.userEmbedding("u") } == [2])
        }
    }

    @Test func aTransactionReadsItsOwnWrites() throws {
        let (store, _) = try Scratch.store(dimension: 1)
        try store.write { transaction throws in
            try transaction.putUser("u", UserRecord(version: 1))
            #expect(try transaction.user("u")?.version == 1)
            #expect(try !transaction.hasSeen("e", at: 5))
            try transaction.recordSeen("e", at: 5)
            #expect(try transaction.hasSeen("e", at: 5))
        }
    }

    @Test func nestedWritesFailInsteadOfDeadlocking() throws {
        let (store, _) = try Scratch.store()
        #expect(throws: LMDBError.self) { try store.write { _ in try store.write { _ in } } }
        #expect(throws: LMDBError.self) { try store.write { _ in _ = try store.table(named: "late") } }
        _ = try store.table(named: "late")
    }

    @Test func theMapGrowsWhenFull() throws {
        let (store, _) = try Scratch.store(dimension: 128, initialMapSize: 1 << 16)
        let initial = store.mapSize
        let row = [Float](repeating: 0.5, count: 128)
        try store.write { transaction throws in
            for index in 0..<2_000 { try transaction.putItemEmbedding("item-\(index)", row) }
        }
        for batch in 0..<4 {
            try store.write { transaction throws in
                for index in 0..<500 { try transaction.putUserEmbedding("user-\(batch)-\(index)", row) }
            }
        }
        #expect(store.mapSize > initial)
        #expect(store.mapSize >= 2_000 * 512)
        try store.read { snapshot throws in
            #expect(try snapshot.count(.itemEmbeddings) == 2_000)
            #expect(try snapshot.count(.userEmbeddings) == 2_000)
            #expect(try snapshot.itemEmbedding("item-1999") == row)
        }
    }

    // MARK: positions

    @Test func positionsRoundTripInKeyOrder() throws {
        let (store, _) = try Scratch.store()
        let written = [
            StorePosition(topic: "sessions", partition: 2, offset: 5),
            StorePosition(topic: "interactions", partition: 10, offset: 1 << 40),
            StorePosition(topic: "interactions", partition: 2, offset: 0),
            StorePosition(topic: "interactions", partition: 256, offset: 7),
            StorePosition(topic: "catalog", partition: 0, offset: 12),
            StorePosition(topic: "interactions", partition: 0, offset: 99),
        ]
        try store.write { transaction throws in
            for position in written { try transaction.setPosition(position) }
        }
        try store.write { try $0.setPosition(StorePosition(topic: "catalog", partition: 0, offset: 13)) }
        let positions = try store.read { try $0.positions() }
        var expected = written.sorted()
        expected[0].offset = 13
        #expect(positions == expected)
        #expect(positions.map(\.description).prefix(3) == ["catalog[0]@13", "interactions[0]@99", "interactions[2]@0"])
        #expect(try store.read { try $0.position(topic: "interactions", partition: 256) } == 7)
        #expect(try store.read { try $0.position(topic: "interactions", partition: 3) } == nil)
        for bad in [
            StorePosition(topic: "", partition: 0, offset: 0), StorePosition(topic: "a\u{0}b", partition: 0, offset: 0),
            StorePosition(topic: "t", partition: -1, offset: 0), StorePosition(topic: "t", partition: 0, offset: -1),
        ] {
            #expect(throws: StoreError.self) { try store.write { try $0.setPosition(bad) } }
        }
    }

    // MARK: de-duplication

    @Test func seenEventsArePrunedByTime() throws {
        let (store, _) = try Scratch.store()
        let events: [(String, Int64)] = [
            ("e-old", -100), ("e-a", 10), ("e-c", 20), ("e-b", 20), ("e-d", 30), ("e-a", 999), ("e-new", 1_000),
        ]
        try store.write { transaction throws in
            for (id, time) in events { try transaction.recordSeen(id, at: time) }
            try transaction.recordSeen("e-a", at: 10)  // again: nothing changes
        }
        func recorded(_ snapshot: StoreSnapshot) throws -> [String] {
            var entries: [String] = []
            try snapshot.forEachSeenEvent { time, id in entries.append("\(time) \(String(decoding: id, as: UTF8.self))") }
            return entries
        }
        // Time order (negative times first), then id bytes.
        #expect(try store.read(recorded) == ["-100 e-old", "10 e-a", "20 e-b", "20 e-c", "30 e-d", "999 e-a", "1000 e-new"])
        #expect(try store.read { try $0.hasSeen("e-a", at: 10) && $0.hasSeen("e-a", at: 999) && !$0.hasSeen("e-a", at: 11) })
        var removed: [String] = []
        #expect(
            try store.write { transaction in
                try transaction.pruneSeenEvents(olderThan: 20) { time, id in removed.append("\(time) \(String(decoding: id, as: UTF8.self))") }
            } == 2)
        #expect(removed == ["-100 e-old", "10 e-a"])
        try store.read { snapshot throws in
            #expect(try !snapshot.hasSeen("e-old", at: -100) && !snapshot.hasSeen("e-a", at: 10))
            #expect(try snapshot.hasSeen("e-b", at: 20) && snapshot.hasSeen("e-a", at: 999))
            #expect(try snapshot.count(.seenEventsByTime) == 5)
        }
        #expect(try store.write { try $0.pruneSeenEvents(olderThan: 20) } == 0)
        #expect(try store.write { try $0.pruneSeenEvents(olderThan: .max) } == 5)
        #expect(try store.read { try $0.count(.seenEventsByTime) } == 0)
    }

    @Test func seenEventIdsMustFitAKey() throws {
        let (store, _) = try Scratch.store()
        let longest = String(repeating: "x", count: StoreTable.maximumKeyLength - 8)
        try store.write { transaction throws in
            try transaction.recordSeen(longest, at: 1)
            #expect(try transaction.hasSeen(longest, at: 1))
            for bad in ["", longest + "x"] {
                #expect(throws: StoreError.self) { try transaction.recordSeen(bad, at: 1) }
                #expect(try !transaction.hasSeen(bad, at: 1))
            }
        }
    }

    // MARK: model metadata

    @Test func modelMetadataRoundTrip() throws {
        let (store, _) = try Scratch.store(dimension: 64)
        try store.write { transaction throws in
            try transaction.setModelMetadata(ModelMetadataKey.algorithm, "adagrad")
            try transaction.setModelMetadata(ModelMetadataKey.createdAt, 1_700_000_000_000 as Int64)
            try transaction.setModelMetadata("hyper", json: Array(#"{"lr":0.05,"l2":[1,2]}"#.utf8))
        }
        try store.read { snapshot throws in
            #expect(try snapshot.modelMetadata(ModelMetadataKey.algorithm, as: String.self) == "adagrad")
            #expect(try snapshot.modelMetadata(ModelMetadataKey.createdAt, as: Int64.self) == 1_700_000_000_000)
            #expect(try snapshot.modelMetadata(ModelMetadataKey.dimension) == Array("64".utf8))
            #expect(try snapshot.modelMetadata(ModelMetadataKey.modelVersion) == nil)
            #expect(try snapshot.allModelMetadata().map(\.key) == ["algorithm", "created_at", "dimension", "hyper"])
        }
        #expect(throws: StoreError.self) { try store.write { try $0.setModelMetadata("bad", json: Array("{".utf8)) } }
    }

    // MARK: additional tables

    @Test func rawTablesRoundTrip() throws {
        let (store, directory) = try Scratch.store()
        let table = try store.table(named: "negatives")
        #expect(try store.table(named: "negatives") == table)
        try store.write { transaction throws in
            for key in [3, 1, 2] as [UInt8] { try transaction.put(table, [key], [key, key]) }
            #expect(try transaction.delete(table, [2]))
            #expect(try !transaction.delete(table, [9]))
            #expect(throws: StoreError.self) { try transaction.put(table, [], [1]) }
        }
        try store.read { snapshot throws in
            #expect(try snapshot.get(table, [1]) == [1, 1])
            #expect(try snapshot.get(table, [2]) == nil)
            #expect(try snapshot.withValue(table, [3]) { $0.count } == 2)
            #expect(try snapshot.count(table) == 2)
            let cursor = try snapshot.cursor(table)
            #expect(try cursor.first().map { Array($0.key) } == [1])
            #expect(try cursor.next().map { Array($0.key) } == [3])
            #expect(try cursor.next() == nil)
            #expect(try cursor.seek(atOrAfter: [2]).map { Array($0.value) } == [3, 3])
            #expect(try cursor.last().map { Array($0.key) } == [3])
            #expect(try cursor.previous().map { Array($0.key) } == [1])
        }
        let reader = try StateStore(directory: directory, model: .onlineLearner, readOnly: true)
        #expect(try reader.read { try $0.get(try reader.table(named: "negatives"), [3]) } == [3, 3])
        for name in ["", "Upper", "has space", String(repeating: "a", count: 65), "users", "seen_events_by_time"] {
            #expect(throws: StoreError.self) { try store.table(named: name) }
        }
    }

    // MARK: statistics

    @Test func statisticsDescribeEveryTable() throws {
        let (store, _) = try Scratch.store(dimension: 2)
        let extra = try store.table(named: "counters")
        try store.write { transaction throws in
            try transaction.putUserEmbedding("u", [1, 2])
            try transaction.putItem("i", ItemRecord(version: 1))
            try transaction.setPosition(StorePosition(topic: "feedback", partition: 1, offset: 4))
            try transaction.put(extra, [1], [2])
        }
        let statistics = try store.statistics()
        #expect(statistics.tables.map(\.name) == StoreTable.allCases.map(\.rawValue) + ["counters"])
        let entries = Dictionary(uniqueKeysWithValues: statistics.tables.map { ($0.name, $0.entries) })
        #expect(entries["user_embeddings"] == 1 && entries["items"] == 1 && entries["model"] == 1 && entries["counters"] == 1)
        #expect(entries["users"] == 0)
        #expect(statistics.tables.first { $0.name == "user_embeddings" }!.bytes == statistics.pageSize)
        #expect(statistics.tables.first { $0.name == "users" }!.bytes == 0)
        #expect(statistics.dimension == 2)
        #expect(statistics.positions == [StorePosition(topic: "feedback", partition: 1, offset: 4)])
        #expect(statistics.fileBytes > 0 && statistics.mapBytes >= statistics.fileBytes)
        #expect(statistics.modelMetadata.map(\.key) == ["dimension"])
    }
}
