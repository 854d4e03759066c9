import FoundationEssentials
import LoupeEvents
import LoupeML
import LoupeStore
import LoupeBytes

/// The learner's own tables beside the store's standard ones (docs/learning.md):
/// - `learner_users`: id → index (UInt32) ‖ Adagrad accumulator (Float32) ‖ free row pᵤ
///   (d × Float32) ‖ history length (UInt16) ‖ history item indices, oldest first (UInt32 each);
/// - `learner_items`: id → index (UInt32) ‖ accumulator (Float32) ‖ context accumulator
///   (Float32) ‖ wanted count (Int64) ‖ context row yᵢ (d × Float32; none without history);
/// - `learner_pairs`: user index ‖ item index (UInt32 big-endian each) → empty: what each user wanted;
/// - `learner_clocks`: topic ‖ 0 ‖ partition (big-endian) → the partition's clock (Int64);
/// - `learner_meta`: `counter/<name>` → Int64; `popularity/reference` → Int64.
/// The face-shape and style group sums (of the users' xᵤ, kept by adding each change; of the
/// items' rows, summed afresh) are the store's `group_sums`, which serving reads too.
/// Integers and floats are little-endian unless said otherwise.
struct LearnerTables {
    let users: RawTable
    let items: RawTable
    let pairs: RawTable
    let clocks: RawTable
    let meta: RawTable

    init(_ store: StateStore) throws {
        users = try store.table(named: "learner_users")
        items = try store.table(named: "learner_items")
        pairs = try store.table(named: "learner_pairs")
        clocks = try store.table(named: "learner_clocks")
        meta = try store.table(named: "learner_meta")
    }
}

/// What the learner records under the model metadata key `learner`.
struct LearnerMetadata: Codable {
    static let algorithm = "online-bpr"

    var learner: String
    var algorithm: String
}

extension LearnerState {
    static let popularityReferenceKey = Array("popularity/reference".utf8)

    /// The state a store holds (empty for a new store).
    static func load(from snapshot: StoreSnapshot, tables: LearnerTables, settings: LearnerSettings) throws -> LearnerState {
        let model = snapshot.model
        if let dimension = try snapshot.dimension, dimension != settings.model.dimension {
            throw LearnerError(
                "model \(model) has embeddings of dimension \(dimension) but the learner is configured for \(settings.model.dimension); give the new dimension a new model version (learner.model: \(model.id)@NEW), or replay into a new data directory")
        }
        if let stored = try snapshot.modelMetadata("learner", as: LearnerMetadata.self) {
            guard stored.algorithm == LearnerMetadata.algorithm else {
                throw LearnerError(
                    "model \(model) was learned by \(stored.algorithm), this build learns \(LearnerMetadata.algorithm); replay the log into a new data directory (loupe replay --data NEW)")
            }
            guard stored.learner == settings.learnerId else {
                throw LearnerError(
                    "model \(model) is written by learner \"\(stored.learner)\"; learner \"\(settings.learnerId)\" may not write it too (give each learner its own learner.model)")
            }
        }
        var state = LearnerState(settings: settings)
        let dimension = settings.model.dimension
        let historyLength = settings.model.historyLength

        var popularity: [Double] = []
        for row in try indexedRows(tables.items, in: snapshot) {
            guard let embedding = try snapshot.itemEmbedding(row.id), let record = try snapshot.item(row.id) else {
                throw LearnerError("item \(row.id) is indexed but has no embedding or record")
            }
            let value = row.value
            let expected = 20 + (historyLength > 0 ? 4 * dimension : 0)
            guard value.count == expected else {
                throw LearnerError("learner_items row of \(row.id) has \(value.count) bytes, expected \(expected)")
            }
            let context = value.withUnsafeBytes { raw in
                historyLength > 0 ? (0..<dimension).map { raw.loadLittleEndian(Float.self, at: 20 + 4 * $0) } : []
            }
            let (contextAccumulator, wantedCount) = value.withUnsafeBytes { raw in
                (raw.loadLittleEndian(Float.self, at: 8), raw.loadLittleEndian(Int64.self, at: 12))
            }
            state.model.restoreItem(
                row: embedding, accumulator: row.accumulator, context: context, contextAccumulator: contextAccumulator,
                bias: try snapshot.itemBias(row.id) ?? 0, group: record.styleIndex, wantedCount: wantedCount, active: !record.deleted)
            popularity.append(try snapshot.itemPopularity(row.id) ?? 0)
            state.itemIndex[row.id] = row.index
            state.itemIds.append(row.id)
            state.items.append(record)
        }

        for row in try indexedRows(tables.users, in: snapshot) {
            guard let vector = try snapshot.userEmbedding(row.id), let record = try snapshot.user(row.id) else {
                throw LearnerError("user \(row.id) is indexed but has no embedding or record")
            }
            let (free, history) = try row.value.withUnsafeBytes { raw in
                guard raw.count >= 10 + 4 * dimension else {
                    throw LearnerError("learner_users row of \(row.id) has \(raw.count) bytes, too few for dimension \(dimension)")
                }
                let free = (0..<dimension).map { raw.loadLittleEndian(Float.self, at: 8 + 4 * $0) }
                let count = Int(raw.loadLittleEndian(UInt16.self, at: 8 + 4 * dimension))
                let start = 10 + 4 * dimension
                guard raw.count == start + 4 * count else {
                    throw LearnerError("learner_users row of \(row.id) has \(raw.count) bytes for a history of \(count)")
                }
                let history = (0..<count).map { Int32(bitPattern: raw.loadLittleEndian(UInt32.self, at: start + 4 * $0)) }
                guard history.allSatisfy({ $0 >= 0 && Int($0) < state.itemIds.count }) else {
                    throw LearnerError("learner_users row of \(row.id) names an item index beyond the \(state.itemIds.count) items")
                }
                return (free, history)
            }
            state.model.restoreUser(row: free, accumulator: row.accumulator, vector: vector, group: record.faceShapeIndex, history: history)
            state.popularity.addUser()
            state.userIndex[row.id] = row.index
            state.userIds.append(row.id)
            state.users.append(record)
        }
        let reference = try snapshot.get(tables.meta, popularityReferenceKey).map { bytes in
            bytes.withUnsafeBytes { $0.loadLittleEndian(Int64.self, at: 0) }
        }
        state.popularity.restore(values: popularity, reference: reference, users: state.userIds.count)

        var userSums = state.model.userGroupSums
        for group in 0..<faceGroups {
            if let stored = try snapshot.groupSums(.faceShape(group)) {
                userSums.replaceSubrange(group * dimension..<(group + 1) * dimension, with: stored.sums)
            }
        }
        state.model.restoreUserGroupSums(userSums)

        let pairCursor = try snapshot.cursor(tables.pairs)
        var pair = try pairCursor.first()
        while let current = pair {
            guard current.key.count == 8 else { throw LearnerError("learner_pairs has a key of \(current.key.count) bytes") }
            let user = Int(UInt32(bigEndian: current.key.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }))
            let item = Int(UInt32(bigEndian: current.key.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self) }))
            guard user < state.userIds.count, item < state.itemIds.count else {
                throw LearnerError("learner_pairs names user \(user) and item \(item), beyond the stored rows")
            }
            state.model.restoreWanted(user: user, item: item)
            pair = try pairCursor.next()
        }

        state.counters = try LearnerCounters(in: snapshot, meta: tables.meta)
        state.model.clearChanges()
        return state
    }

    /// The rows of `learner_users` or `learner_items` in index order; the indices must be 0, 1, 2, ….
    static func indexedRows(_ table: RawTable, in snapshot: StoreSnapshot) throws -> [(
        index: Int, id: String, accumulator: Float, value: [UInt8]
    )] {
        var rows: [(index: Int, id: String, accumulator: Float, value: [UInt8])] = []
        let cursor = try snapshot.cursor(table)
        var entry = try cursor.first()
        while let current = entry {
            guard current.value.count >= 8 else { throw LearnerError("\(table.name) has a row of \(current.value.count) bytes") }
            rows.append((
                Int(current.value.loadLittleEndian(UInt32.self, at: 0)), String(decoding: current.key, as: UTF8.self),
                current.value.loadLittleEndian(Float.self, at: 4), Array(current.value)
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
        let dimension = self.dimension
        for index in model.changedUsers {
            let id = userIds[index]
            let vector = model.userVector(index)
            try vector.withUnsafeBufferPointer { try transaction.putUserEmbedding(id, $0) }
            var value = Self.rowPrefix(index: index, accumulator: model.users.accumulator(index))
            value.reserveCapacity(10 + 4 * dimension + 4 * model.settings.historyLength)
            for element in model.users.row(index) { value += littleEndianBytes(element.bitPattern) }
            let history = model.recentItems(of: index)
            value += littleEndianBytes(UInt16(history.count))
            for item in history { value += littleEndianBytes(UInt32(bitPattern: item)) }
            try transaction.put(tables.users, Array(id.utf8), value)
        }
        for index in model.changedItems {
            let id = itemIds[index]
            try model.items.row(index).withUnsafeBufferPointer { try transaction.putItemEmbedding(id, $0) }
            try transaction.putItemBias(id, model.biases[index])
            let hasContext = model.settings.historyLength > 0
            var value = Self.rowPrefix(index: index, accumulator: model.items.accumulator(index))
            value += littleEndianBytes((hasContext ? model.contexts.accumulator(index) : 0).bitPattern)
            value += littleEndianBytes(model.wantedCounts[index])
            if hasContext { for element in model.contexts.row(index) { value += littleEndianBytes(element.bitPattern) } }
            try transaction.put(tables.items, Array(id.utf8), value)
        }
        for index in dirtyUsers { try transaction.putUser(userIds[index], users[index]) }
        for index in dirtyItems {
            try transaction.putItem(itemIds[index], items[index])
            try transaction.putItemPopularity(itemIds[index], popularity.values[index])
        }
        for pair in model.newPairs {
            try transaction.put(tables.pairs, Self.pairKey(user: pair.user, item: pair.item), [])
        }
        for group in 0..<Self.faceGroups {
            try transaction.putGroupSums(
                .faceShape(group), members: Int64(model.userGroupCounts[group]),
                sums: model.userGroupSums[group * dimension..<(group + 1) * dimension])
        }
        for group in 0..<Self.styleGroups {
            try transaction.putGroupSums(.style(group), members: Int64(model.itemGroupCounts[group]), sums: model.itemGroupSum(group))
        }
        if let reference = popularity.reference {
            try transaction.put(tables.meta, Self.popularityReferenceKey, littleEndianBytes(reference))
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

    mutating func clearChanges() {
        pendingHistory.removeAll(keepingCapacity: true)
        pendingPurchases.removeAll(keepingCapacity: true)
        dirtyUsers.removeAll()
        dirtyItems.removeAll()
        model.clearChanges()
    }

    static func rowPrefix(index: Int, accumulator: Float) -> [UInt8] {
        littleEndianBytes(UInt32(index)) + littleEndianBytes(accumulator.bitPattern)
    }

    static func pairKey(user: Int32, item: Int32) -> [UInt8] {
        withUnsafeBytes(of: UInt32(bitPattern: user).bigEndian) { Array($0) } + withUnsafeBytes(of: UInt32(bitPattern: item).bigEndian) { Array($0) }
    }

}

public struct LearnerError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

extension LearnerCounters {
    /// The counters stored in `meta` (`counter/<name>`); 0 for one never written.
    init(in snapshot: StoreSnapshot, meta: RawTable) throws {
        self.init()
        let cursor = try snapshot.cursor(meta)
        var entry = try cursor.first()
        while let current = entry {
            let key = String(decoding: current.key, as: UTF8.self)
            if key.hasPrefix("counter/"), let counter = LearnerCounter(rawValue: String(key.dropFirst("counter/".count))) {
                self[counter] = current.value.loadLittleEndian(Int64.self, at: 0)
            }
            entry = try cursor.next()
        }
    }

    /// The counters the learner has committed to `store`: all 0 before it has created its tables.
    public static func committed(in store: StateStore) throws -> LearnerCounters {
        let meta: RawTable
        do {
            meta = try store.table(named: "learner_meta")
        } catch StoreError.invalidTableName {
            return LearnerCounters()
        }
        return try store.read { snapshot in try LearnerCounters(in: snapshot, meta: meta) }
    }
}
