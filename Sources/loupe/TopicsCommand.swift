import ArgumentParser

struct Topics: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Not yet implemented.")
}
