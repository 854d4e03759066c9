import Foundation

/// One `loupe` process that the chaos benchmark runs and may kill, with its standard output and
/// standard error in files of the run's directory (pipes could fill up and block a process that
/// the benchmark is not reading at that moment).
final class LoupeChild {
    let name: String
    let arguments: [String]
    let stdoutPath: String
    let stderrPath: String
    private let process = Process()
    /// Standard input as a pipe, when the child was started with `feedsStandardInput`.
    let input: FileHandle?

    /// Starts `executable` with `arguments`; `name` names its output files in `directory`.
    init(executable: String, arguments: [String], directory: String, name: String, feedsStandardInput: Bool = false) throws {
        self.name = name
        self.arguments = arguments
        stdoutPath = directory + "/\(name).out"
        stderrPath = directory + "/\(name).err"
        for path in [stdoutPath, stderrPath] where !FileManager.default.createFile(atPath: path, contents: nil) {
            throw ChaosError("cannot create \(path)")
        }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        if feedsStandardInput {
            let pipe = Pipe()
            process.standardInput = pipe
            input = pipe.fileHandleForWriting
        } else {
            process.standardInput = FileHandle.nullDevice
            input = nil
        }
        try process.run()
    }

    var isRunning: Bool { process.isRunning }
    var pid: Int32 { process.processIdentifier }

    func signal(_ number: Int32) {
        if process.isRunning { kill(process.processIdentifier, number) }
    }

    /// Waits for the exit; the status, or 128 + the signal that ended it (as a shell reports it).
    @discardableResult
    func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    var killedBySignal: Bool { process.terminationReason == .uncaughtSignal }

    var standardOutput: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var standardError: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// The last lines of standard error, for a report.
    var errorTail: String {
        standardError.split(separator: "\n").suffix(3).joined(separator: " | ")
    }
}

/// Runs `loupe` children: the benchmark's binary, in the run's directory.
struct LoupeRunner {
    let executable: String
    let directory: String
    private let counter = ChildCounter()

    init(executable: String, directory: String) {
        self.executable = executable
        self.directory = directory
    }

    /// Starts a child (`loupe`, or another `program` such as a shell that runs it); `label`
    /// becomes part of its output files' names.
    func start(_ arguments: [String], label: String, feedsStandardInput: Bool = false, program: String? = nil) throws -> LoupeChild {
        try LoupeChild(
            executable: program ?? executable, arguments: arguments, directory: directory, name: "\(counter.next())-\(label)",
            feedsStandardInput: feedsStandardInput)
    }

    /// Runs a child to its end; throws with its standard error if it fails.
    @discardableResult
    func run(_ arguments: [String], label: String) throws -> LoupeChild {
        let child = try start(arguments, label: label)
        let status = child.wait()
        guard status == 0 else {
            throw ChaosError("loupe \(arguments.joined(separator: " ")) exited \(status): \(child.standardError)")
        }
        return child
    }
}

/// Numbers the children of a run, so that their output files sort in the order they ran.
final class ChildCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func next() -> String {
        lock.lock()
        defer { lock.unlock() }
        count += 1
        return String(format: "%03d", count)
    }
}

public struct ChaosError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
