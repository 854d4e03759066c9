import LoupeConfig

/// Opens the log that the configuration selects: Kafka when brokers are set, else the embedded log.
public enum LogFactory {
    public static func open(_ settings: LogSettings) throws -> any EventLog {
        throw LogError("not yet implemented")
    }
}
