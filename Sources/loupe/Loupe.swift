import LoupeCLI
import ArgumentParser

@main
struct Loupe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loupe",
        abstract: "Loupe: an event-sourced, online-learning recommendation engine for eyewear.",
        discussion: """
            Every fact enters through a topic of Loupe's log. Without --brokers the log is the \
            embedded one under --data (default ./loupe-data); with --brokers it is Kafka.

            Start with:
              loupe topics apply
              loupe generate --events 10000 --seed 1 | loupe produce
              loupe tail --topic interactions --from-beginning --until-end --max 5
            """,
        subcommands: [
            Topics.self, Produce.self, Tail.self, Generate.self, Import.self, Learn.self, Replay.self, Store.self, Evaluate.self,
            Recommend.self, Bench.self, Serve.self,
        ]
    )
}
