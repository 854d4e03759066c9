@testable import LoupeKafka
import Foundation
import Testing

@testable import LoupeLog

/// librdkafka properties that are (or may be) secret never reach an error message: not from
/// Loupe, not quoted back by librdkafka. Making a client contacts no broker, so these tests
/// need none.
@Suite struct KafkaSecretTests {
    static let secret = "Zq7xSECRETdoNotPrint4242"
    static let brokers = "127.0.0.1:9"

    static func expectNoSecret(_ error: LogError?, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error else { return }
        for text in ["\(error)", error.message, String(reflecting: error)] {
            #expect(!text.contains(secret), "a secret was printed: \(text)", sourceLocation: sourceLocation)
        }
    }

    @Test func aMisspeltPropertyIsNamedWithItsPlaceButNotItsValue() {
        let error = #expect(throws: LogError.self) {
            try KafkaLog(
                brokers: Self.brokers, properties: ["sasl.pasword": Self.secret], origins: ["sasl.pasword": "loupe.yaml:7:5"])
        }
        #expect(error?.message.contains("sasl.pasword (loupe.yaml:7:5)") == true, "\(String(describing: error))")
        #expect(error?.message.contains("No such configuration property") == true)
        Self.expectNoSecret(error)
    }

    @Test(arguments: [
        "sasl.password", "ssl.key.password", "ssl.keystore.password", "sasl.oauthbearer.client.secret", "ssl.key.pem",
        "sasl.oauthbearer.config",
    ])
    func aSecretPropertyBesideAnInvalidOneIsNotShown(name: String) {
        let error = #expect(throws: LogError.self) {
            try KafkaLog(brokers: Self.brokers, properties: [name: Self.secret, "linger.ms": "soon"])
        }
        #expect(error?.message.contains("linger.ms=\"soon\"") == true, "a non-secret value is still shown")
        Self.expectNoSecret(error)
    }

    /// Values librdkafka checks (and quotes when it refuses them), under secret names and
    /// under names that only look like a secret's.
    @Test(arguments: [
        ["ssl.keystore.password": "x", "ssl.keystore.location": "/nonexistent/\(KafkaSecretTests.secret)"],
        ["security.protocol": "SSL", "ssl.key.pem": KafkaSecretTests.secret],
        [
            "security.protocol": "SSL", "ssl.key.pem": KafkaSecretTests.secret, "ssl.certificate.pem": "x",
            "ssl.key.password": KafkaSecretTests.secret,
        ],
        [
            "security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": "OAUTHBEARER",
            "enable.sasl.oauthbearer.unsecure.jwt": "true",
            "sasl.oauthbearer.config": "principal=\(KafkaSecretTests.secret) \(KafkaSecretTests.secret)",
        ],
        [
            "security.protocol": "SASL_SSL", "sasl.mechanisms": "OAUTHBEARER", "sasl.oauthbearer.method": "oidc",
            "sasl.oauthbearer.client.id": "loupe", "sasl.oauthbearer.client.secret": KafkaSecretTests.secret,
        ],
        ["ssl.key.password.typo": KafkaSecretTests.secret],
        ["sasl.password ": KafkaSecretTests.secret],
    ])
    func librdkafkasMessagesAreRedacted(properties: [String: String]) throws {
        do {
            let log = try KafkaLog(brokers: Self.brokers, properties: properties)
            // Accepted here: the producer and consumer are made with more settings.
            #expect(!"\(log)".contains(Self.secret))
            do { try log.makeProducer().close() } catch let error as LogError { Self.expectNoSecret(error) }
            do { try log.makeConsumer(group: "secret-test").close() } catch let error as LogError { Self.expectNoSecret(error) }
        } catch let error as LogError {
            Self.expectNoSecret(error)
        }
    }

    @Test func theConfigurationDescribesItselfWithoutProperties() {
        let configuration = KafkaConfiguration(brokers: Self.brokers, userProperties: ["sasl.password": Self.secret])
        var dumped = ""
        dump(configuration, to: &dumped)
        for text in ["\(configuration)", String(reflecting: configuration), dumped] {
            #expect(!text.contains(Self.secret), "\(text)")
        }
    }
}
