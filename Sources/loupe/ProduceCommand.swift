import ArgumentParser

struct Produce: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Not yet implemented.")
}
