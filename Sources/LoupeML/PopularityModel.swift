import Glibc

/// Popularity: an item's score is how often it was wanted — each observation with a positive
/// weight counts once — the same list for everyone. The baseline of every evaluation and the
/// fallback of serving.
///
/// With a half-life, a count fades with event time: an observation `h` ms older than another
/// counts half as much, so the list follows what is wanted now. The values are kept relative
/// to a reference time (an observation at time t adds 2^((t − reference)/h)) so that one
/// observation changes one value; when the exponent grows past 2^60 every value is rescaled to
/// a later reference, which changes no order. Only event times enter, never the wall clock.
public struct PopularityModel: RecommenderModel {
    public let halfLifeMilliseconds: Int64?
    public private(set) var userCount = 0
    /// Per item: the (faded) count, relative to `reference`.
    public private(set) var values: [Double] = []
    /// The time the faded values are relative to (nil before the first observation, and
    /// without a half-life).
    public private(set) var reference: Int64?

    /// - Parameter halfLifeMilliseconds: nil (or 0) for plain counts.
    public init(halfLifeMilliseconds: Int64? = nil) {
        self.halfLifeMilliseconds = halfLifeMilliseconds.flatMap { $0 > 0 ? $0 : nil }
    }

    public var name: String { "popularity" }
    public var itemCount: Int { values.count }

    @discardableResult public mutating func addUser() -> Int {
        userCount += 1
        return userCount - 1
    }

    @discardableResult public mutating func addItem() -> Int {
        values.append(0)
        return values.count - 1
    }

    public mutating func setItemActive(_ item: Int, _ active: Bool) {}

    public mutating func learn(_ observation: Observation) {
        guard observation.weight > 0 else { return }
        values[observation.item] += weight(at: observation.time)
    }

    /// What an observation at `time` adds.
    private mutating func weight(at time: Int64) -> Double {
        guard let halfLife = halfLifeMilliseconds else { return 1 }
        guard let start = reference else {
            reference = time
            return 1
        }
        var exponent = Double(time - start) / Double(halfLife)
        if exponent > 60 {
            let scale = exp2(-exponent)
            for item in values.indices { values[item] *= scale }
            reference = time
            exponent = 0
        }
        return exp2(exponent)
    }

    /// Restores stored state: the values by item index and the reference time.
    public mutating func restore(values: [Double], reference: Int64?, users: Int) {
        self.values = values
        self.reference = reference
        userCount = users
    }

    public func score(user: Int, into scores: UnsafeMutableBufferPointer<Float>) {
        precondition(scores.count >= values.count, "\(scores.count) scores for \(values.count) items")
        for item in values.indices { scores[item] = Float(values[item]) }
    }
}
