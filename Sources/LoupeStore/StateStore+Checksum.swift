import LoupeLMDB

/// A digest of a store's whole content, for comparing two states (say, a replay and the live
/// learner). Definition (docs/state-store.md): SHA-256 over every non-empty table in name
/// order, each as name length (UInt32 LE) ‖ name ‖ entry count (UInt64 LE), then every entry
/// in key order as key length (UInt32 LE) ‖ key ‖ value length (UInt32 LE) ‖ value.
public struct StoreChecksum: Sendable, Equatable {
    public struct Table: Sendable, Equatable {
        public var name: String
        public var entries: Int
        /// SHA-256 of the table's part of the input; nil for an empty table, which has none.
        public var digest: String?
    }

    /// Lowercase hex SHA-256.
    public var digest: String
    /// Every table by name, with its own digest when asked for.
    public var tables: [Table]
}

extension StateStore {
    /// The store's checksum, from one snapshot. Equal content gives an equal digest however it
    /// was written; any change to any key or value changes it. `perTable` also digests each
    /// table on its own (hashing the data twice).
    public func checksum(perTable: Bool = false) throws -> StoreChecksum {
        try withAllTables { snapshot, handles in
            var total = SHA256()
            var tables: [StoreChecksum.Table] = []
            for (name, database) in handles {
                let entries = try snapshot.transaction.count(database)
                guard entries > 0 else {
                    tables.append(StoreChecksum.Table(name: name, entries: 0, digest: nil))
                    continue
                }
                var table: SHA256? = perTable ? SHA256() : nil
                func feed(_ bytes: UnsafeRawBufferPointer) {
                    total.update(bytes)
                    table?.update(bytes)
                }
                func feedLength<T: FixedWidthInteger>(_ value: T) {
                    withUnsafeBytes(of: value.littleEndian) { feed($0) }
                }
                var nameBytes = name
                nameBytes.withUTF8 { utf8 in
                    feedLength(UInt32(utf8.count))
                    feed(UnsafeRawBufferPointer(utf8))
                }
                feedLength(UInt64(entries))
                try snapshot.forEachEntry(database) { key, value in
                    feedLength(UInt32(key.count))
                    feed(key)
                    feedLength(UInt32(value.count))
                    feed(value)
                }
                tables.append(StoreChecksum.Table(name: name, entries: entries, digest: table?.hexDigest()))
            }
            return StoreChecksum(digest: total.hexDigest(), tables: tables)
        }
    }
}
