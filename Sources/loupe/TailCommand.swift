import ArgumentParser

struct Tail: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Not yet implemented.")
}
