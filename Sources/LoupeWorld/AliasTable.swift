import LoupeRandomness
/// Draws an index with probability proportional to its weight in constant time (Vose's alias
/// method), for picking which shopper visits next among up to millions.
struct AliasTable {
    private var probability: [Double]
    private var alias: [Int]

    init(weights: [Double]) {
        let count = weights.count
        let total = weights.reduce(0, +)
        var scaled = weights.map { $0 * Double(count) / total }
        probability = Array(repeating: 1, count: count)
        alias = Array(0..<count)
        var small: [Int] = []
        var large: [Int] = []
        for (index, value) in scaled.enumerated() {
            if value < 1 { small.append(index) } else { large.append(index) }
        }
        while let less = small.popLast(), let more = large.last {
            probability[less] = scaled[less]
            alias[less] = more
            scaled[more] -= 1 - scaled[less]
            if scaled[more] < 1 {
                large.removeLast()
                small.append(more)
            }
        }
        // Whatever remains holds probability 1 up to rounding.
    }

    func draw(_ random: inout SeededRandom) -> Int {
        let column = random.index(probability.count)
        return random.uniform() < probability[column] ? column : alias[column]
    }
}
