import LoupeCLI
import ArgumentParser
import Foundation
import LoupeEvaluation
import LoupeEvents
import LoupeLMDB

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn a public dataset into Loupe events (JSON lines), to produce into the log.",
        subcommands: [ImportMovieLens.self]
    )
}

struct ImportMovieLens: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "movielens",
        abstract: "MovieLens-100K as Loupe events: the catalog, then every rating as a click in time order.",
        discussion: """
            Reads RecBole's atomic files ml-100k.inter and ml-100k.item from --from (ops/movielens.sh \
            fetches them from PyPI and prints the directory) and writes one event per line: an \
            item_upsert per movie (its first genre names the style slot, the genres and year are \
            the dense features, the frame fields are fixed placeholders), then a click per \
            rating, stably sorted by time. Users become ml-user-<id>, movies ml-movie-<id>. \
            docs/evaluation.md gives the mapping.

            Example:
              loupe topics apply
              loupe import movielens --from "$(ops/movielens.sh)" | loupe produce
              loupe learn --until-end
            """
    )

    @Option(help: ArgumentHelp("Directory with ml-100k.inter and ml-100k.item.", valueName: "dir"))
    var from: String

    @Option(help: ArgumentHelp("Write the events to this file instead of standard output.", valueName: "path"))
    var out: String?

    func run() throws {
        let events = MovieLens100K.events(
            ratings: try MovieLens100K.readRatings(directory: from), movies: try MovieLens100K.readMovies(directory: from))
        let descriptor: Int32
        if let out {
            descriptor = PrivateFiles.open(out, flags: O_WRONLY | O_TRUNC)
            guard descriptor >= 0 else { throw CLIError("cannot create \(out): \(String(cString: strerror(errno)))") }
        } else {
            descriptor = STDOUT_FILENO
        }
        defer { if out != nil { close(descriptor) } }
        let writer = OutputWriter(descriptor: descriptor)
        for event in events { try writer.writeLine(EventCodec.encode(event)) }
        try writer.flush()
        FileHandle.standardError.write(Data("import movielens: \(events.count) events to \(out ?? "stdout")\n".utf8))
    }
}
