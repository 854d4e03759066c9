import Foundation

/// The cores this process may run on: its CPU affinity (`taskset`, cgroup cpusets) where Linux
/// reports it (`Cpus_allowed` in /proc/self/status), else every active core. Work sized by
/// cores, and reports of the machine, use this: the machine's core count ignores affinity.
public var usableCores: Int {
    let active = ProcessInfo.processInfo.activeProcessorCount
    let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)
    return min(status.flatMap(allowedCores(inStatus:)) ?? active, active)
}

/// The number of cores in the `Cpus_allowed` mask of a /proc/PID/status text: hexadecimal in
/// comma-separated groups, e.g. "Cpus_allowed:\t00000000,00000003" (2). Nil if there is no such
/// line, it is malformed, or it allows nothing.
func allowedCores(inStatus status: String) -> Int? {
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) else { return nil }
    var allowed = 0
    for character in line.dropFirst("Cpus_allowed:".count) where character != "," && !character.isWhitespace {
        guard let digit = character.hexDigitValue else { return nil }
        allowed += digit.nonzeroBitCount
    }
    return allowed > 0 ? allowed : nil
}
