import ArgumentParser
import Foundation
import Glibc
import LoupeCLI

/// `loupe bench …`: the benchmarks live in their own executable, `loupe-bench`, beside this one
/// (the shipped binary does not link them); this hands it the arguments and becomes it.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Loupe's throughput (docs/benchmarks.md) and reliability under faults and fuzzing (docs/reliability.md).",
        discussion: """
            Runs loupe-bench, the benchmark executable installed beside loupe, with the same \\
            arguments: loupe bench serve … is loupe-bench serve …. Its subcommands: log, learn, \\
            serve, fuzz, chaos; `loupe bench --help` lists them with their options.
            """,
        helpNames: []
    )

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("What loupe-bench takes: a benchmark and its options."))
    var arguments: [String] = []

    /// The `loupe-bench` beside this executable.
    static func benchmarkExecutable() throws -> String {
        let own = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let sibling = own.deletingLastPathComponent().appendingPathComponent("loupe-bench").path
        guard FileManager.default.isExecutableFile(atPath: sibling) else {
            throw CLIError(
                "the benchmarks are a separate executable and \(sibling) is missing: build it with `swift build -c release --product loupe-bench`")
        }
        return sibling
    }

    func run() throws {
        let executable = try Self.benchmarkExecutable()
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        execv(executable, argv)
        throw CLIError("could not run \(executable): \(String(cString: strerror(errno)))")
    }
}
