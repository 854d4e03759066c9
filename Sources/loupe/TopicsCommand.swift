import LoupeCLI
import ArgumentParser
import Foundation
import LoupeLog

struct Topics: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create and inspect Loupe's topics.",
        subcommands: [Apply.self, List.self]
    )

    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create every topic Loupe uses that does not exist yet.",
            discussion: """
                The definitions (partitions, retention, cleanup policy) are built in and \
                identical to the files in the repository's topics/ directory; --from applies the \
                YAML files of another directory instead. Existing topics are left as they are; \
                a partition count that differs from the definition is reported as a conflict \
                and makes the command fail.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("Apply the topic definitions (*.yaml) in this directory.", valueName: "dir"))
        var from: String?

        func run() throws {
            let log = try global.openLog()
            let specs = try from.map { try TopicDefinitions.load(directory: $0) } ?? TopicDefinitions.builtIn
            let outcomes = try log.apply(specs)
            var conflicts = 0
            for spec in specs {
                switch outcomes[spec.name] {
                case .created: print("created    \(spec.name) (\(spec.partitions) partition\(spec.partitions == 1 ? "" : "s"))")
                case .unchanged: print("unchanged  \(spec.name)")
                case .conflict(let message):
                    print("CONFLICT   \(spec.name): \(message)")
                    conflicts += 1
                case nil: break
                }
            }
            if conflicts > 0 { throw CLIError("\(conflicts) topic(s) differ from their definitions in \(log.description)") }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List topics with partitions, offsets and retention.")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let log = try global.openLog()
            let topics = try log.describeTopics()
            if topics.isEmpty {
                print("no topics in \(log.description); create them with `loupe topics apply`")
                return
            }
            let header = ["topic", "partitions", "records", "offsets (low-high per partition)", "retention.ms", "cleanup.policy"]
            var rows = [header]
            for topic in topics {
                let ranges = topic.partitions.map { "\($0.low)-\($0.high)" }.joined(separator: " ")
                rows.append([
                    topic.name, String(topic.partitions.count), String(topic.retainedRecords), ranges,
                    topic.config["retention.ms"] ?? "-", topic.config["cleanup.policy"] ?? "-",
                ])
            }
            let widths = header.indices.map { column in rows.map { $0[column].count }.max()! }
            for row in rows {
                print(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
            }
        }
    }
}
