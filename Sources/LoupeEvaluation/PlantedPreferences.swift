import Foundation
import LoupeEvents
import LoupeStore

/// How well a state store recovers the preferences planted in a synthetic world
/// (`loupe generate --truth`): for each user, the area under the ROC curve of their three
/// planted-best styles against the other seventeen, ranked by the learned scores (a style's
/// score: the mean ⟨user, item⟩ over its items), next to the same measure for a ranking by
/// popularity (interactions per style), which is the same for every user.
public struct PlantedPreferences: Sendable {
    public struct Result: Sendable {
        /// Users in both the truth and the store.
        public var users: Int
        /// Mean AUC of the learned ranking (0.5 = chance, 1 = perfect).
        public var learnedAUC: Double
        /// Mean AUC of the popularity ranking.
        public var popularityAUC: Double
    }

    /// User id → indices of the best styles (in `FrameStyle.allCases` order).
    public let bestStyles: [String: Set<Int>]

    /// Reads a truth file's user lines.
    public init(truthFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EvaluationError("cannot read the truth file \(path)")
        }
        let styleIndex = Dictionary(uniqueKeysWithValues: FrameStyle.allCases.enumerated().map { ($1.rawValue, $0) })
        var best: [String: Set<Int>] = [:]
        for (number, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() {
            guard case .object(let object) = try JSONParser.parse(Array(line)) else {
                throw EvaluationError("\(path):\(number + 1) is not a JSON object")
            }
            guard case .string("user")? = object["kind"] else { continue }
            guard case .string(let user)? = object["user_id"], case .array(let styles)? = object["best_styles"] else {
                throw EvaluationError("\(path):\(number + 1): a user line needs user_id and best_styles")
            }
            best[user] = Set(styles.compactMap { if case .string(let name) = $0 { styleIndex[name] } else { nil } })
        }
        bestStyles = best
    }

    public func evaluate(_ store: StateStore) throws -> Result {
        let styleCount = FrameStyle.allCases.count
        return try store.read { snapshot in
            let items = try snapshot.itemEmbeddingMatrix()
            var itemStyles: [Int?] = []
            var popularity = [Double](repeating: 0, count: styleCount)
            for id in items.ids {
                let record = try snapshot.item(id)
                itemStyles.append(record?.styleIndex)
                if let style = record?.styleIndex { popularity[style] += Double(record?.interactionCount ?? 0) }
            }
            var users = 0
            var learnedTotal = 0.0
            var popularityTotal = 0.0
            for (user, best) in bestStyles.sorted(by: { $0.key < $1.key }) where !best.isEmpty {
                guard let vector = try snapshot.userEmbedding(user) else { continue }
                var sums = [Double](repeating: 0, count: styleCount)
                var counts = [Int](repeating: 0, count: styleCount)
                for index in 0..<items.rowCount {
                    guard let style = itemStyles[index] else { continue }
                    sums[style] += Double(zip(vector, items.row(index)).reduce(Float(0)) { $0 + $1.0 * $1.1 })
                    counts[style] += 1
                }
                let learned = (0..<styleCount).map { counts[$0] > 0 ? sums[$0] / Double(counts[$0]) : -.infinity }
                learnedTotal += Self.auc(scores: learned, positives: best)
                popularityTotal += Self.auc(scores: popularity, positives: best)
                users += 1
            }
            guard users > 0 else { throw EvaluationError("no user of the truth file has an embedding in the store") }
            return Result(users: users, learnedAUC: learnedTotal / Double(users), popularityAUC: popularityTotal / Double(users))
        }
    }

    /// The fraction of (positive, negative) pairs that `scores` order correctly; ties count half.
    static func auc(scores: [Double], positives: Set<Int>) -> Double {
        var correct = 0.0
        var pairs = 0.0
        for positive in positives {
            for negative in scores.indices where !positives.contains(negative) {
                pairs += 1
                if scores[positive] > scores[negative] { correct += 1 } else if scores[positive] == scores[negative] { correct += 0.5 }
            }
        }
        return pairs > 0 ? correct / pairs : 0.5
    }
}

public struct EvaluationError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
