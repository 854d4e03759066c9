/// Hyperparameters of `OnlineRankingModel`; the learner reads them from the configuration's
/// `learner:` section. The defaults were chosen on validation splits of MovieLens-100K and the
/// generated world (docs/learning.md, docs/benchmarks.md), never on test data.
public struct OnlineRankingSettings: Sendable, Equatable {
    public var dimension = 64
    /// Adagrad step size of the factor rows (users, items, history contexts).
    public var learningRate: Float = 0.1
    /// Plain SGD step size of the item biases.
    public var biasLearningRate: Float = 0.01
    /// L2 penalty (λ/2·‖row‖²) on every factor row an update touches.
    public var l2: Float = 0.1
    /// Negatives drawn per wanted observation.
    public var negativeSamples = 10
    /// Share of negatives drawn uniformly from the items wanted at least once; the rest are drawn
    /// in proportion to popularity^0.75.
    public var uniformNegativeShare = 1.0
    /// Draws per negative before it is given up (a draw of the positive, or of an item the user
    /// wanted, is drawn again).
    public var negativeAttempts = 3
    /// The user's last wanted items that enter their representation (0: a free vector only).
    public var historyLength = 20
    /// The history's context rows are summed and scaled by n^−exponent (n items).
    public var historyExponent: Float = 0.5
    /// Scale of the id-derived noise that new rows start with (around their group's mean).
    public var initialScale: Float = 0.01
    public var epsilon: Float = 1e-8

    public init() {}
}
