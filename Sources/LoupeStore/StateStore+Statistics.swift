import LoupeLMDB
import Foundation

/// What `StateStore.statistics()` reports, all from one snapshot.
public struct StoreStatistics: Sendable {
    public struct Table: Sendable, Equatable {
        public var name: String
        public var entries: Int
        /// Page size × the B-tree's branch, leaf and overflow pages.
        public var bytes: Int
    }

    /// The environment's directory.
    public var path: String
    /// Built-in tables in `StoreTable` order, then additional tables by name.
    public var tables: [Table]
    /// Size of `data.mdb` (it includes free pages, so it is at least the tables' bytes).
    public var fileBytes: Int
    /// Size of the memory map, the most the file may reach before the map doubles.
    public var mapBytes: Int
    public var pageSize: Int
    public var dimension: Int?
    public var positions: [StorePosition]
    /// Model metadata, key → JSON text, in key order.
    public var modelMetadata: [(key: String, json: String)]
}

extension StateStore {
    /// Bytes of `data.mdb`: every page written so far, free ones included; at most `mapSize`.
    public func fileBytes() throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path + "/data.mdb")
        return (attributes[.size] as? NSNumber)?.intValue ?? 0
    }

    public func statistics() throws -> StoreStatistics {
        try withAllTables { snapshot, handles in
            var tables: [StoreStatistics.Table] = []
            var pageSize = 0
            for (name, database) in handles {
                let statistics = try snapshot.transaction.statistics(database)
                pageSize = statistics.pageSize
                tables.append(StoreStatistics.Table(name: name, entries: statistics.entries, bytes: statistics.bytes))
            }
            let builtIn = StoreTable.allCases.map(\.rawValue)
            tables.sort { lhs, rhs in
                switch (builtIn.firstIndex(of: lhs.name), builtIn.firstIndex(of: rhs.name)) {
                case (let left?, let right?): left < right
                case (.some, nil): true
                case (nil, .some): false
                case (nil, nil): lhs.name.utf8.lexicographicallyPrecedes(rhs.name.utf8)
                }
            }
            return StoreStatistics(
                path: path, tables: tables, fileBytes: (try? fileBytes()) ?? 0,
                mapBytes: mapSize, pageSize: pageSize, dimension: try snapshot.dimension,
                positions: try snapshot.positions(), modelMetadata: try snapshot.allModelMetadata())
        }
    }
}
