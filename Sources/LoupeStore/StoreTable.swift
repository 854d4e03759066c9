import LoupeLMDB

/// The store's built-in tables: the one list of their names. Layouts are in docs/state-store.md.
public enum StoreTable: String, CaseIterable, Sendable {
    /// user id → `dimension` × Float32 (little-endian).
    case userEmbeddings = "user_embeddings"
    /// item id → `dimension` × Float32 (little-endian).
    case itemEmbeddings = "item_embeddings"
    /// user id → `UserRecord`.
    case users
    /// item id → `ItemRecord`.
    case items
    /// topic ‖ 0x00 ‖ partition (Int32 big-endian) → next offset (Int64 little-endian).
    case positions
    /// metadata key → JSON.
    case model
    /// event time (Int64 big-endian, sign bit flipped) ‖ event id → empty: the event ids applied
    /// within the de-duplication window, in time order.
    case seenEventsByTime = "seen_events_by_time"
    /// user id → `UserHistory`: the user's most recent interactions and feedback.
    case userHistory = "user_history"
    /// user id ‖ 0x00 ‖ item id → time of the purchase (Int64 little-endian, epoch ms).
    case purchases
    /// item id → Float32: the item's bias, added to ⟨user, item⟩ in every personal score.
    case itemBiases = "item_biases"
    /// item id → Float64: the popularity model's score of the item (serving's fallback list).
    case itemPopularity = "item_popularity"
    /// `face/<g>` or `style/<g>` → member count (Int64) ‖ sums of the members' rows
    /// (`dimension` × Float64): see `EntityGroup`.
    case groupSums = "group_sums"

    /// LMDB caps the key size; ids longer than this cannot be keys.
    public static let maximumKeyLength = 511
}

/// An additional table (an LMDB named database) of raw bytes, for state the built-in tables do
/// not cover. Obtain it from `StateStore.table(named:)`; read and write it in transactions.
public struct RawTable: Sendable, Hashable {
    public let name: String
    let database: LMDBDatabase

    public static func == (lhs: RawTable, rhs: RawTable) -> Bool { lhs.name == rhs.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
}

/// The built-in tables' handles, opened once per store.
struct BuiltInTables: Sendable {
    let userEmbeddings: LMDBDatabase
    let itemEmbeddings: LMDBDatabase
    let users: LMDBDatabase
    let items: LMDBDatabase
    let positions: LMDBDatabase
    let model: LMDBDatabase
    let seenEventsByTime: LMDBDatabase
    let userHistory: LMDBDatabase
    let purchases: LMDBDatabase
    let itemBiases: LMDBDatabase
    let itemPopularity: LMDBDatabase
    let groupSums: LMDBDatabase

    /// Opens (and, with `create`, creates) the tables named `namespace` ‖ table name.
    init(_ environment: LMDBEnvironment, namespace: String, create: Bool) throws {
        func open(_ table: StoreTable) throws -> LMDBDatabase {
            try environment.database(namespace + table.rawValue, create: create)
        }
        userEmbeddings = try open(.userEmbeddings)
        itemEmbeddings = try open(.itemEmbeddings)
        users = try open(.users)
        items = try open(.items)
        positions = try open(.positions)
        model = try open(.model)
        seenEventsByTime = try open(.seenEventsByTime)
        userHistory = try open(.userHistory)
        purchases = try open(.purchases)
        itemBiases = try open(.itemBiases)
        itemPopularity = try open(.itemPopularity)
        groupSums = try open(.groupSums)
    }

    subscript(table: StoreTable) -> LMDBDatabase {
        switch table {
        case .userEmbeddings: userEmbeddings
        case .itemEmbeddings: itemEmbeddings
        case .users: users
        case .items: items
        case .positions: positions
        case .model: model
        case .seenEventsByTime: seenEventsByTime
        case .userHistory: userHistory
        case .purchases: purchases
        case .itemBiases: itemBiases
        case .itemPopularity: itemPopularity
        case .groupSums: groupSums
        }
    }
}
