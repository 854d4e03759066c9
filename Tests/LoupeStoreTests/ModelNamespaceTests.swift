import Foundation
import LoupeEvents
import LoupeLMDB
import LoupeStore
import Testing

/// Many models in one store: each under its id and version, with its own dimension, rows and
/// positions.
@Suite struct ModelNamespaceTests {
    static let wide = try! ModelKey(parsing: "online-bpr@1")
    static let narrow = try! ModelKey(parsing: "online-bpr@2")
    static let other = try! ModelKey(parsing: "hybrid@2026-12-08.1")

    @Test func modelKeysParseAndRefuseWhatCannotNameATable() throws {
        let key = try ModelKey(parsing: "hybrid@2026-12-08.1")
        #expect(key.id == "hybrid" && key.version == "2026-12-08.1" && key.description == "hybrid@2026-12-08.1")
        for bad in ["", "online", "@1", "online@", "Online@1", "1online@1", "on/line@1", "online@1/x", "online@1 2", "a@b@c"] {
            #expect(throws: ModelKeyError.self, "\(bad)") { try ModelKey(parsing: bad) }
        }
        #expect(throws: ModelKeyError.self) { try ModelKey(id: String(repeating: "a", count: 49), version: "1") }
    }

    @Test func modelsOfOtherDimensionsLiveSideBySide() throws {
        let directory = Scratch.directory()
        let wide = try StateStore(directory: directory, model: Self.wide)
        let narrow = try wide.opening(Self.narrow)
        try wide.write { transaction in
            try transaction.setDimension(4)
            try transaction.putItemEmbedding("i", [1, 2, 3, 4])
            try transaction.setPosition(StorePosition(topic: "interactions", partition: 0, offset: 10))
        }
        let wideDigest = try wide.checksum().digest
        try narrow.write { transaction in
            try transaction.setDimension(2)
            try transaction.putItemEmbedding("i", [5, 6])
            try transaction.putUserEmbedding("u", [7, 8])
            try transaction.setPosition(StorePosition(topic: "interactions", partition: 0, offset: 3))
        }
        // The other model's writes change nothing of this one's.
        #expect(try wide.checksum().digest == wideDigest)
        #expect(try wide.models() == [Self.wide, Self.narrow])
        #expect(try StateStore.models(directory: directory) == [Self.wide, Self.narrow])
        try wide.read { snapshot in
            #expect(snapshot.model == Self.wide)
            #expect(try snapshot.dimension == 4)
            #expect(try snapshot.itemEmbedding("i") == [1, 2, 3, 4])
            #expect(try snapshot.userEmbedding("u") == nil)
            #expect(try snapshot.positions() == [StorePosition(topic: "interactions", partition: 0, offset: 10)])
            // Both models in one snapshot.
            let other = try snapshot.view(of: narrow)
            #expect(other.model == Self.narrow)
            #expect(try other.dimension == 2)
            #expect(try other.itemEmbedding("i") == [5, 6])
            #expect(try other.positions() == [StorePosition(topic: "interactions", partition: 0, offset: 3)])
        }
        // Raw tables are each model's own too.
        let wideTable = try wide.table(named: "extra")
        let narrowTable = try narrow.table(named: "extra")
        try wide.write { try $0.put(wideTable, [1], [42]) }
        #expect(try narrow.read { try $0.get(narrowTable, [1]) } == nil)
        // A dimension is fixed per model, not per store.
        #expect(throws: StoreError.dimensionConflict(stored: 2, requested: 4)) {
            try narrow.write { (transaction: StoreTransaction) throws -> Void in try transaction.setDimension(4) }
        }
    }

    @Test func aReadOnlyOpenOfAModelTheStoreLacksSaysWhichItHolds() throws {
        let directory = Scratch.directory()
        let wide = try StateStore(directory: directory, model: Self.wide)
        try wide.write { try $0.setDimension(4) }
        do {
            _ = try StateStore(directory: directory, model: Self.other, readOnly: true)
            Issue.record("opened a model the store does not hold")
        } catch StoreError.modelNotFound(let model, _, let available) {
            #expect(model == Self.other.description && available == [Self.wide.description])
            #expect("\(StoreError.modelNotFound(model: model, path: "p", available: available))".contains("it holds: online-bpr@1"))
        }
        #expect(try StateStore.models(directory: directory) == [Self.wide])
        #expect(throws: StoreError.self) { try StateStore.models(directory: Scratch.directory()) }
    }

    /// A store of the previous layout (tables at the top level) is refused with the command
    /// that rebuilds it, and is not touched.
    @Test func aStoreOfThePreviousLayoutIsRefusedWithTheReplayCommand() throws {
        let directory = Scratch.directory()
        try PrivateFiles.createDirectory(directory, ifExisting: .warnIfShared)
        let path = directory + "/state"
        do {
            let environment = try LMDBEnvironment(path: path, maxDatabases: 16)
            let table = try environment.database("user_embeddings")
            try environment.write { try $0.put(table, Array("u".utf8), [0, 0, 128, 63]) }
        }
        for readOnly in [true, false] {
            do {
                _ = try StateStore(directory: directory, model: Self.wide, readOnly: readOnly)
                Issue.record("opened a store of the previous layout")
            } catch let error as StoreError {
                #expect(error == .previousLayout(path: path))
                let message = "\(error)"
                #expect(message.contains("loupe replay --data \(directory)") && message.contains("mv \(path) \(path).previous"), "\(message)")
            }
        }
        #expect(throws: StoreError.previousLayout(path: path)) { try StateStore.models(directory: directory) }
    }
}
