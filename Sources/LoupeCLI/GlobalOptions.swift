import LoupeLogBackends
import ArgumentParser
import LoupeConfig
import LoupeLog

/// The options every command that touches the log takes.
package struct GlobalOptions: ParsableArguments {
    package init() {}

    @Option(name: .long, help: ArgumentHelp("Kafka bootstrap servers; without them the embedded log is used.", valueName: "host:port[,host:port…]"))
    package var brokers: String?

    @Option(name: .long, help: ArgumentHelp("Data directory of the embedded log and the state store.", valueName: "dir"))
    package var data: String?

    @Option(name: .long, help: ArgumentHelp("YAML configuration file (see docs/configuration.md).", valueName: "file"))
    package var config: String?

    /// The configuration file (or the defaults) with the command-line options applied over it.
    package func loadConfiguration() throws -> LoupeConfiguration {
        var configuration = try config.map { try LoupeConfiguration.load(path: $0) } ?? LoupeConfiguration()
        if let brokers { configuration.log.brokers = brokers }
        if let data { configuration.log.data = data }
        return configuration
    }

    /// Opens the log the options select.
    package func openLog() throws -> any EventLog {
        try LogFactory.open(try loadConfiguration().log)
    }
}
