import CBLAS
import Glibc

/// Settings of the online model; the learner reads them from configuration.
public struct OnlineModelSettings: Sendable, Equatable {
    public var dimension = 64
    public var learningRate: Float = 0.05
    /// L2 penalty (λ/2·‖row‖²) on every row an example touches.
    public var l2: Float = 1e-4
    /// Negatives sampled per positive example.
    public var negativeSamples = 5
    public var epsilon: Float = 1e-8

    public init() {}
}

/// One observation for the online model: a user, an item, whether the user wanted it
/// (`label` 1) or not (0), how much it counts, and the sampled negatives to contrast a positive
/// with (items the user is taken not to want).
public struct TrainingExample: Sendable, Equatable {
    public var user: Int
    public var item: Int
    public var label: Float
    public var weight: Float
    public var negatives: [Int]

    public init(user: Int, item: Int, label: Float, weight: Float, negatives: [Int] = []) {
        self.user = user
        self.item = item
        self.label = label
        self.weight = weight
        self.negatives = negatives
    }
}

/// Matrix factorisation trained one example at a time: score(u, i) = ⟨uᵤ, vᵢ⟩, logistic loss
/// on the example and on its negatives (label 0), L2 on the rows touched, and per-row Adagrad
/// (one accumulator per row: the mean squared gradient), as docs/learning.md derives.
///
/// Gradients are taken at the values before the step and applied to every touched row at
/// once, so an example's update does not depend on the order of its negatives.
public struct OnlineMatrixFactorization: Sendable {
    public let settings: OnlineModelSettings
    public var users: EmbeddingTable
    public var items: EmbeddingTable
    /// Reused between examples, so that learning allocates nothing: the distinct items of the
    /// example, and the user's row ‖ its gradient ‖ one gradient per distinct item.
    private var slots: [Int] = []
    private var scratch: [Float] = []

    public init(settings: OnlineModelSettings) {
        self.settings = settings
        users = EmbeddingTable(dimension: settings.dimension)
        items = EmbeddingTable(dimension: settings.dimension)
    }

    /// Applies one example; returns its loss before the step.
    @discardableResult
    public mutating func learn(_ example: TrainingExample) -> Float {
        step(example, measuringLoss: true)
    }

    /// Applies one example without computing its loss: the same update as `learn`, without its
    /// logarithms and norms (the learner's hot path).
    public mutating func train(_ example: TrainingExample) {
        step(example, measuringLoss: false)
    }

    @inline(__always)
    @discardableResult
    private mutating func step(_ example: TrainingExample, measuringLoss: Bool) -> Float {
        let dimension = settings.dimension
        let l2 = settings.l2
        // The distinct items touched, the positive first; a negative drawn twice counts twice.
        slots.removeAll(keepingCapacity: true)
        slots.append(example.item)
        for negative in example.negatives where negative != example.item && !slots.contains(negative) { slots.append(negative) }
        let needed = (2 + slots.count) * dimension
        if scratch.count < needed { scratch = [Float](repeating: 0, count: needed) }
        var loss = Float(0)
        let userRow = example.user * dimension
        scratch.withUnsafeMutableBufferPointer { scratch in
            let user = scratch.baseAddress!
            let userGradient = user + dimension
            let itemGradients = userGradient + dimension
            users.values.withUnsafeBufferPointer { userValues in
                for offset in 0..<dimension { user[offset] = userValues[userRow + offset] }
            }
            for offset in 0..<dimension { userGradient[offset] = l2 * user[offset] }
            for offset in 0..<(slots.count * dimension) { itemGradients[offset] = 0 }
            if measuringLoss {
                var userNorm = Float(0)
                for offset in 0..<dimension { userNorm += user[offset] * user[offset] }
                loss += 0.5 * l2 * userNorm
            }
            items.values.withUnsafeBufferPointer { itemValues in
                func learnTarget(_ item: Int, _ label: Float) {
                    let vector = itemValues.baseAddress! + item * dimension
                    let gradient = itemGradients + slots.firstIndex(of: item)! * dimension
                    var score = Float(0)
                    for offset in 0..<dimension { score += user[offset] * vector[offset] }
                    if measuringLoss {
                        var norm = Float(0)
                        for offset in 0..<dimension { norm += vector[offset] * vector[offset] }
                        loss += example.weight * Self.logisticLoss(score: score, label: label) + 0.5 * l2 * norm
                    }
                    let scale = example.weight * (Self.sigmoid(score) - label)
                    for offset in 0..<dimension {
                        gradient[offset] += scale * user[offset] + l2 * vector[offset]
                        userGradient[offset] += scale * vector[offset]
                    }
                }
                learnTarget(example.item, example.label)
                for negative in example.negatives where negative != example.item { learnTarget(negative, 0) }
            }
            Self.adagradStep(&users, example.user, UnsafeBufferPointer(start: userGradient, count: dimension), settings)
            for (slot, item) in slots.enumerated() {
                Self.adagradStep(&items, item, UnsafeBufferPointer(start: itemGradients + slot * dimension, count: dimension), settings)
            }
        }
        return loss
    }

    /// Scores of `user` for every item, in item index order (one BLAS matrix-vector product).
    public func scoreAllItems(user: Int) -> [Float] {
        let dimension = settings.dimension
        let count = items.count
        guard count > 0 else { return [] }
        var scores = [Float](repeating: 0, count: count)
        let userRow = Array(users.row(user))
        items.values.withUnsafeBufferPointer { matrix in
            userRow.withUnsafeBufferPointer { vector in
                scores.withUnsafeMutableBufferPointer { output in
                    cblas_sgemv(
                        CblasRowMajor, CblasNoTrans, Int32(count), Int32(dimension), 1, matrix.baseAddress, Int32(dimension),
                        vector.baseAddress, 1, 0, output.baseAddress, 1)
                }
            }
        }
        return scores
    }

    /// Scores of `user` for the given items.
    public func score(user: Int, items indices: [Int]) -> [Float] {
        let userRow = users.row(user)
        return indices.map { item in zip(userRow, items.row(item)).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
    }

    static func sigmoid(_ x: Float) -> Float {
        x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x))
    }

    /// Binary cross-entropy of a logit, computed without overflow: max(s, 0) − s·y + log(1 + e^−|s|).
    static func logisticLoss(score: Float, label: Float) -> Float {
        max(score, 0) - score * label + log1pf(expf(-abs(score)))
    }

    static func adagradStep(
        _ table: inout EmbeddingTable, _ index: Int, _ gradient: UnsafeBufferPointer<Float>, _ settings: OnlineModelSettings
    ) {
        table.withRow(index) { row, accumulator in
            var squares = Float(0)
            for value in gradient { squares += value * value }
            accumulator += squares / Float(gradient.count)
            let step = settings.learningRate / (accumulator.squareRoot() + settings.epsilon)
            for offset in 0..<row.count { row[offset] -= step * gradient[offset] }
        }
    }
}
