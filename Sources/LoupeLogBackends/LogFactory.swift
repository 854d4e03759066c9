import LoupeKafka
import LoupeEmbeddedLog
public import LoupeLog
public import LoupeConfig

/// Opens the log that the configuration selects: Kafka when brokers are set, else the embedded log.
public enum LogFactory {
    public static func open(_ settings: LogSettings) throws -> any EventLog {
        let log = try openBackend(settings)
        return settings.topicPrefix.isEmpty ? log : NamespacedLog(log, prefix: settings.topicPrefix)
    }

    private static func openBackend(_ settings: LogSettings) throws -> any EventLog {
        if let brokers = settings.brokers {
            return try KafkaLog(brokers: brokers, properties: settings.kafka, origins: settings.kafkaOrigins)
        }
        return try EmbeddedLog(directory: settings.data)
    }
}
