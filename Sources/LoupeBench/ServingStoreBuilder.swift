import LoupeRandomness
import Foundation
import LoupeEvents
import LoupeStore
import LoupeBytes

/// A state store of the seed's size for `loupe bench serve`, written directly with store
/// transactions (not learned from a log, which would take far longer): seeded random rows and
/// records shaped like the learner's.
///
/// Items `item-000000`…: a row of N(0, 1/d) values, a style (row mod 20), a price 30–330 and an
/// interaction count (a third have none). Users `user-0000000`…: a row, a record (version 1–50,
/// a face shape for six in seven), a history of 8 recent items (one in ten has a dislike among
/// them) and, for one in ten, a purchase. The face-shape sums of `group_sums` are those of
/// the users written.
public enum ServingStoreBuilder {
    public struct Summary: Sendable {
        public var items: Int
        public var users: Int
        public var dimension: Int
        public var seconds: Double
        public var fileBytes: Int
    }

    public static func itemId(_ index: Int) -> String { "item-" + padded(index, 6) }
    public static func userId(_ index: Int) -> String { "user-" + padded(index, 7) }

    static func padded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// Writes the store into `directory` (which must not hold one yet), users in transactions
    /// of 50,000; `progress` gets the users written so far.
    public static func build(
        directory: String, items: Int, users: Int, dimension: Int, seed: UInt64 = 42, progress: (Int) -> Void = { _ in }
    ) throws -> (StateStore, Summary) {
        let start = ContinuousClock.now
        // Large enough for 1,000,000 users at d = 128 and a default run of the benchmark's writer
        // (the file ends near 2 GB while snapshots move; a snapshot that stood still would let
        // every 30–45 MB commit add to it): the writer must not grow the map
        // (`ServeBenchmark.checkMapHeadroom`). The map is address space; the file grows only
        // with the data.
        let store = try StateStore(directory: directory, model: .onlineLearner, initialMapSize: 32 << 30)
        var random = SplitMix64(seed: seed)
        let scale = 1 / Float(dimension).squareRoot()
        var row = [Float](repeating: 0, count: dimension)
        try store.write { transaction in
            try transaction.setDimension(dimension)
            for index in 0..<items {
                random.fillNormal(&row, scale: scale)
                let id = itemId(index)
                try transaction.putItemEmbedding(id, row)
                let interactions = random.next() % 3 == 0 ? 0 : random.next() % 5_000
                try transaction.putItem(
                    id,
                    ItemRecord(
                        version: 1 + interactions, lastEventTime: 1_760_000_000_000, styleIndex: index % 20,
                        price: 30 + Double(random.next() % 30_000) / 100, currency: "EUR", interactionCount: interactions))
            }
        }
        let faceShapes = UserRecord.faceShapes.count
        var sums = [Double](repeating: 0, count: (faceShapes + 1) * dimension)
        var members = [Int64](repeating: 0, count: faceShapes + 1)
        let blockSize = 50_000
        for blockStart in stride(from: 0, to: users, by: blockSize) {
            try store.write { transaction in
                for index in blockStart..<min(blockStart + blockSize, users) {
                    random.fillNormal(&row, scale: scale)
                    let id = userId(index)
                    try transaction.putUserEmbedding(id, row)
                    let face = random.next() % 7
                    let group = face == 6 ? faceShapes : Int(face)
                    members[group] += 1
                    for offset in 0..<dimension { sums[group * dimension + offset] += Double(row[offset]) }
                    try transaction.putUser(
                        id,
                        UserRecord(
                            version: 1 + random.next() % 50, lastEventTime: 1_760_000_000_000,
                            faceShapeIndex: face == 6 ? nil : Int(face)))
                    let dislikes = random.next() % 10 == 0
                    let entries = (0..<8).map { position in
                        let negative = dislikes && position == 7
                        return HistoryEntry(
                            itemId: itemId(Int(random.next() % UInt64(items))), kind: negative ? .dislike : .click,
                            weight: negative ? -1 : 1, time: 1_760_000_000_000 + Int64(position))
                    }
                    try transaction.putHistory(id, UserHistory(entries: entries))
                    if random.next() % 10 == 0 {
                        try transaction.putPurchase(user: id, item: itemId(Int(random.next() % UInt64(items))), time: 1_760_000_000_000)
                    }
                }
            }
            progress(min(blockStart + blockSize, users))
        }
        try store.write { transaction in
            for group in 0...faceShapes {
                try transaction.putGroupSums(
                    .faceShape(group), members: members[group], sums: sums[group * dimension..<(group + 1) * dimension])
            }
            for partition in 0..<12 {
                try transaction.setPosition(StorePosition(topic: Topic.interactions.rawValue, partition: Int32(partition), offset: Int64(users)))
            }
        }
        let elapsed = start.duration(to: .now)
        let fileBytes = (try? store.fileBytes()) ?? 0
        return (
            store,
            Summary(
                items: items, users: users, dimension: dimension, seconds: elapsed.seconds, fileBytes: fileBytes)
        )
    }
}

extension SplitMix64 {
    /// Normal values with standard deviation `scale` (the one normal sampler, `normal()`).
    mutating func fillNormal(_ values: inout [Float], scale: Float) {
        for index in values.indices { values[index] = Float(normal()) * scale }
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
