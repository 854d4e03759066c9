import Foundation
import LoupeEvents
import LoupeLog
import Testing
import Yams

@Suite struct TopicDefinitionsTests {
    static let topicsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("topics")

    @Test func filesEqualTheBuiltInTable() throws {
        #expect(try TopicDefinitions.load(directory: Self.topicsDirectory.path) == TopicDefinitions.builtIn)
    }

    @Test func everyTopicHasADefinition() {
        #expect(TopicDefinitions.builtIn.map(\.name).sorted() == Topic.allCases.map(\.rawValue).sorted())
    }

    @Test func sourceOfTruthTopicsKeepRecordsForever() throws {
        let sourcesOfTruth: [Topic] = [
            .interactions, .feedback, .sessions, .faceAnalysis, .catalog, .modelEvents, .learnerBatches,
        ]
        // Impressions are what was served, not a source of any role's state: they keep 30 days.
        for spec in TopicDefinitions.builtIn {
            let topic = try #require(Topic(rawValue: spec.name))
            if sourcesOfTruth.contains(topic) {
                #expect(spec.retentionMilliseconds == nil, "\(spec.name) must keep its records")
            } else {
                #expect(spec.retentionMilliseconds == Int64(30 * 24 * 3_600_000), "\(spec.name)")
            }
            #expect(spec.isCompacted == (topic == .catalog), "\(spec.name)")
            #expect(spec.replicationFactor == 1)
        }
    }

    /// The `key` of each definition names the event field `Event.key` returns, checked on the
    /// valid examples of topics/examples.
    @Test func keyNamesTheFieldEventsAreKeyedBy() throws {
        let keys = Dictionary(uniqueKeysWithValues: TopicDefinitions.builtIn.map { ($0.name, $0.key) })
        let examples = Self.topicsDirectory.appendingPathComponent("examples")
        var checked: Set<String> = []
        for family in try FileManager.default.contentsOfDirectory(atPath: examples.path) {
            let folder = examples.appendingPathComponent(family).appendingPathComponent("valid")
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".json") {
                let bytes = [UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))
                let event = try EventCodec.decode(bytes)
                guard case .object(let object) = try JSONParser.parse(bytes) else { continue }
                let field = try #require(keys[event.topic.rawValue])
                let value: String
                switch object[field] {
                case .string(let text): value = text
                default: value = "unknown"
                }
                #expect(event.key == value, "\(family)/\(name)")
                checked.insert(event.topic.rawValue)
            }
        }
        #expect(checked == Set(keys.keys))
    }

    @Test func stylesFileListsTheVocabulariesInIndexOrder() throws {
        let text = try String(contentsOf: Self.topicsDirectory.appendingPathComponent("styles.yaml"), encoding: .utf8)
        let document = try #require(try Yams.load(yaml: text) as? [String: Any])
        let styles = try #require(document["frame_styles"] as? [[String: String]])
        let shapes = try #require(document["face_shapes"] as? [[String: String]])
        #expect(styles.map { $0["name"] } == FrameStyle.allCases.map(\.rawValue))
        #expect(shapes.map { $0["name"] } == FaceShape.allCases.map(\.rawValue))
        for entry in styles + shapes {
            #expect(Set(entry.keys) == ["name", "description"])
            #expect(entry["description"]?.isEmpty == false)
        }
    }

    // MARK: errors

    private static let valid = """
        name: clicks
        partitions: 2
        replication_factor: 1
        key: user_id
        description: Test topic.
        config:
          retention.ms: -1
          cleanup.policy: delete
        """

    @Test func readsUnquotedSettingsAsWritten() throws {
        let specs = try withDefinitions(["clicks.yaml": Self.valid, "README.md": "not YAML: [", "styles.yaml": "frame_styles: ["]) {
            directory in
            try TopicDefinitions.load(directory: directory)
        }
        #expect(
            specs == [TopicSpec(name: "clicks", partitions: 2, key: "user_id", config: ["retention.ms": "-1", "cleanup.policy": "delete"])])
    }

    @Test(arguments: [
        ("name: clicks\npartitions: [", nil as String?, "not valid YAML"),
        ("- name: clicks", nil, "expected a mapping"),
        (valid + "\nowner: team", "owner", "unknown key"),
        (valid.replacingOccurrences(of: "key: user_id\n", with: ""), "key", "missing"),
        (valid + "\npartitions: 3", "partitions", "appears twice"),
        (valid.replacingOccurrences(of: "partitions: 2", with: "partitions: \"2\""), "partitions", "whole number"),
        (valid.replacingOccurrences(of: "partitions: 2", with: "partitions: 0"), "partitions", "whole number"),
        (valid.replacingOccurrences(of: "replication_factor: 1", with: "replication_factor: 1.5"), "replication_factor", "whole number"),
        (valid.replacingOccurrences(of: "name: clicks", with: "name: views"), "name", "does not match the file name"),
        (valid.replacingOccurrences(of: "key: user_id", with: "key:"), "key", "non-empty string"),
        (valid.replacingOccurrences(of: "description: Test topic.", with: "description: [a]"), "description", "non-empty string"),
        (valid.replacingOccurrences(of: "retention.ms: -1", with: "retention.ms:"), "config.retention.ms", "expected a value"),
        (valid.replacingOccurrences(of: "retention.ms: -1", with: "retention.ms: [1]"), "config.retention.ms", "expected a value"),
        (valid.replacingOccurrences(of: "cleanup.policy: delete", with: "retention.ms: 5"), "config.retention.ms", "appears twice"),
        (valid.replacingOccurrences(of: "config:\n  retention.ms: -1\n  cleanup.policy: delete", with: "config: -1"), "config", "mapping"),
    ])
    func badDefinitionNamesTheFileAndKey(yaml: String, key: String?, message: String) throws {
        let error = try withDefinitions(["clicks.yaml": yaml]) { directory in
            #expect(throws: TopicDefinitions.LoadError.self) { try TopicDefinitions.load(directory: directory) }
        }
        #expect(error?.file.hasSuffix("/clicks.yaml") == true)
        #expect(error?.key == key)
        #expect(error?.message.contains(message) == true, "\(error?.description ?? "no error")")
        #expect(error?.description.contains("clicks.yaml") == true)
    }

    @Test func aDirectoryWithoutDefinitionsIsAnError() throws {
        let error = try withDefinitions(["styles.yaml": "frame_styles: []"]) { directory in
            #expect(throws: TopicDefinitions.LoadError.self) { try TopicDefinitions.load(directory: directory) }
        }
        #expect(error?.message.contains("no topic definitions") == true)
        #expect(throws: TopicDefinitions.LoadError.self) { try TopicDefinitions.load(directory: "/nonexistent/loupe-topics") }
    }

    private func withDefinitions<T>(_ files: [String: String], _ body: (String) throws -> T) throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-topics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return try body(directory.path)
    }
}
