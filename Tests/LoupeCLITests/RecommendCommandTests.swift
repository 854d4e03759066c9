import Foundation
import LoupeConfig
import LoupeEvents
import LoupeServing
import LoupeStore
import Testing

/// `loupe recommend` as a user runs it: one JSON line per user with the same lists the
/// recommender gives, written whole or not at all, and clear errors.
@Suite struct RecommendCommandTests {
    static let dimension = 6

    /// A small learned-looking store: 40 items, 25 users with rows, records and histories, one
    /// user with a face shape but no row (cold start), the face-shape group sums.
    static func makeStore() throws -> (directory: String, store: StateStore) {
        let directory = NSTemporaryDirectory() + "loupe-recommend-\(UUID().uuidString)/data"
        let store = try StateStore(directory: directory, model: .onlineLearner)
        var seed: UInt64 = 7
        func value() -> Float {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: seed >> 11) % 2_000 - 1_000) / 1_000
        }
        func row() -> [Float] { (0..<dimension).map { _ in value() } }
        try store.write { transaction in
            try transaction.setDimension(dimension)
            for index in 0..<40 {
                let id = "frame-\(index < 10 ? "0" : "")\(index)"
                try transaction.putItemEmbedding(id, row())
                try transaction.putItem(
                    id, ItemRecord(version: 1, styleIndex: index % 20, price: Double(20 + index), interactionCount: UInt64(index % 7)))
            }
            var sum = [Double](repeating: 0, count: dimension)
            for index in 0..<25 {
                let id = "user-\(index < 10 ? "0" : "")\(index)"
                let userRow = row()
                for offset in 0..<dimension { sum[offset] += Double(userRow[offset]) }
                try transaction.putUserEmbedding(id, userRow)
                try transaction.putUser(id, UserRecord(version: UInt64(index + 1), faceShapeIndex: 1))
                try transaction.putHistory(
                    id,
                    UserHistory(entries: [
                        HistoryEntry(itemId: "frame-\(10 + index)", kind: .click, weight: 1, time: 1),
                        HistoryEntry(itemId: "frame-0\(index % 10)", kind: .dislike, weight: -1, time: 2),
                    ]))
            }
            try transaction.putUser("user-cold", UserRecord(version: 1, faceShapeIndex: 1))
            try transaction.putGroupSums(.faceShape(1), members: 25, sums: sum)
            try transaction.setPosition(StorePosition(topic: "interactions", partition: 0, offset: 100))
        }
        return (directory, store)
    }

    struct Line {
        var userId: String
        var items: [(id: String, score: Double, reason: String)]
        var modelId: String
        var modelVersion: String
    }

    static func parse(_ line: String) throws -> Line {
        guard case .object(let object) = try JSONParser.parse(line) else { throw TestSetupError("not an object: \(line)") }
        #expect(object.fields.map(\.key) == ["user_id", "items", "model_id", "model_version"])
        guard case .string(let user)? = object.fields.first(where: { $0.key == "user_id" })?.value,
            case .array(let items)? = object.fields.first(where: { $0.key == "items" })?.value,
            case .string(let modelId)? = object.fields.first(where: { $0.key == "model_id" })?.value,
            case .string(let model)? = object.fields.first(where: { $0.key == "model_version" })?.value
        else { throw TestSetupError("unexpected line: \(line)") }
        let parsed = try items.map { item -> (String, Double, String) in
            guard case .object(let fields) = item, fields.fields.map(\.key) == ["item_id", "score", "reason"],
                case .string(let id) = fields.fields[0].value, case .string(let reason) = fields.fields[2].value
            else { throw TestSetupError("unexpected item in \(line)") }
            switch fields.fields[1].value {
            case .double(let score): return (id, score, reason)
            case .int(let score): return (id, Double(score), reason)
            default: throw TestSetupError("score is not a number in \(line)")
            }
        }
        return Line(userId: user, items: parsed, modelId: modelId, modelVersion: model)
    }

    @Test func allUsersGetTheRecommendersLists() async throws {
        let (directory, store) = try Self.makeStore()
        let out = URL(fileURLWithPath: directory).deletingLastPathComponent().appendingPathComponent("all.jsonl").path
        let run = try await LoupeProcess.run(["recommend", "--all", "--out", out, "--k", "4", "--data", directory, "--chunk-size", "7"])
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("recommend: 26 users, k 4"), "summary line: \(run.stderr)")
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text.hasSuffix("\n"))
        let lines = try text.split(separator: "\n").map { try Self.parse(String($0)) }
        let expectedUsers = (0..<25).map { "user-\($0 < 10 ? "0" : "")\($0)" } + ["user-cold"]
        #expect(lines.map(\.userId) == expectedUsers)
        #expect(lines.allSatisfy { $0.items.count == 4 })
        #expect(lines.allSatisfy { $0.modelId == "online-bpr" && $0.modelVersion == "1" })

        var settings = InferenceSettings()
        settings.cacheMaxMB = 0
        let recommender = try Recommender(store: store, settings: settings)
        for line in [lines[0], lines[13], lines[24], lines[25]] {
            let expected = try recommender.recommend(RecommendationRequest(userId: line.userId, k: 4))
            #expect(line.modelId == expected.model.id && line.modelVersion == expected.model.version)
            #expect(line.items.map(\.id) == expected.items.map(\.itemId), "user \(line.userId)")
            #expect(line.items.map { Float($0.score) } == expected.items.map(\.score), "user \(line.userId)")
            #expect(line.items.map(\.reason) == expected.items.map(\.reason.rawValue), "user \(line.userId)")
        }
        #expect(lines[25].items.allSatisfy { $0.reason != "personalized" }, "the cold-start user gets no personalized items")

        // The batch strategy gives the same lists; scores agree to rounding (sgemm and sgemv
        // sum in different orders).
        let batchOut = out + ".batch"
        try await LoupeProcess.run(["recommend", "--all", "--out", batchOut, "--k", "4", "--data", directory, "--strategy", "batch"])
        let batch = try String(contentsOfFile: batchOut, encoding: .utf8).split(separator: "\n").map { try Self.parse(String($0)) }
        #expect(batch.map(\.userId) == lines.map(\.userId))
        for (single, batched) in zip(lines, batch) {
            #expect(single.items.map(\.id) == batched.items.map(\.id), "user \(single.userId)")
            for (a, b) in zip(single.items, batched.items) { #expect(abs(a.score - b.score) < 1e-5) }
        }
    }

    @Test func usersFromAFileInFileOrder() async throws {
        let (directory, _) = try Self.makeStore()
        let base = URL(fileURLWithPath: directory).deletingLastPathComponent()
        let ids = base.appendingPathComponent("ids.txt").path
        try "user-07\n\n  user-02 \r\nnobody\n".write(toFile: ids, atomically: true, encoding: .utf8)
        let out = base.appendingPathComponent("some.jsonl").path
        try await LoupeProcess.run(["recommend", "--users", ids, "--out", out, "--data", directory])
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map { try Self.parse(String($0)) }
        #expect(lines.map(\.userId) == ["user-07", "user-02", "nobody"])
        #expect(lines.allSatisfy { $0.items.count == InferenceSettings().numRecommendations })
        #expect(lines[2].items.allSatisfy { $0.reason == "popular" }, "an unknown user gets popular items")
    }

    @Test func failuresAreExplainedAndLeaveNoFile() async throws {
        let base = NSTemporaryDirectory() + "loupe-recommend-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        let out = base + "/out.jsonl"

        let noStore = try await LoupeProcess.run(["recommend", "--all", "--out", out, "--data", base + "/none"], expectSuccess: false)
        #expect(noStore.status != 0)
        #expect(noStore.stderr.contains("no state store"), "\(noStore.stderr)")

        let empty = base + "/empty"
        _ = try StateStore(directory: empty, model: .onlineLearner)
        let nothing = try await LoupeProcess.run(["recommend", "--all", "--out", out, "--data", empty], expectSuccess: false)
        #expect(nothing.status != 0)
        #expect(nothing.stderr.contains("nothing to recommend"), "\(nothing.stderr)")

        let (directory, _) = try Self.makeStore()
        let unwritable = try await LoupeProcess.run(
            ["recommend", "--all", "--out", base + "/missing-dir/out.jsonl", "--data", directory], expectSuccess: false)
        #expect(unwritable.status != 0)
        #expect(unwritable.stderr.contains("cannot write"), "\(unwritable.stderr)")

        let both = try await LoupeProcess.run(["recommend", "--all", "--users", "x", "--out", out], expectSuccess: false)
        #expect(both.stderr.contains("exactly one of --all and --users"))
        let tooMany = try await LoupeProcess.run(["recommend", "--all", "--out", out, "--k", "1000", "--data", directory], expectSuccess: false)
        #expect(tooMany.stderr.contains("max_recommendations"))

        #expect(try FileManager.default.contentsOfDirectory(atPath: base).filter { $0.hasSuffix(".jsonl") || $0.hasSuffix(".tmp") }.isEmpty)
    }
}
