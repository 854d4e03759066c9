import LoupeCLI
import ArgumentParser
import Foundation
import LoupeEvents
import LoupeLMDB
import LoupeWorld

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a deterministic synthetic eyewear shop's events as JSON lines.",
        discussion: """
            Simulates a shop: a catalog of frames (one item_upsert each, first), then shoppers \
            with a face shape who arrive in sessions, get a face analysis on their first visit, \
            view frames chosen by a planted choice model, click, try on, add to cart, buy, like, \
            dislike, rate and return. Events come in timestamp order from 2026-01-01T00:00:00Z \
            in simulated time, one JSON object per line, exactly --events lines in all (the \
            catalog included). The same options give the same bytes on every machine.

            --truth writes what the events hide (true face shapes, each shopper's true score \
            for every style, the latent tastes, the affinity matrix), so that an evaluator can \
            compare a model's rankings with the best possible ones. --drift-at changes the \
            face-shape × style affinity part-way through, to exercise drift detection. \
            docs/synthetic-world.md describes the model and the truth file.

            A summary goes to standard error, with progress while it runs when standard error \
            is a terminal.

            Examples:
              loupe generate --events 10000 --seed 1 | loupe produce
              loupe generate --drift-at 50000 --out world.jsonl --truth truth.jsonl
            """
    )

    @Option(help: "Seed of every random draw; the same seed and options give the same output.")
    var seed: UInt64 = 42

    @Option(help: "Number of shoppers.")
    var users = 2_000

    @Option(help: "Number of frames in the catalog.")
    var items = 500

    @Option(help: "Total number of events written, the catalog's --items item_upsert events included.")
    var events = 100_000

    @Option(help: ArgumentHelp(
        "Change the face-shape × style affinity once this many events have been written.",
        valueName: "n"))
    var driftAt: Int?

    @Option(help: "How strongly frames differ in popularity (0: not at all; the utility's popularity term is this × (mean ln rank − ln rank)).")
    var popularitySkew = 0.6

    @Option(help: "Temperature of the shoppers' choice of what to view: 1 as documented, higher is noisier, lower sharper.")
    var noise = 1.0

    @Option(help: ArgumentHelp("Write the events to this file instead of standard output.", valueName: "path"))
    var out: String?

    @Option(help: ArgumentHelp("Also write the ground truth, as JSON lines, to this file.", valueName: "path"))
    var truth: String?

    var worldConfiguration: WorldConfiguration {
        WorldConfiguration(
            seed: seed, users: users, items: items, events: events, driftAt: driftAt, popularitySkew: popularitySkew, noise: noise)
    }

    func validate() throws {
        do {
            try worldConfiguration.validate()
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        let started = ContinuousClock.now
        let world = try SyntheticWorld(worldConfiguration)
        if let truth {
            let descriptor = try Self.create(truth)
            defer { close(descriptor) }
            let writer = OutputWriter(descriptor: descriptor)
            try world.forEachTruthLine { try writer.writeLine($0) }
            try writer.flush()
        }

        let descriptor = try out.map(Self.create) ?? STDOUT_FILENO
        defer { if out != nil { close(descriptor) } }
        let writer = OutputWriter(descriptor: descriptor)
        let progress = ProgressReporter("generate", total: events)
        var counts: [String: Int] = [:]
        var stream = world.events()
        while let event = stream.next() {
            try writer.writeLine(EventCodec.encode(event))
            counts[event.type, default: 0] += 1
            if stream.emitted % 4_096 == 0 { progress.update(stream.emitted) }
        }
        try writer.flush()
        progress.finish()

        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let perType = counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let summary = "generate: \(stream.emitted) events (seed \(seed)) to \(out ?? "stdout") in "
            + "\(String(format: "%.2f", seconds)) s\n  \(perType)\n"
        FileHandle.standardError.write(Data(summary.utf8))
    }

    private static func create(_ path: String) throws -> Int32 {
        let descriptor = PrivateFiles.open(path, flags: O_WRONLY | O_TRUNC)
        guard descriptor >= 0 else { throw CLIError("cannot create \(path): \(String(cString: strerror(errno)))") }
        return descriptor
    }
}
