import LoupeEvents
import LoupeStore
import Testing

@Suite struct ChecksumTests {
    /// One of everything, written in the order given and `batches` transactions.
    static func populate(_ store: StateStore, reversed: Bool, batches: Int) throws {
        var writes: [(StoreTransaction) throws -> Void] = []
        for index in 0..<40 {
            writes.append { try $0.putUserEmbedding("user-\(index)", [Float(index), 1, 2, 3]) }
            writes.append { try $0.putItemEmbedding("item-\(index)", [0, Float(index), 2, 3]) }
            writes.append { try $0.putUser("user-\(index)", UserRecord(version: UInt64(index), faceShapeIndex: index % 6)) }
            writes.append { try $0.putItem("item-\(index)", ItemRecord(version: 1, styleIndex: index % 20, material: "metal")) }
            writes.append { try $0.recordSeen("event-\(index)", at: Int64(index)) }
        }
        for partition in 0..<4 {
            writes.append { try $0.setPosition(StorePosition(topic: "interactions", partition: Int32(partition), offset: 100)) }
        }
        writes.append { try $0.setModelMetadata(ModelMetadataKey.algorithm, "adagrad") }
        let extra = try store.table(named: "popularity")
        writes.append { try $0.put(extra, [1, 2, 3], [4]) }
        if reversed { writes.reverse() }
        let size = (writes.count + batches - 1) / batches
        for start in stride(from: 0, to: writes.count, by: size) {
            try store.write { transaction throws in
                for write in writes[start..<min(start + size, writes.count)] { try write(transaction) }
            }
        }
    }

    static func populated(reversed: Bool = false, batches: Int = 1) throws -> StateStore {
        let (store, _) = try Scratch.store(dimension: 4)
        try populate(store, reversed: reversed, batches: batches)
        return store
    }

    @Test func equalContentGivesAnEqualChecksumWhateverTheOrder() throws {
        let forward = try Self.populated().checksum(perTable: true)
        let backward = try Self.populated(reversed: true, batches: 7).checksum(perTable: true)
        #expect(forward == backward)
        #expect(forward.digest.count == 64)
        #expect(forward.tables.map(\.name) == forward.tables.map(\.name).sorted())
        #expect(forward.tables.contains { $0.name == "popularity" && $0.entries == 1 && $0.digest != nil })
    }

    @Test func perTableDigestsDoNotChangeTheTotal() throws {
        let store = try Self.populated()
        #expect(try store.checksum().digest == store.checksum(perTable: true).digest)
        #expect(try store.checksum().tables.allSatisfy { $0.digest == nil })
    }

    /// With every table empty the input is empty, so the checksum is SHA-256 of nothing; an
    /// empty additional table adds nothing either.
    @Test func emptyTablesContributeNothing() throws {
        let store = try StateStore(directory: Scratch.directory(), model: .onlineLearner)
        #expect(try store.checksum().digest == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        _ = try store.table(named: "unused")
        #expect(try store.checksum().digest == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    /// The documented input, built by hand for a store with one entry.
    @Test func theDigestFollowsTheDocumentedDefinition() throws {
        let store = try StateStore(directory: Scratch.directory(), model: .onlineLearner)
        let table = try store.table(named: "t")
        try store.write { try $0.put(table, [0xAA, 0xBB], [0xCC]) }
        var expected = SHA256()
        expected.updateLittleEndian(UInt32(1))
        expected.update(Array("t".utf8))
        expected.updateLittleEndian(UInt64(1))
        expected.updateLittleEndian(UInt32(2))
        expected.update([0xAA, 0xBB])
        expected.updateLittleEndian(UInt32(1))
        expected.update([0xCC])
        let checksum = try store.checksum(perTable: true)
        #expect(checksum.digest == expected.hexDigest())
        #expect(checksum.tables.first { $0.name == "t" }?.digest == expected.hexDigest())
    }

    /// Any change to any table, however small, changes the checksum and that table's digest only.
    @Test func anyChangeChangesTheChecksum() throws {
        let changes: [(table: String, change: (StoreTransaction) throws -> Void)] = [
            ("user_embeddings", { try $0.putUserEmbedding("user-3", [3, 1, 2, 3.000001]) }),
            ("item_embeddings", { try $0.putItemEmbedding("item-new", [0, 0, 0, 0]) }),
            ("users", { try $0.putUser("user-5", UserRecord(version: 6, faceShapeIndex: 5)) }),
            ("items", { try $0.putItem("item-7", ItemRecord(version: 1, styleIndex: 7, material: "metaL")) }),
            ("positions", { try $0.setPosition(StorePosition(topic: "interactions", partition: 2, offset: 101)) }),
            ("model", { try $0.setModelMetadata(ModelMetadataKey.algorithm, "adagraD") }),
            ("seen_events_by_time", { try $0.pruneSeenEvents(olderThan: 1) }),
        ]
        let reference = try Self.populated().checksum(perTable: true)
        var digests: Set<String> = [reference.digest]
        for (table, change) in changes {
            let store = try Self.populated()
            try store.write { try change($0) }
            let changed = try store.checksum(perTable: true)
            #expect(digests.insert(changed.digest).inserted, "changing \(table) did not change the checksum")
            for (before, after) in zip(reference.tables, changed.tables) {
                #expect((before.digest != after.digest) == (before.name == table), "\(before.name) after changing \(table)")
            }
        }
        let store = try Self.populated()
        let extra = try store.table(named: "popularity")
        try store.write { try $0.put(extra, [1, 2, 3], [5]) }
        #expect(digests.insert(try store.checksum().digest).inserted)
    }

    @Test func aKeyMovingBetweenKeyAndValueChangesTheChecksum() throws {
        let first = try StateStore(directory: Scratch.directory(), model: .onlineLearner)
        let second = try StateStore(directory: Scratch.directory(), model: .onlineLearner)
        let firstTable = try first.table(named: "t")
        let secondTable = try second.table(named: "t")
        try first.write { try $0.put(firstTable, [1, 2], [3]) }
        try second.write { try $0.put(secondTable, [1], [2, 3]) }
        #expect(try first.checksum() != second.checksum())
    }
}
