import Foundation
import LoupeConfig
import LoupeEvents
import Testing

@Suite struct LoupeConfigurationTests {
    @Test func defaultsAreTheSeeds() {
        let configuration = LoupeConfiguration()
        #expect(configuration.log.brokers == nil)
        #expect(configuration.log.data == "./loupe-data")
        #expect(configuration.learner.dimension == 64)
        #expect(configuration.inference.cacheTTL == 3600)
        #expect(configuration.inference.candidatePoolSize == 1000)
        #expect(configuration.inference.numRecommendations == 10)
        #expect(configuration.server.impressionQueueCapacity == 10_000)
        #expect(configuration.server.impressionFlushMs == 200)
    }

    @Test func impressionQueueSettingsAreRead() throws {
        let configuration = try LoupeConfiguration.parse(
            "server:\n  impression_queue_capacity: 50000\n  impression_flush_ms: 50\n")
        #expect(configuration.server.impressionQueueCapacity == 50_000)
        #expect(configuration.server.impressionFlushMs == 50)
    }

    @Test func fileOverridesDefaultsAndPassesKafkaPropertiesThrough() throws {
        let configuration = try LoupeConfiguration.parse(
            """
            log:
              brokers: "k1:9092,k2:9092"
              topic_prefix: staging.
              kafka:
                security.protocol: SASL_SSL
                sasl.mechanisms: PLAIN
                message.timeout.ms: 30000
                enable.ssl.certificate.verification: true
            learner:
              dimension: 32
            """)
        #expect(configuration.log.brokers == "k1:9092,k2:9092")
        #expect(configuration.log.topicPrefix == "staging.")
        #expect(configuration.log.kafka["security.protocol"] == "SASL_SSL")
        #expect(configuration.log.kafka["message.timeout.ms"] == "30000")
        #expect(configuration.log.kafka["enable.ssl.certificate.verification"] == "true")
        #expect(configuration.learner.dimension == 32)
        #expect(configuration.learner.learningRate == LoupeConfiguration().learner.learningRate)
    }

    @Test func variantsMapToModels() throws {
        let configuration = try LoupeConfiguration.parse(
            """
            learner:
              model: online-bpr@2
            inference:
              model: online-bpr@1
              variants:
                control: 0.5
                treatment: {share: 0.5, model: online-bpr@2}
            """)
        let one = try ModelKey(id: "online-bpr", version: "1")
        let two = try ModelKey(parsing: "online-bpr@2")
        #expect(configuration.learner.model == two)
        #expect(configuration.inference.variants == ["control": 0.5, "treatment": 0.5])
        #expect(configuration.inference.model(ofVariant: "control") == one)
        #expect(configuration.inference.model(ofVariant: "treatment") == two)
        #expect(configuration.inference.servedModels == [one, two])
        #expect(LoupeConfiguration().inference.servedModels == [.onlineLearner])
        #expect(LoupeConfiguration().learner.model == .onlineLearner)
    }

    @Test func emptyBrokersMeansEmbedded() throws {
        #expect(try LoupeConfiguration.parse("log:\n  brokers: \"\"\n").log.brokers == nil)
        #expect(try LoupeConfiguration.parse("").log.brokers == nil)
    }

    @Test(arguments: [
        ("learner:\n  dimensoin: 64\n", "unknown setting learner.dimensoin"),
        ("modle:\n  x: 1\n", "unknown setting modle"),
        ("learner:\n  dimension: -3\n", "learner.dimension must be"),
        ("learner:\n  learning_rate: fast\n", "learner.learning_rate must be a number"),
        ("model:\n  user_embedding_dim: 64\n", "model is not read by this version of Loupe"),
        ("training:\n  learning_rate: 0.01\n", "the trainer that will read training: is planned"),
        ("server:\n  impression_queue_capacity: 0\n", "server.impression_queue_capacity must be a positive integer"),
        ("server:\n  impression_flush_ms: soon\n", "server.impression_flush_ms must be a positive integer"),
        ("log: [1, 2]\n", "log must be a mapping"),
        ("learner:\n  model: online-bpr\n", "learner.model must name a model as id@version"),
        ("inference:\n  model: Online@1\n", "inference.model must name a model as id@version"),
        ("inference:\n  variants:\n    a: {share: 1, model: x@}\n", "inference.variants.a.model must name a model"),
        ("inference:\n  variants:\n    a: {model: x@1}\n", "inference.variants.a.share is missing"),
        ("inference:\n  variants:\n    a: {share: 1, modle: x@1}\n", "unknown setting inference.variants.a.modle"),
        ("inference:\n  variants:\n    a: 0.5\n    b: 0.4\n", "add up to 1"),
        ("log:\n  brokers: [a\n", "not valid YAML"),
    ])
    func badSettingsAreReportedByName(yaml: String, message: String) {
        do {
            _ = try LoupeConfiguration.parse(yaml)
            Issue.record("accepted \(yaml)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    @Test func loadNamesTheFile() throws {
        let path = NSTemporaryDirectory() + "loupe-config-\(UUID().uuidString).yaml"
        try "inference:\n  cache_ttl: 0\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) { try LoupeConfiguration.load(path: path) }
        do {
            _ = try LoupeConfiguration.load(path: path)
        } catch {
            #expect("\(error)".hasPrefix(path))
        }
        #expect(throws: ConfigurationError.self) { try LoupeConfiguration.load(path: path + ".missing") }
    }
}
