import LoupeEvents
import LoupeML
import LoupeRandomness
import LoupeStore

/// The learner's state in memory: the models it keeps (the online ranking model and
/// popularity, both through `RecommenderModel`), the id ↔ index maps and the records of users
/// and items. A mirror of its tables in the store, loaded at start and written back (the
/// changed rows only) in the transaction that ends each batch.
///
/// Everything that influences an update is either stored or rebuilt exactly from what is
/// stored (sampler weights from counts, persisted group sums), so a learner restarted from the
/// store continues bit for bit as one that never stopped.
struct LearnerState: Sendable {
    static let faceGroups = FaceShape.allCases.count + 1
    static let styleGroups = FrameStyle.allCases.count + 1

    let weights: EventWeights
    var model: OnlineRankingModel
    var popularity: PopularityModel
    var userIds: [String] = []
    var userIndex: [String: Int] = [:]
    var users: [UserRecord] = []
    var itemIds: [String] = []
    var itemIndex: [String: Int] = [:]
    var items: [ItemRecord] = []
    var counters = LearnerCounters()

    /// This batch's history entries and purchase changes, in event order; written (merged with
    /// what the store holds) by the transaction that ends the batch.
    var pendingHistory: [(user: Int, entry: HistoryEntry)] = []
    var pendingPurchases: [(user: Int, item: Int, time: Int64, bought: Bool)] = []
    /// Records (and popularity scores) changed since the last write.
    var dirtyUsers = ChangedIndices()
    var dirtyItems = ChangedIndices()

    init(settings: LearnerSettings) {
        weights = settings.weights
        model = OnlineRankingModel(settings: settings.model, userGroups: Self.faceGroups, itemGroups: Self.styleGroups)
        popularity = PopularityModel(halfLifeMilliseconds: settings.popularityHalfLifeMilliseconds)
    }

    var dimension: Int { model.dimension }

    // MARK: users and items

    /// The index of `id`, creating the user (at the mean of its face-shape group) if new.
    mutating func user(_ id: String, faceShape: Int? = nil, time: Int64) -> Int {
        if let index = userIndex[id] { return index }
        let index = model.addUser(group: faceShape, seed: FNV1a.hash(id))
        popularity.addUser()
        userIds.append(id)
        userIndex[id] = index
        users.append(UserRecord(version: 0, lastEventTime: time, faceShapeIndex: faceShape))
        dirtyUsers.insert(index)
        counters[.usersCreated] += 1
        return index
    }

    /// The index of `id`, creating the item (at the mean of its style group) if new.
    mutating func item(_ id: String, style: Int? = nil, time: Int64) -> Int {
        if let index = itemIndex[id] { return index }
        let index = model.addItem(group: style, seed: FNV1a.hash(id))
        popularity.addItem()
        itemIds.append(id)
        itemIndex[id] = index
        items.append(ItemRecord(version: 0, lastEventTime: time, styleIndex: style))
        dirtyItems.insert(index)
        counters[.itemsCreated] += 1
        return index
    }

    /// A new face analysis: the user moves to that shape's group.
    mutating func setFaceShape(_ user: Int, _ shape: Int?) {
        model.setUserGroup(user, shape)
        users[user].faceShapeIndex = shape
    }

    /// A catalog upsert: the item moves to its style's group.
    mutating func setStyle(_ item: Int, _ style: Int?) {
        model.setItemGroup(item, style)
        items[item].styleIndex = style
    }

    mutating func setDeleted(_ item: Int, _ deleted: Bool) {
        items[item].deleted = deleted
        model.setItemActive(item, !deleted)
        popularity.setItemActive(item, !deleted)
    }

    // MARK: learning

    /// One weighted observation; `weight` > 0 means wanted, < 0 not wanted, 0 nothing to learn.
    mutating func learn(user: Int, item: Int, weight: Float, time: Int64, eventId: String) {
        guard weight != 0 else { return }
        let observation = Observation(user: user, item: item, weight: weight, time: time, seed: FNV1a.hash(eventId))
        model.learn(observation)
        let reference = popularity.reference
        popularity.learn(observation)
        // A rescaled popularity changes every item's stored score.
        if let reference, popularity.reference != reference { for index in items.indices { dirtyItems.insert(index) } }
        counters[.examples] += 1
    }
}

/// What the learner counts, stored as `counter/<name>` in `learner_meta` (docs/learning.md).
public enum LearnerCounter: String, CaseIterable, Sendable {
    case applied, duplicates, ignored, examples
    case deadLettered = "dead_lettered"
    case unknownItems = "unknown_items"
    case usersCreated = "users_created"
    case itemsCreated = "items_created"
}

/// The counters in a fixed array: they change with every event, so no hashing of names.
public struct LearnerCounters: Sendable, Equatable {
    private var values = [Int64](repeating: 0, count: LearnerCounter.allCases.count)

    public init() {}

    public subscript(counter: LearnerCounter) -> Int64 {
        get { values[LearnerCounter.allCases.firstIndex(of: counter)!] }
        set { values[LearnerCounter.allCases.firstIndex(of: counter)!] = newValue }
    }
}
