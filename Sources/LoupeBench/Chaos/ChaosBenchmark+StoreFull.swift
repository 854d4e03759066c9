import Foundation

extension ChaosBenchmark {
    /// The state store's file reaching the most the system lets it grow while the learner
    /// writes, then room made and the learner run again.
    ///
    /// Loupe's LMDB map is no hard limit: a write that fills it doubles it and runs again
    /// (docs/state-store.md). What stops a store from growing is the file system, so this
    /// scenario imposes a file-size limit on the learner (RLIMIT_FSIZE through `prlimit`, with
    /// SIGXFSZ ignored, so that a write beyond it fails with EFBIG as on a full disk) at half the
    /// size the store reaches in an uninterrupted run. The learner must stop with an error that
    /// says so; the store must still open and hold a consistent earlier commit; and the learner
    /// run again without the limit must end with the uninterrupted run's checksum.
    ///
    /// The log is Kafka: the limit applies to every file the learner writes, and with the
    /// embedded log that includes the log's own file (larger than the store), which would fill first.
    public func fillStore(brokers: String) throws -> ChaosFigures {
        let backend = "kafka"
        var figures = ChaosFigures(scenario: "store-full", backend: backend)
        let steady = try ChaosSubject(name: "full-\(backend)-steady", directory: directory, brokers: brokers, batchSize: batchSize)
        let limited = try ChaosSubject(name: "full-\(backend)-limited", directory: directory, brokers: brokers, batchSize: batchSize)
        let produced = try produceAll(into: steady)
        _ = try produceAll(into: limited)
        figures.sent = lines.count
        figures.accepted = produced.accepted

        say("chaos store-full \(backend): uninterrupted run")
        try runner.run(["learn", "--until-end"] + steady.options, label: "\(steady.name)-learn")
        let expected = try steady.checksum()
        let expectedCounts = try steady.counters()
        let storeBytes = steady.storeFileBytes()
        let limit = storeBytes / 2
        let total = try limited.learnedRecords()

        say("chaos store-full \(backend): learner limited to files of \(limit) bytes")
        let limitedRun = try runner.start(
            ["-c", "trap '' XFSZ; exec prlimit --fsize=\(limit) -- \"$@\"", "sh", runner.executable, "learn", "--until-end"]
                + limited.options, label: "\(limited.name)-limited", program: "/bin/sh")
        let status = limitedRun.wait()
        let message = limitedRun.errorTail
        let foldedAtError = try limited.foldedRecords()
        let bytesAtError = limited.storeFileBytes()
        figures.check(status != 0, "the learner limited to \(limit) bytes exited 0; the limit was never reached")
        figures.check(!limitedRun.killedBySignal, "the limited learner died of a signal (\(status)) instead of reporting an error")
        figures.check(message.contains("ulimit -f"), "the limited learner's error does not name the cause: \(message)")
        // The store as the failed learner left it: it opens, and its checksum can be read (every
        // page of its last commit is there).
        let checksumAtError = try limited.checksum()
        figures.check(foldedAtError < total, "the learner folded the whole log (\(total) records) under the limit")

        say("chaos store-full \(backend): learner run again without the limit")
        let resumed = try runner.run(["learn", "--until-end"] + limited.options, label: "\(limited.name)-resumed")
        let checksum = try limited.checksum()
        let counts = try limited.counters()
        let folded = try limited.foldedRecords()
        figures.deadLettered = produced.rejected + Int(counts.deadLettered)
        figures.lost = Int(max(0, expectedCounts.applied - counts.applied) + max(0, total - folded))
        figures.duplicated = Int(max(0, counts.applied - expectedCounts.applied))
        figures.details = [
            "uninterrupted run's store file \(storeBytes) B; limit \(limit) B",
            "limited learner: exit \(status) after \(foldedAtError) of \(total) records, store file \(bytesAtError) B; error: \(message)",
            "store after the error opened read-only, checksum \(checksumAtError)",
            "resumed without the limit: re-applied \(Self.reappliedBatches(resumed.standardError)) recorded batch(es), counters \(counts)",
            "checksum \(checksum == expected ? "equal" : "DIFFERENT"): \(checksum)",
        ]
        figures.check(checksum == expected, "the resumed run's checksum differs from the uninterrupted run's")
        figures.check(counts == expectedCounts, "the learner's counters differ: \(counts) against \(expectedCounts)")
        figures.checkNothingLostOrDuplicated()
        return figures
    }
}
