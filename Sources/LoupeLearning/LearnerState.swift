import LoupeEvents
import LoupeML
import LoupeStore

/// The learner's state in memory: a mirror of its tables in the store, loaded at start and
/// written back (the changed rows only) in the transaction that ends each batch.
///
/// Everything that influences an update is either stored or rebuilt exactly from what is
/// stored (integer sampler weights, persisted group sums), so a learner restarted from the
/// store continues bit for bit as one that never stopped.
struct LearnerState {
    static let faceGroups = FaceShape.allCases.count + 1
    static let styleGroups = FrameStyle.allCases.count + 1

    var model: OnlineMatrixFactorization
    var userIds: [String] = []
    var userIndex: [String: Int] = [:]
    var users: [UserRecord] = []
    var itemIds: [String] = []
    var itemIndex: [String: Int] = [:]
    var items: [ItemRecord] = []
    var sampler = NegativeSampler()
    /// Sum and count of the embeddings of the users of each face shape (last: unknown) and of
    /// the items of each style (last: unknown), for starting new rows at their group's mean.
    var faceSums: [[Double]]
    var faceCounts: [Int]
    var styleSums: [[Double]]
    var styleCounts: [Int]
    var counters = LearnerCounters()

    /// This batch's history entries and purchase changes, in event order; written (merged with
    /// what the store holds) by the transaction that ends the batch.
    var pendingHistory: [(user: Int, entry: HistoryEntry)] = []
    var pendingPurchases: [(user: Int, item: Int, time: Int64, bought: Bool)] = []

    var dirtyUsers = DirtyIndices()
    var dirtyItems = DirtyIndices()
    /// Reused by `learn`, so that an example allocates nothing.
    private var negatives: [Int] = []
    private var touched: [Int] = []
    private var before: [Float] = []
    var dirtyGroups = false

    init(settings: OnlineModelSettings) {
        model = OnlineMatrixFactorization(settings: settings)
        faceSums = Array(repeating: Array(repeating: 0, count: settings.dimension), count: Self.faceGroups)
        faceCounts = Array(repeating: 0, count: Self.faceGroups)
        styleSums = Array(repeating: Array(repeating: 0, count: settings.dimension), count: Self.styleGroups)
        styleCounts = Array(repeating: 0, count: Self.styleGroups)
    }

    var dimension: Int { model.settings.dimension }

    func faceGroup(of user: Int) -> Int { users[user].faceShapeIndex ?? FaceShape.allCases.count }
    func styleGroup(of item: Int) -> Int { items[item].styleIndex ?? FrameStyle.allCases.count }

    // MARK: rows

    /// The index of `id`, creating the user (at the mean of its face-shape group) if new.
    mutating func user(_ id: String, faceShape: Int? = nil, time: Int64) -> Int {
        if let index = userIndex[id] { return index }
        let group = faceShape ?? FaceShape.allCases.count
        let row = Self.startingRow(sum: faceSums[group], count: faceCounts[group], id: id, dimension: dimension)
        let index = model.users.append(row)
        userIds.append(id)
        userIndex[id] = index
        users.append(UserRecord(version: 0, lastEventTime: time, faceShapeIndex: faceShape))
        Self.addToGroup(&faceSums[group], &faceCounts[group], row.map(Double.init), sign: 1)
        dirtyGroups = true
        dirtyUsers.insert(index)
        counters[.usersCreated] += 1
        return index
    }

    /// The index of `id`, creating the item (at the mean of its style group) if new.
    mutating func item(_ id: String, style: Int? = nil, time: Int64) -> Int {
        if let index = itemIndex[id] { return index }
        let group = style ?? FrameStyle.allCases.count
        let row = Self.startingRow(sum: styleSums[group], count: styleCounts[group], id: id, dimension: dimension)
        let index = model.items.append(row)
        itemIds.append(id)
        itemIndex[id] = index
        items.append(ItemRecord(version: 0, lastEventTime: time, styleIndex: style))
        sampler.ensureItem(index)
        Self.addToGroup(&styleSums[group], &styleCounts[group], row.map(Double.init), sign: 1)
        dirtyGroups = true
        dirtyItems.insert(index)
        counters[.itemsCreated] += 1
        return index
    }

    /// The group's mean when it has members, else small values derived from the id alone.
    static func startingRow(sum: [Double], count: Int, id: String, dimension: Int) -> [Float] {
        if count > 0 { return sum.map { Float($0 / Double(count)) } }
        var random = SplitMix64(seed: FNV1a.hash(id))
        return (0..<dimension).map { _ in Float(random.nextUniform() - 0.5) * 0.2 }
    }

    static func addToGroup(_ sum: inout [Double], _ count: inout Int, _ row: [Double], sign: Double) {
        for offset in 0..<row.count { sum[offset] += sign * row[offset] }
        count += sign > 0 ? 1 : -1
    }

    /// Moves a user to another face-shape group (a new face analysis).
    mutating func setFaceShape(_ user: Int, _ shape: Int?) {
        let row = model.users.row(user).map(Double.init)
        if Self.move(row, from: faceGroup(of: user), to: shape ?? FaceShape.allCases.count, &faceSums, &faceCounts) {
            dirtyGroups = true
        }
        users[user].faceShapeIndex = shape
    }

    /// Moves an item to another style group (a catalog upsert).
    mutating func setStyle(_ item: Int, _ style: Int?) {
        let row = model.items.row(item).map(Double.init)
        if Self.move(row, from: styleGroup(of: item), to: style ?? FrameStyle.allCases.count, &styleSums, &styleCounts) {
            dirtyGroups = true
        }
        items[item].styleIndex = style
    }

    /// Takes a row out of one group's sum and count and adds it to another's; false when the
    /// groups are the same.
    static func move(_ row: [Double], from old: Int, to new: Int, _ sums: inout [[Double]], _ counts: inout [Int]) -> Bool {
        guard old != new else { return false }
        addToGroup(&sums[old], &counts[old], row, sign: -1)
        addToGroup(&sums[new], &counts[new], row, sign: 1)
        return true
    }

    // MARK: learning

    /// One weighted observation; `weight` > 0 means wanted, < 0 not wanted.
    mutating func learn(user: Int, item: Int, weight: Float, eventId: String, negatives count: Int) {
        guard weight != 0 else { return }
        negatives.removeAll(keepingCapacity: true)
        if weight > 0, count > 0 {
            var random = SplitMix64(seed: FNV1a.hash(eventId))
            for _ in 0..<count {
                if let drawn = sampler.draw(uniform: random.nextUniform()), drawn != item, !items[drawn].deleted {
                    negatives.append(drawn)
                }
            }
        }
        touched.removeAll(keepingCapacity: true)
        touched.append(item)
        for negative in negatives where !touched.contains(negative) { touched.append(negative) }
        let dimension = self.dimension
        // Rows before the step (the user's, then each touched item's), to move the group sums
        // by exactly the change.
        if before.count < (1 + touched.count) * dimension { before = [Float](repeating: 0, count: (1 + touched.count) * dimension) }
        before.withUnsafeMutableBufferPointer { before in
            let target = before.baseAddress!
            model.users.values.withUnsafeBufferPointer { users in
                target.update(from: users.baseAddress! + user * dimension, count: dimension)
            }
            model.items.values.withUnsafeBufferPointer { items in
                for (position, index) in touched.enumerated() {
                    (target + (position + 1) * dimension).update(from: items.baseAddress! + index * dimension, count: dimension)
                }
            }
        }
        model.train(TrainingExample(user: user, item: item, label: weight > 0 ? 1 : 0, weight: abs(weight), negatives: negatives))

        // Element by element through pointers only, so that the compiler vectorises the loops
        // (the same arithmetic per element as any other order: the sums do not change).
        let userGroup = faceGroup(of: user)
        before.withUnsafeBufferPointer { before in
            model.users.values.withUnsafeBufferPointer { values in
                faceSums[userGroup].withUnsafeMutableBufferPointer { sums in
                    Self.addChange(to: sums.baseAddress!, after: values.baseAddress! + user * dimension, before: before.baseAddress!, dimension)
                }
            }
            for (position, index) in touched.enumerated() {
                let group = styleGroup(of: index)
                model.items.values.withUnsafeBufferPointer { values in
                    styleSums[group].withUnsafeMutableBufferPointer { sums in
                        Self.addChange(
                            to: sums.baseAddress!, after: values.baseAddress! + index * dimension,
                            before: before.baseAddress! + (position + 1) * dimension, dimension)
                    }
                }
            }
        }
        for index in touched { dirtyItems.insert(index) }
        dirtyUsers.insert(user)
        dirtyGroups = true
        counters[.examples] += 1
    }
}

extension LearnerState {
    /// sums[i] += after[i] − before[i] in Double, for a row's move within its group's sum.
    @inline(__always)
    static func addChange(
        to sums: UnsafeMutablePointer<Double>, after: UnsafePointer<Float>, before: UnsafePointer<Float>, _ count: Int
    ) {
        for offset in 0..<count { sums[offset] += Double(after[offset]) - Double(before[offset]) }
    }
}

/// Indices changed since the last write, in the order first changed: a flag per index for the
/// membership test and a list to write from, so marking one costs no hashing.
struct DirtyIndices: Sequence {
    private var flags: [Bool] = []
    private var list: [Int] = []

    mutating func insert(_ index: Int) {
        if index >= flags.count { flags += repeatElement(false, count: Swift.max(index + 1 - flags.count, flags.count)) }
        if !flags[index] {
            flags[index] = true
            list.append(index)
        }
    }

    mutating func removeAll() {
        for index in list { flags[index] = false }
        list.removeAll(keepingCapacity: true)
    }

    func makeIterator() -> IndexingIterator<[Int]> { list.makeIterator() }
}

/// What the learner counts, stored as `counter/<name>` in `learner_meta` (docs/learning.md).
enum LearnerCounter: String, CaseIterable {
    case applied, duplicates, ignored, examples
    case deadLettered = "dead_lettered"
    case unknownItems = "unknown_items"
    case usersCreated = "users_created"
    case itemsCreated = "items_created"
}

/// The counters in a fixed array: they change with every event, so no hashing of names.
struct LearnerCounters {
    private var values = [Int64](repeating: 0, count: LearnerCounter.allCases.count)

    subscript(counter: LearnerCounter) -> Int64 {
        get { values[LearnerCounter.allCases.firstIndex(of: counter)!] }
        set { values[LearnerCounter.allCases.firstIndex(of: counter)!] = newValue }
    }
}
