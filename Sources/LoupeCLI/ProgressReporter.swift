import Foundation

/// Shows the progress of long work on stderr, at most a few times a second, and only when
/// stderr is a terminal: scripts and CI logs get the final summary alone.
package final class ProgressReporter {
    private let label: String
    private let total: Int?
    private let enabled: Bool
    private let start = ContinuousClock.now
    private var lastDraw = ContinuousClock.now - .seconds(1)
    private var drewSomething = false

    package init(_ label: String, total: Int? = nil) {
        self.label = label
        self.total = total
        enabled = isatty(STDERR_FILENO) == 1
    }

    /// Cheap enough to call for every item: it only draws every 200 ms.
    package func update(_ done: Int, detail: String = "") {
        guard enabled else { return }
        let now = ContinuousClock.now
        guard now - lastDraw >= .milliseconds(200) else { return }
        lastDraw = now
        draw(done, detail: detail, now: now)
    }

    /// Clears the progress line so that the summary that follows starts on a clean line.
    package func finish() {
        guard enabled, drewSomething else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    private func draw(_ done: Int, detail: String, now: ContinuousClock.Instant) {
        let seconds = Double((now - start).components.attoseconds) / 1e18 + Double((now - start).components.seconds)
        let rate = seconds > 0 ? Int(Double(done) / seconds) : 0
        var line = "\r\u{1B}[K\(label): \(done)"
        if let total, total > 0 { line += "/\(total) (\(done * 100 / total)%)" }
        line += ", \(rate)/s"
        if let total, rate > 0, done < total { line += ", ETA \(Self.clock((total - done) / rate))" }
        if !detail.isEmpty { line += ", \(detail)" }
        FileHandle.standardError.write(Data(line.utf8))
        drewSomething = true
    }

    /// `m:ss`, or `h:mm:ss` from an hour on.
    private static func clock(_ seconds: Int) -> String {
        let (hours, minutes, rest) = (seconds / 3600, seconds / 60 % 60, seconds % 60)
        let tail = String(format: "%02d:%02d", minutes, rest)
        return hours > 0 ? "\(hours):\(tail)" : "\(minutes):\(String(format: "%02d", rest))"
    }
}
