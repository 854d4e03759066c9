import LoupeConcurrency
import LoupeEvents

/// Batch inference (`loupe recommend`): the top k for many users from one snapshot, as JSON
/// lines, in input order.
///
/// Users go through the recommender a chunk at a time, so memory stays bounded however many
/// users there are; each chunk's lines are encoded on all cores and handed to the caller in order.
public struct BatchInference: Sendable {
    /// How each chunk is answered.
    public enum Strategy: String, Sendable, CaseIterable {
        /// `Recommender.recommend(batch:)`: one `sgemm` per block of users, the rest in parallel.
        case batch
        /// `Recommender.recommend(eachOf:)`: every user through the single-request path, in parallel.
        case single
    }

    let recommender: Recommender
    public var strategy: Strategy
    /// Users per chunk.
    public var chunkSize: Int

    public init(recommender: Recommender, strategy: Strategy = .single, chunkSize: Int = 4_096) {
        self.recommender = recommender
        self.strategy = strategy
        self.chunkSize = max(1, chunkSize)
    }

    /// Answers `userIds` with `k` items each. `write` receives the lines of each chunk in input
    /// order (every line ends in a newline); `progress` the number of users done so far.
    public func run(
        userIds: [String], k: Int, write: ([UInt8]) throws -> Void, progress: (Int) -> Void = { _ in }
    ) throws {
        var done = 0
        for start in stride(from: 0, to: userIds.count, by: chunkSize) {
            let requests = userIds[start..<min(start + chunkSize, userIds.count)].map {
                RecommendationRequest(userId: $0, k: k)
            }
            let lists =
                switch strategy {
                case .batch: try recommender.recommend(batch: requests)
                case .single: try recommender.recommend(eachOf: requests)
                }
            let lines = parallelMap(count: lists.count, chunkSize: 256) { Self.line(lists[$0]) }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(lines.reduce(0) { $0 + $1.count })
            for line in lines { bytes.append(contentsOf: line) }
            try write(bytes)
            done += lists.count
            progress(done)
        }
    }

    /// One list as a JSON line:
    /// `{"user_id":…,"items":[{"item_id":…,"score":…,"reason":…}],"model_id":…,"model_version":…}` and a newline.
    /// Scores are the shortest decimal that reads back as the same Float32.
    public static func line(_ list: RecommendationList) -> [UInt8] {
        var writer = JSONWriter(capacity: 64 + 80 * list.items.count)
        writer.beginObject()
        writer.key("user_id")
        writer.string(list.userId)
        writer.key("items")
        writer.beginArray()
        for item in list.items {
            writer.beginObject()
            writer.key("item_id")
            writer.string(item.itemId)
            writer.key("score")
            writer.double(Double(item.score.description) ?? Double(item.score))
            writer.key("reason")
            writer.string(item.reason.rawValue)
            writer.endObject()
        }
        writer.endArray()
        writer.key("model_id")
        writer.string(list.model.id)
        writer.key("model_version")
        writer.string(list.model.version)
        writer.endObject()
        var bytes = writer.bytes
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }
}
