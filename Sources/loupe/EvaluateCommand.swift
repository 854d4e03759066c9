import ArgumentParser
import LoupeEvaluation
import LoupeStore

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score the learned state against a synthetic world's ground truth.",
        discussion: """
            For each user of the truth file (`loupe generate --truth FILE`), ranks the 20 frame \
            styles by the learned scores and measures how well the user's three planted-best \
            styles come first (AUC: 0.5 is chance, 1 is perfect), next to a ranking by popularity.

            Example:
              loupe generate --events 100000 --truth truth.jsonl | loupe produce
              loupe learn --until-end
              loupe evaluate --truth truth.jsonl
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("The truth file written by loupe generate --truth.", valueName: "file"))
    var truth: String

    func run() throws {
        let configuration = try global.loadConfiguration()
        let store = try StateStore(directory: configuration.log.data, readOnly: true)
        let result = try PlantedPreferences(truthFile: truth).evaluate(store)
        print("planted-best styles ranked first, mean AUC over \(result.users) users:")
        print("  learned     \(String(format: "%.3f", result.learnedAUC))")
        print("  popularity  \(String(format: "%.3f", result.popularityAUC))")
    }
}
