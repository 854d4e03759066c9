import LoupeRandomness
import CBLAS
import Glibc

/// The online learner's model: a pairwise ranking (BPR) factorisation with item biases and a
/// history part, trained one observation at a time (docs/learning.md derives every step).
///
/// score(u, i) = bᵢ + ⟨xᵤ, qᵢ⟩,  xᵤ = pᵤ + n^−e · Σ_{r ∈ recent(u)} y_r
///
/// - pᵤ is the user's free row, qᵢ the item's row, bᵢ its bias, y_r the item's *context* row:
///   what having wanted r says about what comes next; recent(u) are the user's last
///   `historyLength` distinct wanted items (n of them), so a new user's taste shows after one
///   event, before their own row has learned anything.
/// - A wanted observation (weight w > 0) is contrasted with `negativeSamples` items drawn from
///   the items wanted at least once — uniformly, or in proportion to popularity^0.75 for a share
///   of them — that are neither the item nor one the user ever wanted; the loss is
///   Σⱼ −w·log σ(sᵢ − sⱼ) + λ/2·Σ‖row‖² over the factor rows it touches. An unwanted one
///   (w < 0) pushes its score down: |w|·log(1 + e^sᵢ) + λ/2·Σ‖row‖².
/// - Factor rows take one per-row Adagrad step each, from gradients at the values before the
///   step; biases a plain SGD step (without L2, so that they can carry popularity).
///
/// Users and items belong to groups (face shapes, styles; the last group is "unknown"): a new
/// row starts at its group's mean plus small noise derived from a seed, and the model keeps each
/// group's sum of user vectors xᵤ and of item rows qᵢ as rows change, so that cold starts and
/// serving's face-shape lists need no pass over all rows.
///
/// `xᵤ` as scored and stored (`userVectors`) is refreshed at each of the user's observations;
/// between them it does not follow changes of the context rows it was built from.
public struct OnlineRankingModel: RecommenderModel {
    public let settings: OnlineRankingSettings
    public let userGroupCount: Int
    public let itemGroupCount: Int
    /// pᵤ, with their Adagrad accumulators.
    public private(set) var users: EmbeddingTable
    /// xᵤ, `userCount × dimension`: what scoring, the store and serving use.
    public private(set) var userVectors: [Float] = []
    /// qᵢ, with their accumulators.
    public private(set) var items: EmbeddingTable
    /// yᵢ, with their accumulators (no rows when `historyLength` is 0).
    public private(set) var contexts: EmbeddingTable
    public private(set) var biases: [Float] = []
    public private(set) var userGroups: [Int32] = []
    public private(set) var itemGroups: [Int32] = []
    /// Per group: the sum of its users' xᵤ (`userGroupCount × dimension`) and their number.
    public private(set) var userGroupSums: [Double]
    public private(set) var userGroupCounts: [Int]
    /// Per group: the number of its items. Their sum is kept only while no member row has
    /// changed since it was computed (`itemSumCache`, `itemSumStale`): learning moves a dozen
    /// item rows per observation, and the sums are needed only when an item is added.
    public private(set) var itemGroupCounts: [Int]
    private var itemSumCache: [Double]
    private var itemSumStale: [Bool]
    /// Per user: how many of its `historyLength` slots in `recentItems` are used (oldest first).
    public private(set) var recentCounts: [UInt32] = []
    public private(set) var recentItems: [Int32] = []
    /// Which items each user wanted: never drawn as that user's negatives.
    public private(set) var wanted = WantedItems()
    /// Wanted observations per item.
    public private(set) var wantedCounts: [Int64] = []
    public private(set) var active: [Bool] = []
    /// The items a uniform negative is drawn from (wanted at least once, active), in index order:
    /// a draw is one array access, and the order is a function of the items alone, so a restored
    /// model draws the same.
    private var eligibleItems: [Int32] = []
    private var popularSampler = WeightedSampler()

    /// Rows changed since `clearChanges()`: users (pᵤ, xᵤ, history) and items (qᵢ, yᵢ, bᵢ), in the
    /// order first changed, and the (user, item) pairs newly wanted.
    public private(set) var changedUsers = ChangedIndices()
    public private(set) var changedItems = ChangedIndices()
    public private(set) var newPairs: [(user: Int32, item: Int32)] = []

    /// Reused by every observation, so that learning allocates nothing.
    private var slots: [Int] = []
    private var coefficients: [Float] = []
    private var scratch: [Float] = []
    private var refreshed: [Float] = []
    private var negatives: [Int] = []

    public init(settings: OnlineRankingSettings, userGroups: Int = 1, itemGroups: Int = 1) {
        precondition(userGroups >= 1 && itemGroups >= 1, "at least the unknown group")
        self.settings = settings
        userGroupCount = userGroups
        itemGroupCount = itemGroups
        users = EmbeddingTable(dimension: settings.dimension)
        items = EmbeddingTable(dimension: settings.dimension)
        contexts = EmbeddingTable(dimension: settings.dimension)
        userGroupSums = Array(repeating: 0, count: userGroups * settings.dimension)
        userGroupCounts = Array(repeating: 0, count: userGroups)
        itemSumCache = Array(repeating: 0, count: itemGroups * settings.dimension)
        itemSumStale = Array(repeating: false, count: itemGroups)
        itemGroupCounts = Array(repeating: 0, count: itemGroups)
    }

    public var name: String { "online-bpr" }
    public var dimension: Int { settings.dimension }
    public var userCount: Int { users.count }
    public var itemCount: Int { items.count }
    var unknownUserGroup: Int { userGroupCount - 1 }
    var unknownItemGroup: Int { itemGroupCount - 1 }

    // MARK: users and items

    @discardableResult public mutating func addUser() -> Int { addUser(group: nil, seed: UInt64(users.count)) }
    @discardableResult public mutating func addItem() -> Int { addItem(group: nil, seed: UInt64(items.count)) }

    /// Adds a user at its group's mean (nil: the unknown group) plus noise from `seed`.
    @discardableResult
    public mutating func addUser(group: Int?, seed: UInt64) -> Int {
        let group = group ?? unknownUserGroup
        let row = startingRow(sums: userGroupSums, count: userGroupCounts[group], group: group, seed: seed)
        let index = users.append(row)
        userVectors.append(contentsOf: row)
        userGroups.append(Int32(group))
        recentCounts.append(0)
        recentItems.append(contentsOf: repeatElement(0, count: settings.historyLength))
        wanted.addUser()
        addToGroup(&userGroupSums, &userGroupCounts, group, row, sign: 1)
        changedUsers.insert(index)
        return index
    }

    /// Adds an item at its group's mean (nil: the unknown group) plus noise from `seed`, with
    /// bias 0 (biases sum to about 0: a pairwise step raises one and lowers another).
    @discardableResult
    public mutating func addItem(group: Int?, seed: UInt64) -> Int {
        let group = group ?? unknownItemGroup
        refreshItemSum(group)
        let row = startingRow(sums: itemSumCache, count: itemGroupCounts[group], group: group, seed: seed)
        let index = items.append(row)
        if settings.historyLength > 0 { contexts.append(repeatElement(0, count: dimension)) }
        biases.append(0)
        itemGroups.append(Int32(group))
        wantedCounts.append(0)
        active.append(true)
        popularSampler.ensureItem(index)
        addToGroup(&itemSumCache, &itemGroupCounts, group, row, sign: 1)
        changedItems.insert(index)
        return index
    }

    public mutating func setUserGroup(_ user: Int, _ group: Int?) {
        let group = group ?? unknownUserGroup
        let old = Int(userGroups[user])
        guard old != group else { return }
        let row = userVectors[user * dimension..<(user + 1) * dimension]
        addToGroup(&userGroupSums, &userGroupCounts, old, row, sign: -1)
        addToGroup(&userGroupSums, &userGroupCounts, group, row, sign: 1)
        userGroups[user] = Int32(group)
    }

    public mutating func setItemGroup(_ item: Int, _ group: Int?) {
        let group = group ?? unknownItemGroup
        let old = Int(itemGroups[item])
        guard old != group else { return }
        itemGroupCounts[old] -= 1
        itemGroupCounts[group] += 1
        itemSumStale[old] = true
        itemSumStale[group] = true
        itemGroups[item] = Int32(group)
    }

    public mutating func setItemActive(_ item: Int, _ active: Bool) {
        guard self.active[item] != active else { return }
        self.active[item] = active
        updateSamplers(item)
    }

    /// The user's last wanted items, oldest first.
    public func recentItems(of user: Int) -> ArraySlice<Int32> {
        let start = user * settings.historyLength
        return recentItems[start..<start + Int(recentCounts[user])]
    }

    public func userVector(_ user: Int) -> ArraySlice<Float> {
        userVectors[user * dimension..<(user + 1) * dimension]
    }

    private func startingRow(sums: [Double], count: Int, group: Int, seed: UInt64) -> [Float] {
        var random = SplitMix64(seed: seed)
        return (0..<dimension).map { offset in
            let mean = count > 0 ? Float(sums[group * dimension + offset] / Double(count)) : 0
            return mean + Float(random.uniform() - 0.5) * settings.initialScale
        }
    }

    private func addToGroup(_ sums: inout [Double], _ counts: inout [Int], _ group: Int, _ row: some Collection<Float>, sign: Double) {
        var offset = group * dimension
        for value in row {
            sums[offset] += sign * Double(value)
            offset += 1
        }
        counts[group] += sign > 0 ? 1 : -1
    }

    private mutating func updateSamplers(_ item: Int) {
        let count = active[item] ? wantedCounts[item] : 0
        let place = eligibleItems.withUnsafeBufferPointer { WantedItems.insertionPoint(of: Int32(item), in: $0) }
        let listed = place < eligibleItems.count && eligibleItems[place] == Int32(item)
        if count > 0, !listed {
            eligibleItems.insert(Int32(item), at: place)
        } else if count == 0, listed {
            eligibleItems.remove(at: place)
        }
        // Derived state, rebuilt from the counts on restore: kept only when drawn from.
        if settings.uniformNegativeShare < 1 { popularSampler.setWeight(item, Self.popularityWeight(count)) }
    }

    /// count^0.75 in units of 1/1024, an integer so that the sampler's sums are exact.
    static func popularityWeight(_ count: Int64) -> Int64 {
        Int64((pow(Double(max(count, 0)), 0.75) * 1024).rounded())
    }

    // MARK: learning

    public mutating func learn(_ observation: Observation) {
        guard observation.weight != 0 else { return }
        var drawn = negatives
        negatives = []
        drawn.removeAll(keepingCapacity: true)
        if observation.weight > 0 { drawNegatives(observation, into: &drawn) }
        step(observation, negatives: drawn, measuringLoss: false)
        negatives = drawn
    }

    /// Learns `observation` against the given negatives instead of drawn ones (for tests and
    /// references); returns the loss before the step.
    @discardableResult
    public mutating func learn(_ observation: Observation, negatives: [Int]) -> Float {
        step(observation, negatives: observation.weight > 0 ? negatives : [], measuringLoss: true)
    }

    /// Appends the negatives of a wanted observation, drawn with its seed, to `negatives`.
    func drawNegatives(_ observation: Observation, into negatives: inout [Int]) {
        var random = SplitMix64(seed: observation.seed)
        let share = settings.uniformNegativeShare
        for _ in 0..<settings.negativeSamples {
            for _ in 0..<max(1, settings.negativeAttempts) {
                let uniform = share >= 1 || (share > 0 && random.uniform() < share)
                let draw = random.uniform()
                let drawn: Int
                if uniform {
                    guard !eligibleItems.isEmpty else { break }
                    drawn = Int(eligibleItems[min(Int(draw * Double(eligibleItems.count)), eligibleItems.count - 1)])
                } else {
                    guard let item = popularSampler.draw(uniform: draw) else { break }
                    drawn = item
                }
                if drawn == observation.item || wanted.contains(user: observation.user, item: drawn) { continue }
                negatives.append(drawn)
                break
            }
        }
    }

    @discardableResult
    private mutating func step(_ observation: Observation, negatives: [Int], measuringLoss: Bool) -> Float {
        let user = observation.user
        let item = observation.item
        precondition(user < userCount && item < itemCount, "observation of user \(user), item \(item) beyond the model's rows")
        let history = Int(recentCounts[user])

        // Distinct items touched, the observed one first, with their multiplicity.
        slots.removeAll(keepingCapacity: true)
        coefficients.removeAll(keepingCapacity: true)
        slots.append(item)
        coefficients.append(0)
        for negative in negatives where negative != item {
            if let slot = slots.firstIndex(of: negative) {
                coefficients[slot] += 1
            } else {
                slots.append(negative)
                coefficients.append(1)
            }
        }
        if scratch.count < 3 * dimension { scratch = [Float](repeating: 0, count: 3 * dimension) }
        let ring = user * settings.historyLength
        let loss = Self.update(
            observation, settings: settings, measuringLoss: measuringLoss, slots: slots, coefficients: &coefficients,
            history: recentItems[ring..<ring + history], itemGroups: itemGroups, users: &users, items: &items,
            contexts: &contexts, biases: &biases, scratch: &scratch)
        for slot in slots { itemSumStale[Int(itemGroups[slot])] = true }
        for slot in slots { changedItems.insert(slot) }
        for position in 0..<history { changedItems.insert(Int(recentItems[ring + position])) }
        if observation.weight > 0 { recordWanted(user: user, item: item) }
        refreshUserVector(user)
        changedUsers.insert(user)
        return loss
    }

    /// The gradient step of one observation on every row it touches; the rows and the item
    /// group sums are passed in (disjoint parts of the model). `slots` are the distinct items,
    /// the observed one first; `coefficients` hold each negative's multiplicity on entry and
    /// ∂loss/∂score of every slot on return. Returns the loss before the step when measured.
    private static func update(
        _ observation: Observation, settings: OnlineRankingSettings, measuringLoss: Bool, slots: [Int],
        coefficients: inout [Float], history: ArraySlice<Int32>, itemGroups: [Int32], users: inout EmbeddingTable,
        items: inout EmbeddingTable, contexts: inout EmbeddingTable, biases: inout [Float], scratch: inout [Float]
    ) -> Float {
        let dimension = settings.dimension
        let lambda = settings.l2
        let user = observation.user
        let item = observation.item
        let historyScale = history.isEmpty ? 0 : powf(Float(history.count), -settings.historyExponent)
        var loss: Float = 0
        scratch.withUnsafeMutableBufferPointer { scratch in
            // scratch: x (d) ‖ ∂loss/∂x (d) ‖ one row's gradient (d)
            let vector = scratch.baseAddress!
            let vectorGradient = vector + dimension
            let rowGradient = vectorGradient + dimension
            users.withStorage { userRows, userAccumulators in
                items.withStorage { itemRows, itemAccumulators in
                    contexts.withStorage { contextRows, contextAccumulators in
                        biases.withUnsafeMutableBufferPointer { biases in
                                coefficients.withUnsafeMutableBufferPointer { coefficients in
                                    let userRow = userRows.baseAddress! + user * dimension
                                    let itemBase = itemRows.baseAddress!
                                    // x = p + n^−e Σ y
                                    vector.update(from: userRow, count: dimension)
                                    for context in history {
                                        VectorArithmetic.add(historyScale, contextRows.baseAddress! + Int(context) * dimension, to: vector, dimension)
                                    }
                                    let positiveScore = biases[item] + ItemScoring.dot(vector, itemBase + item * dimension, dimension)
                                    // Each slot's ∂loss/∂score.
                                    if observation.weight > 0 {
                                        var total: Float = 0
                                        for slot in 1..<slots.count {
                                            let score = biases[slots[slot]] + ItemScoring.dot(vector, itemBase + slots[slot] * dimension, dimension)
                                            if measuringLoss {
                                                loss += coefficients[slot] * observation.weight * softplus(score - positiveScore)
                                            }
                                            coefficients[slot] *= observation.weight * sigmoid(score - positiveScore)
                                            total += coefficients[slot]
                                        }
                                        coefficients[0] = -total
                                    } else {
                                        let weight = -observation.weight
                                        if measuringLoss { loss += weight * softplus(positiveScore) }
                                        coefficients[0] = weight * sigmoid(positiveScore)
                                    }
                                    if measuringLoss {
                                        var squares = ItemScoring.dot(userRow, userRow, dimension)
                                        for slot in slots { squares += ItemScoring.dot(itemBase + slot * dimension, itemBase + slot * dimension, dimension) }
                                        for context in history {
                                            let row = contextRows.baseAddress! + Int(context) * dimension
                                            squares += ItemScoring.dot(row, row, dimension)
                                        }
                                        loss += 0.5 * lambda * squares
                                    }
                                    // ∂loss/∂x = Σ coefficient · q, from the rows before any step.
                                    for offset in 0..<dimension { vectorGradient[offset] = 0 }
                                    for (slot, row) in slots.enumerated() {
                                        let coefficient = coefficients[slot]
                                        let itemRow = itemBase + row * dimension
                                        for offset in 0..<dimension { vectorGradient[offset] += coefficient * itemRow[offset] }
                                    }
                                    // Items: ∂/∂q = coefficient · x + λq; ∂/∂b = coefficient.
                                    for (slot, row) in slots.enumerated() {
                                        let coefficient = coefficients[slot]
                                        let itemRow = itemBase + row * dimension
                                        for offset in 0..<dimension { rowGradient[offset] = coefficient * vector[offset] + lambda * itemRow[offset] }
                                        adagradStep(itemRow, itemAccumulators.baseAddress! + row, rowGradient, settings)
                                        biases[row] -= settings.biasLearningRate * coefficient
                                    }
                                    // The history's context rows: ∂/∂y = n^−e · ∂loss/∂x + λy.
                                    for context in history {
                                        let row = contextRows.baseAddress! + Int(context) * dimension
                                        for offset in 0..<dimension {
                                            rowGradient[offset] = historyScale * vectorGradient[offset] + lambda * row[offset]
                                        }
                                        adagradStep(row, contextAccumulators.baseAddress! + Int(context), rowGradient, settings)
                                    }
                                    // The user: ∂/∂p = ∂loss/∂x + λp.
                                    for offset in 0..<dimension { rowGradient[offset] = vectorGradient[offset] + lambda * userRow[offset] }
                                    adagradStep(userRow, userAccumulators.baseAddress! + user, rowGradient, settings)
                                }
                        }
                    }
                }
            }
        }
        return loss
    }

    /// row −= η·g / (√accumulator + ε) after accumulator += mean(g²).
    @inline(__always)
    private static func adagradStep(
        _ row: UnsafeMutablePointer<Float>, _ accumulator: UnsafeMutablePointer<Float>, _ gradient: UnsafeMutablePointer<Float>,
        _ settings: OnlineRankingSettings
    ) {
        let dimension = settings.dimension
        accumulator.pointee += ItemScoring.dot(gradient, gradient, dimension) / Float(dimension)
        let rate = settings.learningRate / (accumulator.pointee.squareRoot() + settings.epsilon)
        for offset in 0..<dimension { row[offset] -= rate * gradient[offset] }
    }

    /// The sum of a group's item rows: its members' current rows added in index order, in
    /// Double — the same value whether it was kept by appending new members or computed afresh.
    public func itemGroupSum(_ group: Int) -> [Double] {
        if !itemSumStale[group] { return Array(itemSumCache[group * dimension..<(group + 1) * dimension]) }
        var sum = [Double](repeating: 0, count: dimension)
        items.values.withUnsafeBufferPointer { rows in
            for item in 0..<itemCount where Int(itemGroups[item]) == group {
                for offset in 0..<dimension { sum[offset] += Double(rows[item * dimension + offset]) }
            }
        }
        return sum
    }

    private mutating func refreshItemSum(_ group: Int) {
        guard itemSumStale[group] else { return }
        itemSumCache.replaceSubrange(group * dimension..<(group + 1) * dimension, with: itemGroupSum(group))
        itemSumStale[group] = false
    }

    /// Counts the wanted item, remembers the pair and moves the item to the newest place of the
    /// user's history.
    private mutating func recordWanted(user: Int, item: Int) {
        wantedCounts[item] += 1
        updateSamplers(item)
        if wanted.insert(user: user, item: item) { newPairs.append((Int32(user), Int32(item))) }
        let length = settings.historyLength
        guard length > 0 else { return }
        let start = user * length
        var count = Int(recentCounts[user])
        if let found = (start..<start + count).first(where: { recentItems[$0] == Int32(item) }) {
            for position in found..<start + count - 1 { recentItems[position] = recentItems[position + 1] }
            count -= 1
        } else if count == length {
            for position in start..<start + count - 1 { recentItems[position] = recentItems[position + 1] }
            count -= 1
        }
        recentItems[start + count] = Int32(item)
        recentCounts[user] = UInt32(count + 1)
    }

    /// Recomputes xᵤ from pᵤ and the history, and moves the group's sum by its change.
    private mutating func refreshUserVector(_ user: Int) {
        let dimension = self.dimension
        let history = Int(recentCounts[user])
        let scale = history > 0 ? powf(Float(history), -settings.historyExponent) : 0
        let ring = user * settings.historyLength
        let group = Int(userGroups[user])
        if refreshed.count < dimension { refreshed = [Float](repeating: 0, count: dimension) }
        refreshed.withUnsafeMutableBufferPointer { fresh in
            let value = fresh.baseAddress!
            users.values.withUnsafeBufferPointer { rows in value.update(from: rows.baseAddress! + user * dimension, count: dimension) }
            contexts.values.withUnsafeBufferPointer { contexts in
                for position in 0..<history {
                    VectorArithmetic.add(scale, contexts.baseAddress! + Int(recentItems[ring + position]) * dimension, to: value, dimension)
                }
            }
            userVectors.withUnsafeMutableBufferPointer { vectors in
                userGroupSums.withUnsafeMutableBufferPointer { sums in
                    let vector = vectors.baseAddress! + user * dimension
                    let sum = sums.baseAddress! + group * dimension
                    for offset in 0..<dimension {
                        sum[offset] += Double(value[offset]) - Double(vector[offset])
                        vector[offset] = value[offset]
                    }
                }
            }
        }
    }

    /// Forgets which rows and pairs changed (after they were written).
    public mutating func clearChanges() {
        changedUsers.removeAll()
        changedItems.removeAll()
        newPairs.removeAll(keepingCapacity: true)
    }

    // MARK: scoring

    /// bᵢ + ⟨xᵤ, qᵢ⟩ for every item: one BLAS matrix-vector product.
    public func score(user: Int, into scores: UnsafeMutableBufferPointer<Float>) {
        precondition(scores.count >= itemCount, "\(scores.count) scores for \(itemCount) items")
        guard itemCount > 0 else { return }
        _ = scores.update(fromContentsOf: biases)
        items.values.withUnsafeBufferPointer { matrix in
            userVectors.withUnsafeBufferPointer { vectors in
                ItemScoring.score(
                    itemRows: matrix.baseAddress!, itemCount: itemCount, dimension: dimension,
                    query: vectors.baseAddress! + user * dimension, into: scores.baseAddress!, accumulating: true)
            }
        }
    }

    // MARK: restoring stored state

    /// A user as stored: its free row and accumulator, its vector xᵤ as last refreshed (not
    /// recomputed: the context rows have moved on since), its group and its history (oldest
    /// first). Users must be restored in index order, after every item.
    public mutating func restoreUser(
        row: some Collection<Float>, accumulator: Float, vector: some Collection<Float>, group: Int?, history: [Int32]
    ) {
        precondition(vector.count == dimension, "a vector of \(vector.count) values at dimension \(dimension)")
        users.append(row, accumulator: accumulator)
        let group = group ?? unknownUserGroup
        userVectors.append(contentsOf: vector)
        userGroups.append(Int32(group))
        addToGroup(&userGroupSums, &userGroupCounts, group, vector, sign: 1)
        wanted.addUser()
        let kept = history.suffix(settings.historyLength)
        recentCounts.append(UInt32(kept.count))
        recentItems.append(contentsOf: kept)
        recentItems.append(contentsOf: repeatElement(0, count: settings.historyLength - kept.count))
    }

    /// An item as stored; items must be restored in index order.
    public mutating func restoreItem(
        row: some Collection<Float>, accumulator: Float, context: some Collection<Float>, contextAccumulator: Float, bias: Float,
        group: Int?, wantedCount: Int64, active: Bool
    ) {
        let index = items.append(row, accumulator: accumulator)
        if settings.historyLength > 0 { contexts.append(context, accumulator: contextAccumulator) }
        biases.append(bias)
        let group = group ?? unknownItemGroup
        itemGroups.append(Int32(group))
        wantedCounts.append(wantedCount)
        self.active.append(active)
        popularSampler.ensureItem(index)
        updateSamplers(index)
        addToGroup(&itemSumCache, &itemGroupCounts, group, row, sign: 1)
    }

    /// Replaces the user groups' sums with stored ones, so that a restored model continues bit
    /// for bit (sums kept by adding changes differ in their last bits from sums computed afresh).
    public mutating func restoreUserGroupSums(_ sums: [Double]) {
        precondition(sums.count == userGroupSums.count, "group sums of the wrong size")
        userGroupSums = sums
    }

    public mutating func restoreWanted(user: Int, item: Int) {
        wanted.insert(user: user, item: item)
    }

    // MARK: arithmetic

    static func sigmoid(_ x: Float) -> Float {
        x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x))
    }

    /// log(1 + eˣ) without overflow.
    static func softplus(_ x: Float) -> Float {
        max(x, 0) + log1pf(expf(-abs(x)))
    }
}

/// Indices changed since the last write, in the order first changed: a flag per index for the
/// membership test and a list to write from, so marking one costs no hashing.
public struct ChangedIndices: Sequence, Sendable {
    private var flags: [Bool] = []
    private var list: [Int] = []

    public init() {}

    public mutating func insert(_ index: Int) {
        if index >= flags.count { flags += repeatElement(false, count: Swift.max(index + 1 - flags.count, flags.count)) }
        if !flags[index] {
            flags[index] = true
            list.append(index)
        }
    }

    public mutating func removeAll() {
        for index in list { flags[index] = false }
        list.removeAll(keepingCapacity: true)
    }

    public func makeIterator() -> IndexingIterator<[Int]> { list.makeIterator() }
}
