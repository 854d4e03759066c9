import LoupeCLI
import LoupeConfig
import ArgumentParser
import Foundation
import LoupeEvents
import LoupeLog
import LoupeStore

struct Store: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect the state store that the learner folds the log into.",
        discussion: """
            The state store is the LMDB environment in DIR/state, where DIR is --data (default \
            ./loupe-data). It holds any number of models side by side, each under its id and \
            version (id@version): its embeddings, user and item metadata, model metadata, and the \
            log positions its role has applied. These commands open it read-only and read one \
            consistent snapshot, so they are safe to run while roles write. stats and checksum \
            look at one model: --model, or the learner's (learner.model in the configuration). \
            The layout is described in docs/state-store.md.

            Examples:
              loupe store models
              loupe store stats
              loupe store checksum --data ./loupe-data --model online-bpr@1
              loupe store checksum --tables --data ./replayed
            """,
        subcommands: [Models.self, Stats.self, Checksum.self]
    )

    /// The model the options select: --model, else the learner's.
    struct ModelOption: ParsableArguments {
        @Option(help: ArgumentHelp("The model to look at, as id@version (default: learner.model of the configuration).", valueName: "id@version"))
        var model: String?

        func key(_ global: GlobalOptions) throws -> ModelKey {
            guard let model else { return try global.loadConfiguration().learner.model }
            do {
                return try ModelKey(parsing: model)
            } catch {
                throw ValidationError("--model: \(error)")
            }
        }
    }

    /// Model `model`'s view of the store of the data directory the options select, read-only.
    static func open(_ global: GlobalOptions, model: ModelKey) throws -> StateStore {
        let directory = try global.loadConfiguration().log.data
        do {
            return try StateStore(directory: directory, model: model, readOnly: true)
        } catch StoreError.storeNotFound(let path) {
            throw CLIError("no state store at \(path); run `loupe learn` first (or point --data at the data directory)")
        }
    }

    struct Models: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the models the store holds, with their kind, dimension and size.",
            discussion: """
                One line per model (id@version): the algorithm that wrote it, its embedding \
                dimension, its users and items, and how many log partitions its role has applied.

                Example:
                  loupe store models --data ./loupe-data
                """
        )

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let directory = try global.loadConfiguration().log.data
            let models: [ModelKey]
            do {
                models = try StateStore.models(directory: directory)
            } catch StoreError.storeNotFound(let path) {
                throw CLIError("no state store at \(path); run `loupe learn` first (or point --data at the data directory)")
            }
            guard !models.isEmpty else {
                print("no models in \(directory)/state yet; run `loupe learn` first")
                return
            }
            var rows = [["model", "algorithm", "dimension", "users", "items", "partitions"]]
            for model in models {
                let store = try StateStore(directory: directory, model: model, readOnly: true)
                let row = try store.read { snapshot in
                    [
                        model.description,
                        (try? snapshot.modelMetadata(ModelMetadataKey.algorithm, as: String.self)) ?? "-",
                        try snapshot.dimension.map(String.init) ?? "-",
                        String(try snapshot.count(.users)), String(try snapshot.count(.items)),
                        String(try snapshot.positions().count),
                    ]
                }
                rows.append(row)
            }
            Stats.printTable(rows, rightAligned: [2, 3, 4, 5])
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print tables, sizes, the dimension, and the learner's positions with their lag.",
            discussion: """
                For every partition the learner has consumed, the position is the next offset it \
                will apply; the lag is the log's high watermark minus that position, i.e. the \
                records not yet folded into the store. The watermarks come from the log the \
                options select (the embedded log in DIR/log, or Kafka with --brokers); if it \
                cannot be reached, everything else is still printed.

                Examples:
                  loupe store stats
                  loupe store stats --data /var/lib/loupe --brokers kafka-1:9092
                """
        )

        @OptionGroup var global: GlobalOptions
        @OptionGroup var model: ModelOption

        func run() throws {
            let store = try Store.open(global, model: try model.key(global))
            let statistics = try store.statistics()
            print("state store  \(statistics.path)")
            print("model        \(store.model)")
            print(
                "file         \(Self.bytes(statistics.fileBytes)) (map \(Self.bytes(statistics.mapBytes)), page \(statistics.pageSize) B)"
            )
            print("dimension    \(statistics.dimension.map(String.init) ?? "not set")")
            print()
            var rows = [["table", "entries", "bytes"]]
            for table in statistics.tables { rows.append([table.name, String(table.entries), Self.bytes(table.bytes)]) }
            Self.printTable(rows, rightAligned: [1, 2])
            print()
            if statistics.modelMetadata.isEmpty {
                print("model metadata: none")
            } else {
                print("model metadata")
                let width = statistics.modelMetadata.map(\.key.count).max()!
                for (key, json) in statistics.modelMetadata {
                    print("  \(key.padding(toLength: width, withPad: " ", startingAt: 0))  \(json)")
                }
            }
            print()
            guard !statistics.positions.isEmpty else {
                print("positions: none (the learner has not applied any record yet)")
                return
            }
            print("positions (next offset to apply per partition)")
            printPositions(statistics.positions)
        }

        private func printPositions(_ positions: [StorePosition]) {
            var problem: String?
            let log: (any EventLog)?
            do {
                log = try openLog()
            } catch {
                log = nil
                problem = "\(error)"
            }
            var rows = [["topic", "partition", "position", "high watermark", "lag"]]
            for position in positions {
                var high: Int64?
                if let log, problem == nil {
                    do {
                        high = try log.watermarks(TopicPartition(position.topic, position.partition)).high
                    } catch {
                        // One failure usually means the log is unreachable; do not wait for each partition.
                        problem = "\(error)"
                    }
                }
                rows.append([
                    position.topic, String(position.partition), String(position.offset),
                    high.map(String.init) ?? "-", high.map { String($0 - position.offset) } ?? "-",
                ])
            }
            Self.printTable(rows, rightAligned: [1, 2, 3, 4])
            if let problem { print("\nlog unreachable, so watermarks and lag are not shown: \(problem)") }
        }

        /// The log, except that a missing embedded log is reported instead of being created.
        private func openLog() throws -> any EventLog {
            let settings = try global.loadConfiguration().log
            if settings.brokers == nil {
                let path = URL(fileURLWithPath: settings.data).appendingPathComponent("log/data.mdb").path
                guard FileManager.default.fileExists(atPath: path) else {
                    throw CLIError("no embedded log at \((path as NSString).deletingLastPathComponent)")
                }
            }
            return try global.openLog()
        }

        static func printTable(_ rows: [[String]], rightAligned: Set<Int>) {
            let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max()! }
            for row in rows {
                let cells = row.enumerated().map { column, cell in
                    let padding = String(repeating: " ", count: widths[column] - cell.count)
                    return rightAligned.contains(column) ? padding + cell : cell + padding
                }
                print(cells.joined(separator: "  "))
            }
        }

        static func bytes(_ count: Int) -> String {
            let units = ["B", "KiB", "MiB", "GiB", "TiB"]
            var value = Double(count)
            var unit = 0
            while value >= 1024, unit < units.count - 1 {
                value /= 1024
                unit += 1
            }
            return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
        }
    }

    struct Checksum: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a SHA-256 digest of one model's whole content in the store.",
            discussion: """
                The digest covers every table of the model in name order and every entry in key order, so two \
                stores have the same checksum exactly when they hold the same keys and values, \
                however they were written. Use it to check that a replay rebuilt the live state:

                  [ "$(loupe store checksum --data live)" = "$(loupe store checksum --data replayed)" ]

                With --tables, one digest per table is printed before the total, to find which \
                table differs ("-" marks an empty table, which adds nothing to the total).
                """
        )

        @OptionGroup var global: GlobalOptions

        @OptionGroup var model: ModelOption

        @Flag(help: "Also print one digest per table.")
        var tables = false

        func run() throws {
            let checksum = try Store.open(global, model: try model.key(global)).checksum(perTable: tables)
            guard tables else {
                print(checksum.digest)
                return
            }
            let width = checksum.tables.map(\.name.count).max() ?? 0
            for table in checksum.tables {
                let digest = (table.digest ?? "-").padding(toLength: 64, withPad: " ", startingAt: 0)
                let name = table.name.padding(toLength: width, withPad: " ", startingAt: 0)
                print("\(digest)  \(name)  \(table.entries) \(table.entries == 1 ? "entry" : "entries")")
            }
            print("\(checksum.digest)  total")
        }
    }
}
