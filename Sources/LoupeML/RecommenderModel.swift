/// One thing a user did with an item, as a model learns it: who, what, how much it counts and
/// which way (`weight` > 0: wanted, < 0: not wanted), when (event time, epoch ms), and the seed
/// of any random draw the update makes (the learner derives it from the event id, so that a
/// replay draws the same).
public struct Observation: Sendable, Equatable {
    public var user: Int
    public var item: Int
    public var weight: Float
    public var time: Int64
    public var seed: UInt64

    public init(user: Int, item: Int, weight: Float, time: Int64, seed: UInt64) {
        self.user = user
        self.item = item
        self.weight = weight
        self.time = time
        self.seed = seed
    }
}

/// What every recommender in Loupe is: it learns one observation at a time and scores the items
/// for a user, all at once. River's `learn_one` / `predict_one` is the model for its size.
///
/// Users and items are dense indices that the caller assigns in order (0, 1, 2, …; the learner
/// maps ids to them) and announces with `addUser` / `addItem` before their first observation.
/// Implementations are deterministic: the same calls give the same scores, bit for bit.
public protocol RecommenderModel: Sendable {
    /// A short name for tables and logs (`popularity`, `online-bpr`).
    var name: String { get }
    var userCount: Int { get }
    var itemCount: Int { get }

    /// Makes room for the next user; returns its index (the previous `userCount`).
    @discardableResult mutating func addUser() -> Int
    /// Makes room for the next item; returns its index (the previous `itemCount`).
    @discardableResult mutating func addItem() -> Int
    /// Whether an item may be recommended and learned against (false once deleted).
    mutating func setItemActive(_ item: Int, _ active: Bool)

    /// Learns one observation (`learn_one`).
    mutating func learn(_ observation: Observation)

    /// Writes the score of every item for `user` into `scores` (`itemCount` values, by item
    /// index); higher is better. Scores compare across items for one user, not across users.
    func score(user: Int, into scores: UnsafeMutableBufferPointer<Float>)
}

extension RecommenderModel {
    /// The scores of every item for `user`, as an array.
    public func scores(user: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: itemCount) { buffer, initialized in
            score(user: user, into: buffer)
            initialized = itemCount
        }
    }
}
