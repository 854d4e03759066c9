import Foundation
import LoupeEvents
import Yams

/// Loupe's configuration: the YAML file given with `--config`, over the seed's defaults.
///
/// Unknown keys are errors, so that a misspelt setting is reported rather than ignored.
/// Errors name the setting and where it is (`file:line:column`); values of secret settings
/// (`SecretSettings`) are never shown, and YAML syntax errors do not quote the text.
/// docs/configuration.md lists every key.
public struct LoupeConfiguration: Sendable, Equatable {
    public var log = LogSettings()
    public var inference = InferenceSettings()
    public var learner = LearnerConfiguration()
    public var server = ServerSettings()

    public init() {}

    public static func load(path: String) throws -> LoupeConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("cannot read the configuration file: \(error.localizedDescription)", at: path)
        }
        return try parse(text, source: path)
    }

    /// - Parameter source: names the text in error messages (the file's path).
    public static func parse(_ yaml: String, source: String = "configuration") throws -> LoupeConfiguration {
        let document: Node?
        do {
            document = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigurationError(yamlError: error, source: source)
        }
        var configuration = LoupeConfiguration()
        guard let document else { return configuration }
        do {
            var root = try Section(document, path: "", place: Place(source: source, mark: document.mark))
            try root.read("log", into: &configuration.log)
            for section in ["model", "training"] {
                try root.refuse(
                    section,
                    because: "is not read by this version of Loupe: the online learner's settings are under learner: "
                        + "(docs/configuration.md); the trainer that will read \(section): is planned")
            }
            try root.read("inference", into: &configuration.inference)
            try root.read("learner", into: &configuration.learner)
            try root.read("server", into: &configuration.server)
            try root.finish()
        } catch var error as ConfigurationError where error.location == nil {
            error.location = source
            throw error
        }
        return configuration
    }
}

/// Where the log is and how clients reach it.
public struct LogSettings: Sendable, Equatable, SettingsSection {
    /// Kafka bootstrap servers; nil selects the embedded log.
    public var brokers: String?
    /// Data directory of the embedded log and the state store.
    public var data = "./loupe-data"
    /// librdkafka properties passed through unchanged (SASL, TLS, timeouts, …). Descriptions
    /// of the settings never show them: any of them may be a secret.
    @Redacted public var kafka: [String: String] = [:]
    /// Where each `kafka` property is set (`file:line:column`), for error messages that must
    /// not show its value.
    public var kafkaOrigins: [String: String] = [:]
    /// Prepended to every topic name, so that deployments can share a Kafka cluster.
    public var topicPrefix = ""

    public init() {}

    mutating func read(_ section: inout Section) throws {
        brokers = try section.string("brokers") ?? brokers
        if brokers?.isEmpty == true { brokers = nil }
        data = try section.string("data") ?? data
        topicPrefix = try section.string("topic_prefix") ?? topicPrefix
        if let properties = try section.section("kafka") {
            kafka = try properties.stringMap()
            kafkaOrigins = properties.keyPlaces.mapValues(\.description)
        }
    }
}

/// The seed's `inference:` section, and what `loupe serve` and `loupe recommend` add to it.
public struct InferenceSettings: Sendable, Equatable, SettingsSection {
    public var batchSize = 64
    /// Seconds a cached prediction may be served.
    public var cacheTTL = 3600
    public var numRecommendations = 10
    public var candidatePoolSize = 1000
    /// The largest `k` a request may ask for.
    public var maxRecommendations = 100
    /// Maximal marginal relevance: 1 ranks by score alone, 0 by novelty alone.
    public var mmrLambda = 0.7
    /// Memory bound of the prediction cache, in MiB (0 disables the cache).
    public var cacheMaxMB = 64
    /// How often the service opens a newer snapshot of the store, in milliseconds.
    public var snapshotRefreshMs = 1000
    /// Salt of the stable hash that assigns each user a variant.
    public var experimentSalt = "loupe"
    /// Variant name → share of users; shares must add up to 1.
    public var variants: [String: Double] = ["control": 1.0]
    /// The model a variant serves unless it names its own (`variants.NAME.model`).
    public var model = ModelKey.onlineLearner
    /// Variants that name their own model.
    public var variantModels: [String: ModelKey] = [:]

    /// The model variant `name` serves.
    public func model(ofVariant name: String) -> ModelKey { variantModels[name] ?? model }

    /// Every model some variant serves, in key order.
    public var servedModels: [ModelKey] { Set(variants.keys.map(model(ofVariant:))).sorted() }

    public init() {}

    mutating func read(_ section: inout Section) throws {
        batchSize = try section.positiveInt("batch_size") ?? batchSize
        cacheTTL = try section.positiveInt("cache_ttl") ?? cacheTTL
        numRecommendations = try section.positiveInt("num_recommendations") ?? numRecommendations
        candidatePoolSize = try section.positiveInt("candidate_pool_size") ?? candidatePoolSize
        maxRecommendations = try section.positiveInt("max_recommendations") ?? maxRecommendations
        mmrLambda = try section.unitDouble("mmr_lambda") ?? mmrLambda
        cacheMaxMB = try section.nonNegativeInt("cache_max_mb") ?? cacheMaxMB
        snapshotRefreshMs = try section.positiveInt("snapshot_refresh_ms") ?? snapshotRefreshMs
        experimentSalt = try section.string("experiment_salt") ?? experimentSalt
        model = try section.modelKey("model") ?? model
        if var shares = try section.section("variants") {
            variants = [:]
            variantModels = [:]
            for name in shares.values.keys.sorted() {
                if shares.values[name] is [String: Any] {
                    var variant = try shares.section(name)!
                    guard let share = try variant.unitDouble("share") else {
                        throw ConfigurationError("inference.variants.\(name).share is missing", at: variant.place.description)
                    }
                    variants[name] = share
                    variantModels[name] = try variant.modelKey("model")
                    try variant.finish()
                } else {
                    variants[name] = try shares.unitDouble(name)
                }
            }
            try shares.finish()
            let total = variants.values.reduce(0, +)
            guard !variants.isEmpty, variants.values.allSatisfy({ $0 >= 0 }), abs(total - 1) < 1e-9 else {
                throw ConfigurationError(
                    "inference.variants must map names to non-negative shares that add up to 1, got \(variants)")
            }
        }
        guard numRecommendations <= maxRecommendations else {
            throw ConfigurationError("inference.num_recommendations (\(numRecommendations)) exceeds inference.max_recommendations (\(maxRecommendations))")
        }
    }
}

/// The `server:` section of `loupe serve`.
public struct ServerSettings: Sendable, Equatable, SettingsSection {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Bearer token for write routes; the environment variable LOUPE_API_TOKEN overrides it.
    /// With none, write routes are refused. Descriptions of the settings never show it.
    @Redacted public var apiToken: String? = nil
    /// Whether read routes also require the token.
    public var protectReads = false
    /// Largest request body accepted, in bytes.
    public var maxBodyBytes = 1_048_576
    /// Most events one `POST /v1/events` may carry.
    public var maxEventsPerRequest = 1000
    /// Impressions waiting to be written to the log; when full, new ones are dropped and counted.
    public var impressionQueueCapacity = 10_000
    /// The longest an impression waits before its batch is written, in milliseconds.
    public var impressionFlushMs = 200
    /// Attempts to write a batch of impressions before it is counted as failed (1 = no retry).
    public var impressionWriteAttempts = 3
    /// Wait before the first retry of a failed impression write, in milliseconds; doubled for each further one.
    public var impressionRetryBackoffMs = 100
    /// A connection on which nothing arrives for this long is closed, in milliseconds: between
    /// requests (keep-alive), before a request's head is complete, and between parts of its body.
    public var idleTimeoutMs = 30_000
    /// A request's body must arrive whole within this long of its head, in milliseconds.
    public var requestTimeoutMs = 30_000
    /// Connections served at once; further ones wait in the listen backlog until one closes.
    public var maxConnections = 512
    /// How long `/readyz` reuses the last answer of the log, in milliseconds.
    public var readinessCacheMs = 1_000
    /// How long `/readyz` and `/metrics` wait for the log to answer, in milliseconds.
    public var logProbeTimeoutMs = 2_000

    public init() {}

    mutating func read(_ section: inout Section) throws {
        host = try section.string("host") ?? host
        port = try section.positiveInt("port") ?? port
        guard port <= 65_535 else { throw ConfigurationError("server.port must be at most 65535, got \(port)") }
        apiToken = try section.string("api_token") ?? apiToken
        if apiToken?.isEmpty == true { apiToken = nil }
        protectReads = try section.bool("protect_reads") ?? protectReads
        maxBodyBytes = try section.positiveInt("max_body_bytes") ?? maxBodyBytes
        maxEventsPerRequest = try section.positiveInt("max_events_per_request") ?? maxEventsPerRequest
        impressionQueueCapacity = try section.positiveInt("impression_queue_capacity") ?? impressionQueueCapacity
        impressionFlushMs = try section.positiveInt("impression_flush_ms") ?? impressionFlushMs
        impressionWriteAttempts = try section.positiveInt("impression_write_attempts") ?? impressionWriteAttempts
        impressionRetryBackoffMs = try section.nonNegativeInt("impression_retry_backoff_ms") ?? impressionRetryBackoffMs
        idleTimeoutMs = try section.positiveInt("idle_timeout_ms") ?? idleTimeoutMs
        requestTimeoutMs = try section.positiveInt("request_timeout_ms") ?? requestTimeoutMs
        maxConnections = try section.positiveInt("max_connections") ?? maxConnections
        readinessCacheMs = try section.nonNegativeInt("readiness_cache_ms") ?? readinessCacheMs
        logProbeTimeoutMs = try section.positiveInt("log_probe_timeout_ms") ?? logProbeTimeoutMs
        try validate()
    }

    /// Bounds a value type cannot express: each names the key and what it would have done.
    func validate() throws {
        guard impressionWriteAttempts <= 10 else {
            throw ConfigurationError(
                "server.impression_write_attempts must be at most 10, got \(impressionWriteAttempts): the writer retries while new impressions queue up")
        }
        guard impressionRetryBackoffMs <= 30_000 else {
            throw ConfigurationError("server.impression_retry_backoff_ms must be at most 30000, got \(impressionRetryBackoffMs)")
        }
        for (key, value) in [("idle_timeout_ms", idleTimeoutMs), ("request_timeout_ms", requestTimeoutMs)] {
            guard value >= 100, value <= 3_600_000 else {
                throw ConfigurationError("server.\(key) must be between 100 (0.1 s) and 3600000 (1 h), got \(value)")
            }
        }
        guard maxConnections <= 1_000_000 else {
            throw ConfigurationError("server.max_connections must be at most 1000000, got \(maxConnections)")
        }
        guard readinessCacheMs <= 60_000 else {
            throw ConfigurationError(
                "server.readiness_cache_ms must be at most 60000, got \(readinessCacheMs): /readyz would report a stale log state")
        }
        guard logProbeTimeoutMs <= 60_000 else {
            throw ConfigurationError("server.log_probe_timeout_ms must be at most 60000, got \(logProbeTimeoutMs)")
        }
    }
}

/// The online learner's `learner:` section (docs/learning.md). The defaults are
/// `LearnerSettings`'s (a test keeps the two equal).
public struct LearnerConfiguration: Sendable, Equatable, SettingsSection {
    /// Names this learner's batch records; replay follows one learner.
    public var id = "learner"
    /// The model (id@version) whose state this learner writes: its tables, dimension and
    /// positions in the store. A new dimension needs a new version.
    public var model = ModelKey.onlineLearner
    public var dimension = 64
    public var learningRate = 0.1
    public var biasLearningRate = 0.01
    public var l2 = 0.1
    public var negativeSamples = 10
    /// Share of negatives drawn uniformly from the items wanted so far (the rest by popularity^0.75).
    public var uniformNegativeShare = 1.0
    /// The user's last wanted items that make up part of their representation (0: none).
    public var recentItems = 20
    /// Their context rows are summed and scaled by n^−exponent.
    public var recentExponent = 0.5
    /// Noise that new rows start with around their group's mean.
    public var initialScale = 0.01
    /// Half-life of the popularity model in event time (0: plain counts).
    public var popularityHalfLifeMs = 0
    /// How much each kind of event counts; < 0 means not wanted, 0 not learned.
    public var eventWeights = EventWeightsConfiguration()
    /// Records per store transaction.
    public var batchSize = 65_536
    /// Milliseconds a batch may wait for more records.
    public var maxDelayMs = 500
    /// An event id seen again within this much event time (ms) is applied once.
    public var deduplicationWindowMs = 86_400_000
    /// Interactions and feedback kept per user, newest last, for serving.
    public var historyLength = 20

    public init() {}

    mutating func read(_ section: inout Section) throws {
        id = try section.string("id") ?? id
        model = try section.modelKey("model") ?? model
        dimension = try section.positiveInt("dimension") ?? dimension
        learningRate = try section.positiveDouble("learning_rate") ?? learningRate
        biasLearningRate = try section.nonNegativeDouble("bias_learning_rate") ?? biasLearningRate
        l2 = try section.nonNegativeDouble("l2") ?? l2
        negativeSamples = try section.nonNegativeInt("negative_samples") ?? negativeSamples
        uniformNegativeShare = try section.unitDouble("uniform_negative_share") ?? uniformNegativeShare
        recentItems = try section.nonNegativeInt("recent_items") ?? recentItems
        recentExponent = try section.nonNegativeDouble("recent_exponent") ?? recentExponent
        initialScale = try section.nonNegativeDouble("initial_scale") ?? initialScale
        popularityHalfLifeMs = try section.nonNegativeInt("popularity_half_life_ms") ?? popularityHalfLifeMs
        try section.read("event_weights", into: &eventWeights)
        batchSize = try section.positiveInt("batch_size") ?? batchSize
        maxDelayMs = try section.positiveInt("max_delay_ms") ?? maxDelayMs
        deduplicationWindowMs = try section.positiveInt("deduplication_window_ms") ?? deduplicationWindowMs
        historyLength = try section.nonNegativeInt("history_length") ?? historyLength
    }
}

/// `learner.event_weights`: how much each kind of event counts, and which way.
public struct EventWeightsConfiguration: Sendable, Equatable, SettingsSection {
    public var view = 1.0
    public var click = 1.0
    public var tryOn = 1.0
    public var addToCart = 1.0
    public var purchase = 1.0
    public var like = 1.0
    public var dislike = -1.0
    public var `return` = -1.0
    /// A rating of r stars counts (r − 3)/2 × this.
    public var rating = 1.0

    public init() {}

    mutating func read(_ section: inout Section) throws {
        view = try section.number("view") ?? view
        click = try section.number("click") ?? click
        tryOn = try section.number("try_on") ?? tryOn
        addToCart = try section.number("add_to_cart") ?? addToCart
        purchase = try section.number("purchase") ?? purchase
        like = try section.number("like") ?? like
        dislike = try section.number("dislike") ?? dislike
        `return` = try section.number("return") ?? `return`
        rating = try section.number("rating") ?? rating
    }
}

public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// Where the problem is: `file:line:column`, or the file alone.
    public var location: String?

    public init(_ message: String, at location: String? = nil) {
        self.message = message
        self.location = location
    }

    public var description: String { location.map { "\($0): \(message)" } ?? message }

    /// A YAML syntax error, by line, column and libyaml's account of the problem. Yams's own
    /// description quotes the offending line, which may hold a secret, so it is not used.
    init(yamlError error: any Error, source: String) {
        func at(_ mark: Mark) -> String { "\(source):\(mark.line):\(mark.column)" }
        func context(_ context: YamlError.Context?) -> String {
            context.map { " (\($0.text), from line \($0.mark.line), column \($0.mark.column))" } ?? ""
        }
        switch error as? YamlError {
        case .scanner(let found, let problem, let mark, _), .parser(let found, let problem, let mark, _),
            .composer(let found, let problem, let mark, _):
            self.init("not valid YAML: \(problem)\(context(found))", at: at(mark))
        case .reader(let problem, let offset, _, _):
            self.init("not valid YAML: \(problem)\(offset.map { " at character \($0)" } ?? "")", at: source)
        default:
            self.init("not valid YAML", at: source)
        }
    }
}

/// A section of the file (`log:`, `model:`, …) that reads its own keys.
protocol SettingsSection {
    mutating func read(_ section: inout Section) throws
}

/// A place in the configuration text: `file:line:column` (or the file alone when unknown).
struct Place: CustomStringConvertible {
    let source: String
    let mark: Mark?

    var description: String { mark.map { "\(source):\($0.line):\($0.column)" } ?? source }
}

/// One mapping of the YAML document; remembers which keys were read so that `finish` can
/// report the rest as unknown, and where each key is, for error messages.
struct Section {
    let values: [String: Any]
    let path: String
    /// Where the mapping is (its key in the parent mapping).
    let place: Place
    /// Where each key of the mapping is. Keys merged in with `<<` are not among them, and
    /// errors about them point at the mapping.
    private(set) var keyPlaces: [String: Place] = [:]
    private var nodes: [String: Node] = [:]
    private var read: Set<String> = []

    init(_ node: Node, path: String, place: Place) throws {
        try self.init(Constructor.default.any(from: node), path: path, place: place)
        guard let mapping = node.mapping else { return }
        for (key, value) in mapping {
            guard let name = key.string else { continue }
            keyPlaces[name] = Place(source: place.source, mark: key.mark)
            nodes[name] = value
        }
    }

    private init(_ value: Any, path: String, place: Place) throws {
        guard let mapping = value as? [String: Any] else {
            throw ConfigurationError(
                "\(path.isEmpty ? "the document" : path) must be a mapping of keys to values", at: place.description)
        }
        values = mapping
        self.path = path
        self.place = place
    }

    private func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private func place(of key: String) -> Place { keyPlaces[key] ?? place }

    /// "`name` must be …", with the value it has unless the setting is secret.
    private func invalid(_ key: String, _ requirement: String, got value: Any) -> ConfigurationError {
        let name = name(key)
        let shown = SecretSettings.isSecret(path: name) ? " (the value is not shown: it may be a secret)" : ", got \(value)"
        return ConfigurationError("\(name) \(requirement)\(shown)", at: place(of: key).description)
    }

    private mutating func value(_ key: String) -> Any? {
        read.insert(key)
        guard let value = values[key], !(value is NSNull) else { return nil }
        return value
    }

    /// Reads the sub-mapping `key`, if present, into `settings`, rejecting keys it does not know.
    mutating func read(_ key: String, into settings: inout some SettingsSection) throws {
        guard var section = try section(key) else { return }
        do {
            try settings.read(&section)
        } catch var error as ConfigurationError where error.location == nil {
            error.location = place(of: key).description
            throw error
        }
        try section.finish()
    }

    /// Fails when `key` is present, saying why it may not be.
    mutating func refuse(_ key: String, because reason: String) throws {
        guard value(key) != nil else { return }
        throw ConfigurationError("\(name(key)) \(reason)", at: place(of: key).description)
    }

    mutating func section(_ key: String) throws -> Section? {
        guard let value = value(key) else { return nil }
        if let node = nodes[key] { return try Section(node, path: name(key), place: place(of: key)) }
        return try Section(value, path: name(key), place: place(of: key))
    }

    mutating func string(_ key: String) throws -> String? {
        guard let node = value(key) else { return nil }
        if let text = node as? String { return text }
        throw invalid(key, "must be a string", got: node)
    }

    mutating func positiveInt(_ key: String) throws -> Int? {
        guard let node = value(key) else { return nil }
        guard let number = node as? Int, number > 0 else { throw invalid(key, "must be a positive integer", got: node) }
        return number
    }

    mutating func nonNegativeInt(_ key: String) throws -> Int? {
        guard let node = value(key) else { return nil }
        guard let number = node as? Int, number >= 0 else { throw invalid(key, "must be a non-negative integer", got: node) }
        return number
    }

    mutating func positiveDouble(_ key: String) throws -> Double? {
        guard let number = try number(key) else { return nil }
        guard number > 0 else { throw invalid(key, "must be greater than 0", got: number) }
        return number
    }

    mutating func nonNegativeDouble(_ key: String) throws -> Double? {
        guard let number = try number(key) else { return nil }
        guard number >= 0 else { throw invalid(key, "must not be negative", got: number) }
        return number
    }

    mutating func unitDouble(_ key: String) throws -> Double? {
        guard let number = try number(key) else { return nil }
        guard (0...1).contains(number) else { throw invalid(key, "must be between 0 and 1", got: number) }
        return number
    }

    /// A model key, `id@version`.
    mutating func modelKey(_ key: String) throws -> ModelKey? {
        guard let text = try string(key) else { return nil }
        do {
            return try ModelKey(parsing: text)
        } catch {
            throw invalid(key, "must name a model as id@version (\(error.reason))", got: text)
        }
    }

    mutating func bool(_ key: String) throws -> Bool? {
        guard let node = value(key) else { return nil }
        if let flag = node as? Bool { return flag }
        throw invalid(key, "must be true or false", got: node)
    }

    /// Any finite number.
    mutating func number(_ key: String) throws -> Double? {
        guard let node = value(key) else { return nil }
        if let number = node as? Double, number.isFinite { return number }
        if let number = node as? Int { return Double(number) }
        throw invalid(key, "must be a number", got: node)
    }

    /// Every key of this mapping with its value as text, for pass-through settings.
    func stringMap() throws -> [String: String] {
        var map: [String: String] = [:]
        for (key, node) in values {
            switch node {
            case let text as String: map[key] = text
            case let number as Int: map[key] = String(number)
            case let flag as Bool: map[key] = flag ? "true" : "false"
            case let number as Double: map[key] = String(number)
            default: throw invalid(key, "must be a string, number or boolean", got: node)
            }
        }
        return map
    }

    /// Every key of this mapping with a numeric value.
    func doubleMap() throws -> [String: Double] {
        var map: [String: Double] = [:]
        for (key, node) in values {
            switch node {
            case let number as Int: map[key] = Double(number)
            case let number as Double where number.isFinite: map[key] = number
            default: throw invalid(key, "must be a number", got: node)
            }
        }
        return map
    }

    func finish() throws {
        let unknown = values.keys.filter { !read.contains($0) }.sorted()
        if let first = unknown.first {
            throw ConfigurationError(
                "unknown setting \(name(first)) (see docs/configuration.md)", at: place(of: first).description)
        }
    }
}
