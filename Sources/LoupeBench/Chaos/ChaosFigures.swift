/// What one chaos scenario counted, and the invariants it found broken.
public struct ChaosFigures: Sendable {
    public var scenario: String
    public var backend: String
    /// Lines given to `loupe produce`, poison lines included.
    public var sent = 0
    /// Lines `loupe produce` accepted into the log.
    public var accepted = 0
    /// Lines `loupe produce` rejected to dead-letter, and records the learner dead-lettered.
    public var deadLettered = 0
    /// Accepted events that never reached the state (must be 0).
    public var lost = 0
    /// Events stored or applied more than once (must be 0).
    public var duplicated = 0
    public var killsSurvived = 0
    /// Further counted figures, one line each.
    public var details: [String] = []
    /// Broken invariants; empty when the scenario passed.
    public var failures: [String] = []

    public init(scenario: String, backend: String) {
        self.scenario = scenario
        self.backend = backend
    }

    public var passed: Bool { failures.isEmpty }

    /// Records a failure unless `condition` holds.
    mutating func check(_ condition: Bool, _ failure: @autoclosure () -> String) {
        if !condition { failures.append(failure()) }
    }

    mutating func checkNothingLostOrDuplicated() {
        let (lost, duplicated) = (lost, duplicated)
        check(lost == 0, "\(lost) events lost")
        check(duplicated == 0, "\(duplicated) events duplicated")
    }

    /// The summary line (the tests read it), then the details and failures.
    public var report: String {
        var text = "chaos \(scenario) \(backend): sent \(sent), accepted \(accepted), dead-lettered \(deadLettered), "
        text += "lost \(lost), duplicated \(duplicated), kills survived \(killsSurvived): \(passed ? "PASSED" : "FAILED")\n"
        for line in details { text += "  \(line)\n" }
        for failure in failures { text += "  FAILED: \(failure)\n" }
        return text
    }
}
