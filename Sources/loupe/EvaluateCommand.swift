import LoupeCLI
import LoupeConfig
import ArgumentParser
import Foundation
import LoupeEvaluation
import LoupeLearning
import LoupeWorld

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure how well Loupe's models rank held-out data, next to popularity.",
        discussion: """
            --offline runs a published protocol (docs/evaluation.md): the models learn the \
            training events through the learner's own fold, one event at a time in one pass, \
            and rank the full catalog for every held-out user; popularity is scored from the \
            same fold. Hyperparameters come from --config (the learner: section); choose them \
            with --part validation, which never reads the test data.

            Protocols: temporal (first 80 % of the interactions train, the rest test), loo \
            (each user's last interaction is test), prequential (every interaction is ranked \
            before it is learned; full catalog and 100 sampled negatives).

            Datasets: movielens-100k (--from DIR, the files ops/movielens.sh fetches) and \
            generated (a world of loupe generate; --seed, --users, --items, --events and the \
            world's --popularity-skew and --noise), where the generator's true preferences \
            also rank as the oracle and each model is reported as a share of it.

            Examples:
              loupe evaluate --offline --dataset movielens-100k --from "$(ops/movielens.sh)" --protocol loo
              loupe evaluate --offline --dataset movielens-100k --from DIR --protocol temporal --part validation
              loupe evaluate --offline --dataset generated --protocol temporal --events 200000
            """
    )

    enum Dataset: String, ExpressibleByArgument, CaseIterable {
        case movielens100k = "movielens-100k"
        case generated
    }

    enum ProtocolName: String, ExpressibleByArgument, CaseIterable {
        case temporal, loo, prequential
    }

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Evaluate offline on a dataset (the streaming evaluator is planned).")
    var offline = false

    @Option(help: "movielens-100k or generated.")
    var dataset: Dataset

    @Option(help: ArgumentHelp("Directory with ml-100k.inter and ml-100k.item (movielens-100k).", valueName: "dir"))
    var from: String?

    @Option(name: .customLong("protocol"), help: "temporal, loo or prequential.")
    var protocolName: ProtocolName

    @Option(help: "test, or validation for choosing hyperparameters (temporal and loo).")
    var part: EvaluationPart = .test

    @OptionGroup var world: WorldOptions

    func validate() throws {
        guard offline else {
            throw ValidationError("only --offline evaluation exists so far; see loupe help evaluate")
        }
        if dataset == .movielens100k, from == nil {
            throw ValidationError("--dataset movielens-100k needs --from DIR (ops/movielens.sh fetches the files and prints DIR)")
        }
        if protocolName == .prequential, part == .validation {
            throw ValidationError("--part validation applies to the temporal and loo protocols")
        }
        if dataset == .generated { _ = try world.configuration() }
    }

    func run() throws {
        let configuration = try global.loadConfiguration()
        let settings = LearnerSettings(configuration.learner)
        let data: OfflineDataset
        var reference: OfflineEvaluation.Reference?
        switch dataset {
        case .movielens100k:
            data = try MovieLens100K.load(directory: from!)
        case .generated:
            let generated = try GeneratedDataset(configuration: try world.configuration())
            data = generated.dataset
            reference = generated.reference
        }
        let evaluation = OfflineEvaluation(dataset: data, settings: settings)
        print("\(data.name): \(data.events.count) events, \(data.positives.count) positives, \(data.userIds.count) users, \(data.itemIds.count) items")
        switch protocolName {
        case .temporal, .loo:
            let split = protocolName == .temporal ? data.temporalSplit(part) : data.leaveLastOutSplit(part)
            let result = evaluation.holdout(split, reference: reference)
            print(
                "protocol \(protocolName.rawValue) (\(part.rawValue)): \(result.trainEvents) training events learned at \(Self.rate(result.learnRate)) events/s; \(result.keptRows) of \(result.heldOutRows) held-out positives kept, \(split.relevant.count) users"
            )
            print(HoldoutTable(result, k: evaluation.k, cold: false).text)
            if result.models.contains(where: { $0.cold != nil }) {
                print("cold users (nothing but a face analysis before they are ranked): \(split.coldRelevant.count)")
                print(HoldoutTable(result, k: evaluation.k, cold: true).text)
            }
        case .prequential:
            let run = evaluation.prequential { done, total in
                FileHandle.standardError.write(Data("prequential: \(done) of \(total) positives\n".utf8))
            }
            print("protocol prequential: every positive ranked before it is learned; the fold learned at \(Self.rate(run.learnRate)) events/s")
            print(PrequentialTable(run, k: evaluation.k).text)
        }
    }

    static func rate(_ value: Double) -> String {
        value.formatted(.number.precision(.fractionLength(0)))
    }
}

extension EvaluationPart: ExpressibleByArgument {}

/// The generator's options, for `--dataset generated`.
struct WorldOptions: ParsableArguments {
    @Option(help: "Seed of the generated world.")
    var seed: UInt64 = 42
    @Option(help: "Shoppers in the generated world.")
    var users = 2_000
    @Option(help: "Frames in the generated world.")
    var items = 500
    @Option(help: "Events of the generated world, the catalog included.")
    var events = 200_000
    @Option(help: "How strongly frames differ in popularity in the generated world (loupe help generate).")
    var popularitySkew = 0.6
    @Option(help: "Temperature of the generated shoppers' choices (loupe help generate).")
    var noise = 1.0

    func configuration() throws -> WorldConfiguration {
        let configuration = WorldConfiguration(
            seed: seed, users: users, items: items, events: events, popularitySkew: popularitySkew, noise: noise)
        do {
            try configuration.validate()
        } catch {
            throw ValidationError(error.description)
        }
        return configuration
    }
}

/// A holdout result as a table, one row per model.
struct HoldoutTable {
    let text: String

    init(_ result: OfflineEvaluation.HoldoutResult, k: Int, cold: Bool) {
        let oracle = result.models.first { $0.model == "oracle" }.flatMap { cold ? $0.cold : $0.warm }
        var lines = [
            "model         HR@\(k)   Recall@\(k)  Precision@\(k)  NDCG@\(k)  MRR@\(k)  coverage" + (oracle != nil ? "  NDCG share of oracle" : "")
        ]
        for model in result.models {
            guard let summary = cold ? model.cold : model.warm else { continue }
            let mean = summary.mean
            var line = model.model.padding(toLength: 12, withPad: " ", startingAt: 0)
            for value in [mean.hitRate, mean.recall, mean.precision, mean.ndcg, mean.reciprocalRank, summary.coverage] {
                line += "  " + String(format: "%.4f", value).padding(toLength: 8, withPad: " ", startingAt: 0)
            }
            if let oracle, oracle.mean.ndcg > 0 { line += String(format: "  %.3f", mean.ndcg / oracle.mean.ndcg) }
            lines.append(line)
        }
        text = lines.joined(separator: "\n")
    }
}

struct PrequentialTable {
    let text: String

    init(_ run: OfflineEvaluation.PrequentialRun, k: Int) {
        var lines = ["model         full HR@\(k)  full NDCG@\(k)  sampled HR@\(k)  sampled NDCG@\(k)  events"]
        for model in run.models {
            lines.append(
                model.model.padding(toLength: 12, withPad: " ", startingAt: 0)
                    + String(
                        format: "  %.4f       %.4f         %.4f          %.4f            %d", model.fullHitRate, model.fullNDCG,
                        model.sampledHitRate, model.sampledNDCG, model.events))
        }
        text = lines.joined(separator: "\n")
    }
}
