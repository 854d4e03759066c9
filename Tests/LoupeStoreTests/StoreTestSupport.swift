import LoupeEvents
import Foundation
import LoupeLMDB
import LoupeStore

enum Scratch {
    /// A data directory that does not exist yet.
    static func directory() -> String {
        NSTemporaryDirectory() + "loupe-store-\(UUID().uuidString)"
    }

    /// A new store with dimension `dimension`.
    static func store(dimension: Int = 4, initialMapSize: Int = StateStore.defaultInitialMapSize) throws -> (StateStore, String) {
        let directory = directory()
        let store = try StateStore(directory: directory, model: .onlineLearner, initialMapSize: initialMapSize)
        try store.write { try $0.setDimension(dimension) }
        return (store, directory)
    }

    /// Writes bytes into a built-in table behind the store's back, as corruption would.
    static func plant(_ directory: String, table: StoreTable, key: String, value: [UInt8]) throws {
        let environment = try LMDBEnvironment.shared(path: directory + "/state")
        let database = try environment.database(ModelKey.onlineLearner.namespace + table.rawValue)
        try environment.write { try $0.put(database, Array(key.utf8), value) }
    }
}

extension StoreError {
    /// Pattern-free checks in `#expect(throws:)` closures.
    var isCorruptRow: Bool {
        if case .corruptRow = self { return true }
        return false
    }
}
