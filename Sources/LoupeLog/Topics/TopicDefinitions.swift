import Foundation
import LoupeEvents
import Yams

/// Loupe's topics: partitions, record key, retention and cleanup policy of each.
///
/// `topics/<name>.yaml` are the definitions people read and edit; `builtIn` is the same table
/// compiled in, so that the binary can create its topics wherever it runs. The tests keep the
/// two equal.
public enum TopicDefinitions {
    /// Every topic Loupe uses, sorted by name. Source-of-truth topics keep their records forever
    /// (`retention.ms` -1); derived outputs, dead letters and impressions (which every served
    /// list appends to, and no role folds) are kept 30 days.
    public static let builtIn: [TopicSpec] = [
        TopicSpec(name: Topic.catalog.rawValue, partitions: 1, key: "item_id", config: compacted),
        TopicSpec(name: Topic.deadLetter.rawValue, partitions: 1, key: "source_topic", config: thirtyDays),
        TopicSpec(name: Topic.driftAlerts.rawValue, partitions: 1, key: "detector", config: thirtyDays),
        TopicSpec(name: Topic.evalMetrics.rawValue, partitions: 1, key: "metric", config: thirtyDays),
        TopicSpec(name: Topic.faceAnalysis.rawValue, partitions: 2, key: "user_id", config: forever),
        TopicSpec(name: Topic.feedback.rawValue, partitions: 3, key: "user_id", config: forever),
        TopicSpec(name: Topic.impressions.rawValue, partitions: 3, key: "user_id", config: thirtyDays),
        TopicSpec(name: Topic.interactions.rawValue, partitions: 6, key: "user_id", config: forever),
        TopicSpec(name: Topic.learnerBatches.rawValue, partitions: 1, key: "learner", config: forever),
        TopicSpec(name: Topic.modelEvents.rawValue, partitions: 1, key: "model_id", config: forever),
        TopicSpec(name: Topic.sessions.rawValue, partitions: 3, key: "user_id", config: forever),
    ]

    private static let forever = ["cleanup.policy": "delete", "retention.ms": "-1"]
    private static let compacted = ["cleanup.policy": "compact", "retention.ms": "-1"]
    private static let thirtyDays = ["cleanup.policy": "delete", "retention.ms": "2592000000"]

    /// The file in the topics directory that lists vocabularies rather than defining a topic.
    static let vocabularyFile = "styles.yaml"

    /// Reads every `*.yaml` topic definition in `directory`, sorted by topic name.
    ///
    /// A definition has exactly the keys `name` (which must match the file name), `partitions`,
    /// `replication_factor`, `key`, `description` and `config` (Kafka topic settings, kept as
    /// the text written). Anything else, or anything missing, is an error naming the file and key.
    public static func load(directory: String) throws -> [TopicSpec] {
        let folder = URL(fileURLWithPath: directory, isDirectory: true)
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            throw LoadError(file: folder.path, "cannot list topic definitions: \(error.localizedDescription)")
        }
        var specs: [TopicSpec] = []
        for name in names.sorted() where name.hasSuffix(".yaml") && name != vocabularyFile {
            let path = folder.appendingPathComponent(name).path
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw LoadError(file: path, "cannot read: \(error.localizedDescription)")
            }
            specs.append(try parse(text, file: path))
        }
        if specs.isEmpty {
            throw LoadError(file: folder.path, "holds no topic definitions (<name>.yaml)")
        }
        return specs.sorted { $0.name < $1.name }
    }

    /// Parses one definition; `file` names it in errors and gives the expected topic name.
    static func parse(_ yaml: String, file: String) throws(LoadError) -> TopicSpec {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw LoadError(file: file, "not valid YAML: \(error)")
        }
        guard let mapping = root?.mapping else {
            throw LoadError(file: file, "expected a mapping with the keys \(requiredKeys.joined(separator: ", "))")
        }
        var fields: [String: Node] = [:]
        for (keyNode, value) in mapping {
            let key = keyNode.scalar?.string ?? "\(keyNode)"
            guard requiredKeys.contains(key) else {
                throw LoadError(file: file, key: key, "unknown key; a definition has \(requiredKeys.joined(separator: ", "))")
            }
            guard fields[key] == nil else { throw LoadError(file: file, key: key, "appears twice") }
            fields[key] = value
        }
        for key in requiredKeys where fields[key] == nil {
            throw LoadError(file: file, key: key, "missing")
        }
        let reader = FieldReader(file: file, fields: fields)
        let name = try reader.string("name")
        let expectedName = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        guard name == expectedName else {
            throw LoadError(file: file, key: "name", "\"\(name)\" does not match the file name; name the file \(name).yaml")
        }
        guard name.count <= 249, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            throw LoadError(file: file, key: "name", "\"\(name)\" is not a Kafka topic name (letters, digits, '.', '_', '-'; at most 249)")
        }
        let partitions = try reader.positiveInt("partitions")
        let replicationFactor = try reader.positiveInt("replication_factor")
        let key = try reader.string("key")
        // TopicSpec has no description; it is checked so that every file explains its topic.
        _ = try reader.string("description")
        let config = try reader.config("config")
        return TopicSpec(name: name, partitions: partitions, replicationFactor: replicationFactor, key: key, config: config)
    }

    private static let requiredKeys = ["name", "partitions", "replication_factor", "key", "description", "config"]

    /// Why a topic definition could not be loaded: the file, the key when one is at fault, and what is wrong.
    public struct LoadError: Error, Sendable, Equatable, CustomStringConvertible {
        public var file: String
        public var key: String?
        public var message: String

        init(file: String, key: String? = nil, _ message: String) {
            self.file = file
            self.key = key
            self.message = message
        }

        public var description: String {
            if let key { return "\(file): \(key): \(message)" }
            return "\(file): \(message)"
        }
    }

    /// Typed reads of a definition's fields, each error naming the file and key.
    private struct FieldReader {
        let file: String
        let fields: [String: Node]

        func string(_ key: String) throws(LoadError) -> String {
            guard let scalar = fields[key]?.scalar, fields[key]?.tag == Tag(.str), !scalar.string.isEmpty else {
                throw LoadError(file: file, key: key, "expected a non-empty string, got \(Self.show(fields[key]))")
            }
            return scalar.string
        }

        func positiveInt(_ key: String) throws(LoadError) -> Int {
            guard fields[key]?.tag == Tag(.int), let value = fields[key]?.int, value >= 1 else {
                throw LoadError(file: file, key: key, "expected a whole number of at least 1, got \(Self.show(fields[key]))")
            }
            return value
        }

        /// Kafka settings are strings; unquoted numbers and booleans are kept as written.
        func config(_ key: String) throws(LoadError) -> [String: String] {
            guard let mapping = fields[key]?.mapping else {
                throw LoadError(file: file, key: key, "expected a mapping of Kafka topic settings, got \(Self.show(fields[key]))")
            }
            var config: [String: String] = [:]
            for (settingNode, valueNode) in mapping {
                let setting = settingNode.scalar?.string ?? "\(settingNode)"
                let path = "\(key).\(setting)"
                guard settingNode.tag == Tag(.str), !setting.isEmpty else {
                    throw LoadError(file: file, key: path, "setting names are strings such as retention.ms")
                }
                guard let value = valueNode.scalar, valueNode.tag != Tag(.null) else {
                    throw LoadError(file: file, key: path, "expected a value such as \"-1\", got \(Self.show(valueNode))")
                }
                guard config[setting] == nil else { throw LoadError(file: file, key: path, "appears twice") }
                config[setting] = value.string
            }
            return config
        }

        private static func show(_ node: Node?) -> String {
            guard let node else { return "nothing" }
            if let scalar = node.scalar {
                return node.tag == Tag(.null) ? "null" : "\"\(scalar.string)\""
            }
            return node.mapping != nil ? "a mapping" : "a list"
        }
    }
}
