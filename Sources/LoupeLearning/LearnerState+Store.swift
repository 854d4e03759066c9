import LoupeEvents
import LoupeStore

/// The learner's own tables beside the store's standard ones (docs/learning.md):
/// - `learner_users`, `learner_items`: id → dense index (UInt32) ‖ Adagrad accumulator (Float32);
/// - `learner_groups`: `face/<g>` or `style/<g>` → member count (Int64) ‖ sums (Float64 × d);
/// - `learner_clocks`: topic ‖ 0 ‖ partition (big-endian) → the partition's clock (Int64);
/// - `learner_meta`: `counter/<name>` → Int64.
/// Integers and floats are little-endian.
struct LearnerTables {
    let users: RawTable
    let items: RawTable
    let groups: RawTable
    let clocks: RawTable
    let meta: RawTable

    init(_ store: StateStore) throws {
        users = try store.table(named: "learner_users")
        items = try store.table(named: "learner_items")
        groups = try store.table(named: "learner_groups")
        clocks = try store.table(named: "learner_clocks")
        meta = try store.table(named: "learner_meta")
    }
}

extension LearnerState {
    /// The state a store holds (empty for a new store).
    static func load(from snapshot: StoreSnapshot, tables: LearnerTables, settings: LearnerSettings) throws -> LearnerState {
        if let dimension = try snapshot.dimension, dimension != settings.model.dimension {
            throw LearnerError(
                "the store has embeddings of dimension \(dimension) but the learner is configured for \(settings.model.dimension); replay into a new data directory to change it")
        }
        var state = LearnerState(settings: settings.model)
        let dimension = settings.model.dimension

        for row in try indexedRows(tables.users, in: snapshot) {
            guard let embedding = try snapshot.userEmbedding(row.id), let record = try snapshot.user(row.id) else {
                throw LearnerError("user \(row.id) is indexed but has no embedding or record")
            }
            state.model.users.append(embedding, accumulator: row.accumulator)
            state.userIndex[row.id] = row.index
            state.userIds.append(row.id)
            state.users.append(record)
        }

        for row in try indexedRows(tables.items, in: snapshot) {
            guard let embedding = try snapshot.itemEmbedding(row.id), let record = try snapshot.item(row.id) else {
                throw LearnerError("item \(row.id) is indexed but has no embedding or record")
            }
            state.model.items.append(embedding, accumulator: row.accumulator)
            state.itemIndex[row.id] = row.index
            state.itemIds.append(row.id)
            state.items.append(record)
            state.sampler.ensureItem(row.index)
            if record.interactionCount > 0 { state.sampler.observe(row.index, amount: Double(record.interactionCount)) }
        }

        for group in 0..<faceGroups {
            if let value = try snapshot.get(tables.groups, Array("face/\(group)".utf8)) {
                (state.faceCounts[group], state.faceSums[group]) = decodeGroup(value, dimension: dimension)
            }
        }
        for group in 0..<styleGroups {
            if let value = try snapshot.get(tables.groups, Array("style/\(group)".utf8)) {
                (state.styleCounts[group], state.styleSums[group]) = decodeGroup(value, dimension: dimension)
            }
        }
        let metaCursor = try snapshot.cursor(tables.meta)
        var entry = try metaCursor.first()
        while let current = entry {
            let key = String(decoding: current.key, as: UTF8.self)
            if key.hasPrefix("counter/"), let counter = LearnerCounter(rawValue: String(key.dropFirst("counter/".count))) {
                state.counters[counter] = current.value.loadLittleEndian(Int64.self, at: 0)
            }
            entry = try metaCursor.next()
        }
        state.dirtyGroups = false
        return state
    }

    /// The rows of `learner_users` or `learner_items` in index order; the indices must be 0, 1, 2, ….
    static func indexedRows(_ table: RawTable, in snapshot: StoreSnapshot) throws -> [(index: Int, id: String, accumulator: Float)] {
        var rows: [(index: Int, id: String, accumulator: Float)] = []
        let cursor = try snapshot.cursor(table)
        var entry = try cursor.first()
        while let current = entry {
            rows.append((
                Int(current.value.loadLittleEndian(UInt32.self, at: 0)), String(decoding: current.key, as: UTF8.self),
                current.value.loadLittleEndian(Float.self, at: 4)
            ))
            entry = try cursor.next()
        }
        rows.sort { $0.index < $1.index }
        for (position, row) in rows.enumerated() where row.index != position {
            throw LearnerError("\(table.name) has no row with index \(position)")
        }
        return rows
    }

    /// Writes what changed since the last write. Re-runnable: the history merge reads what is
    /// stored, so call it once per transaction.
    func write(to transaction: StoreTransaction, tables: LearnerTables, historyLength: Int) throws {
        try writeHistory(to: transaction, historyLength: historyLength)
        try transaction.setDimension(dimension)
        for index in dirtyUsers {
            let id = userIds[index]
            try transaction.putUserEmbedding(id, Array(model.users.row(index)))
            try transaction.putUser(id, users[index])
            try transaction.put(tables.users, Array(id.utf8), Self.encodeRow(index: index, accumulator: model.users.accumulator(index)))
        }
        for index in dirtyItems {
            let id = itemIds[index]
            try transaction.putItemEmbedding(id, Array(model.items.row(index)))
            try transaction.putItem(id, items[index])
            try transaction.put(tables.items, Array(id.utf8), Self.encodeRow(index: index, accumulator: model.items.accumulator(index)))
        }
        if dirtyGroups {
            for group in 0..<Self.faceGroups where faceCounts[group] != 0 || faceSums[group].contains(where: { $0 != 0 }) {
                try transaction.put(tables.groups, Array("face/\(group)".utf8), Self.encodeGroup(faceCounts[group], faceSums[group]))
            }
            for group in 0..<Self.styleGroups where styleCounts[group] != 0 || styleSums[group].contains(where: { $0 != 0 }) {
                try transaction.put(tables.groups, Array("style/\(group)".utf8), Self.encodeGroup(styleCounts[group], styleSums[group]))
            }
        }
        for counter in LearnerCounter.allCases {
            try transaction.put(tables.meta, Array("counter/\(counter.rawValue)".utf8), littleEndianBytes(counters[counter]))
        }
    }

    /// Appends this batch's entries to each user's stored history, keeping the newest
    /// `historyLength`, and applies purchases and returns in event order.
    private func writeHistory(to transaction: StoreTransaction, historyLength: Int) throws {
        if historyLength > 0, !pendingHistory.isEmpty {
            // Group by user, keeping event order within each user (the offset breaks ties).
            let ordered = pendingHistory.enumerated().sorted { ($0.element.user, $0.offset) < ($1.element.user, $1.offset) }
            let entries = ordered.map(\.element.entry)
            var start = 0
            while start < ordered.count {
                let user = ordered[start].element.user
                var end = start
                while end < ordered.count, ordered[end].element.user == user { end += 1 }
                try transaction.appendHistory(userIds[user], entries[start..<end], keepingNewest: historyLength)
                start = end
            }
        }
        for change in pendingPurchases {
            if change.bought {
                try transaction.putPurchase(user: userIds[change.user], item: itemIds[change.item], time: change.time)
            } else {
                try transaction.deletePurchase(user: userIds[change.user], item: itemIds[change.item])
            }
        }
    }

    mutating func clearDirty() {
        pendingHistory.removeAll(keepingCapacity: true)
        pendingPurchases.removeAll(keepingCapacity: true)
        dirtyUsers.removeAll()
        dirtyItems.removeAll()
        dirtyGroups = false
    }

    static func encodeRow(index: Int, accumulator: Float) -> [UInt8] {
        littleEndianBytes(UInt32(index)) + littleEndianBytes(accumulator.bitPattern)
    }

    static func encodeGroup(_ count: Int, _ sums: [Double]) -> [UInt8] {
        var bytes = littleEndianBytes(Int64(count))
        for value in sums { bytes += littleEndianBytes(value.bitPattern) }
        return bytes
    }

    static func decodeGroup(_ bytes: [UInt8], dimension: Int) -> (Int, [Double]) {
        bytes.withUnsafeBytes { raw in
            let count = Int(raw.loadLittleEndian(Int64.self, at: 0))
            return (count, (0..<dimension).map { raw.loadLittleEndian(Double.self, at: 8 + 8 * $0) })
        }
    }
}

func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

extension UnsafeRawBufferPointer {
    func loadLittleEndian<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    func loadLittleEndian(_ type: Float.Type, at offset: Int) -> Float {
        Float(bitPattern: loadLittleEndian(UInt32.self, at: offset))
    }

    func loadLittleEndian(_ type: Double.Type, at offset: Int) -> Double {
        Double(bitPattern: loadLittleEndian(UInt64.self, at: offset))
    }
}

public struct LearnerError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
