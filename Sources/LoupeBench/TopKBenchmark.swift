import LoupeML
import CBLAS
import Foundation
import LoupeLMDB
import LoupeServing

/// Exact inner-product top-k of single queries over an item matrix, three ways on the same data:
/// the serving path (`ItemScoring`'s `cblas_sgemv` over the transposed matrix, then
/// `TopSelection`), a plain baseline (`cblas_sgemv` over the item rows, then a full sort of all
/// scores), and FAISS `IndexFlatIP` (ops/bench/faiss_topk.py in a Python
/// subprocess) when the interpreter has `faiss`.
public enum TopKBenchmark {
    public struct Row: Sendable {
        public var k: Int
        public var ours: LatencySummary
        /// The heap alone (`TopSelection` without a workspace), as before the partition path.
        public var oursHeap: LatencySummary
        public var oursAllThreads: LatencySummary
        public var baseline: LatencySummary
        public var faiss: LatencySummary?
        /// Queries whose top-k item set FAISS and ours agree on exactly.
        public var faissAgreement: Double?
    }

    public struct Result: Sendable {
        public var rows: [Row]
        /// What the FAISS run said about itself, or why it did not run.
        public var faissNote: String
    }

    /// - Parameters:
    ///   - items: `count × dimension`, row-major; `itemsByDimension` its transpose.
    ///   - queries: `queryCount × dimension`, row-major.
    ///   - python: the interpreter for the FAISS script; `script` its path.
    public static func run(
        items: [Float], itemsByDimension: [Float], count: Int, dimension: Int, queries: [Float], ks: [Int], python: String,
        script: String
    ) throws -> Result {
        let queryCount = queries.count / dimension
        var rows: [Row] = []
        var ourTopSets: [Int: [[Int32]]] = [:]
        let scores = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        defer { scores.deallocate() }
        let capacity = ks.max() ?? 0
        let heapRows = UnsafeMutableBufferPointer<Int32>.allocate(capacity: capacity)
        let heapScores = UnsafeMutableBufferPointer<Float>.allocate(capacity: capacity)
        let workspace = UnsafeMutableBufferPointer<TopSelection.Candidate>.allocate(capacity: count)
        workspace.initialize(repeating: TopSelection.Candidate(score: 0, row: 0))
        defer {
            heapRows.deallocate()
            heapScores.deallocate()
            workspace.deallocate()
        }
        var order = [Int32](repeating: 0, count: count)

        func score(_ query: Int) {
            itemsByDimension.withUnsafeBufferPointer { items in
                queries.withUnsafeBufferPointer { queries in
                    ItemScoring.score(
                        itemsByDimension: items.baseAddress!, itemCount: count, dimension: dimension,
                        queries: queries.baseAddress! + query * dimension, queryCount: 1, into: scores.baseAddress!, stride: count)
                }
            }
        }
        func baselineScore(_ query: Int) {
            items.withUnsafeBufferPointer { items in
                queries.withUnsafeBufferPointer { queries in
                    ItemScoring.score(
                        itemRows: items.baseAddress!, itemCount: count, dimension: dimension,
                        query: queries.baseAddress! + query * dimension, into: scores.baseAddress!)
                }
            }
        }
        func ours(_ query: Int, _ k: Int) -> Int {
            score(query)
            return TopSelection.select(
                UnsafeBufferPointer(scores), mask: nil, limit: k, rows: heapRows, scores: heapScores, workspace: workspace)
        }
        func measure(_ body: (Int) -> Void) -> LatencySummary {
            for query in 0..<min(20, queryCount) { body(query) }
            var samples: [UInt64] = []
            samples.reserveCapacity(queryCount)
            for query in 0..<queryCount {
                let start = monotonicNanoseconds()
                body(query)
                samples.append(monotonicNanoseconds() - start)
            }
            return LatencySummary(nanoseconds: samples)
        }

        for k in ks {
            let threads = openblas_get_num_threads()
            let allThreads = measure { _ = ours($0, k) }
            openblas_set_num_threads(1)
            let single = measure { _ = ours($0, k) }
            let heap = measure { query in
                score(query)
                _ = TopSelection.select(UnsafeBufferPointer(scores), mask: nil, limit: k, rows: heapRows, scores: heapScores)
            }
            var sets: [[Int32]] = []
            for query in 0..<queryCount {
                let selected = ours(query, k)
                sets.append(Array(heapRows[0..<selected]).sorted())
            }
            ourTopSets[k] = sets
            let baseline = measure { query in
                baselineScore(query)
                for row in 0..<count { order[row] = Int32(row) }
                let values = UnsafeBufferPointer(scores)
                order.sort { values[Int($0)] != values[Int($1)] ? values[Int($0)] > values[Int($1)] : $0 < $1 }
            }
            openblas_set_num_threads(threads)
            rows.append(Row(k: k, ours: single, oursHeap: heap, oursAllThreads: allThreads, baseline: baseline))
        }

        let faiss = try runFaiss(
            items: items, count: count, dimension: dimension, queries: queries, ks: ks, python: python, script: script)
        if let measured = faiss.results {
            for index in rows.indices {
                let k = rows[index].k
                guard let entry = measured[k] else { continue }
                rows[index].faiss = entry.latency
                if let ours = ourTopSets[k] {
                    let agreeing = zip(ours, entry.ids).filter { $0 == $1 }.count
                    rows[index].faissAgreement = Double(agreeing) / Double(max(1, ours.count))
                }
            }
        }
        return Result(rows: rows, faissNote: faiss.note)
    }

    private struct FaissEntry {
        var latency: LatencySummary
        /// Per query, the top-k item rows, sorted.
        var ids: [[Int32]]
    }

    /// Runs the FAISS script on the same matrix and queries (raw little-endian Float32 files);
    /// nil results with a note when Python or faiss is missing or the script fails.
    private static func runFaiss(
        items: [Float], count: Int, dimension: Int, queries: [Float], ks: [Int], python: String, script: String
    ) throws -> (results: [Int: FaissEntry]?, note: String) {
        let probe = try runProcess(python, ["-c", "import faiss"])
        guard probe.status == 0 else { return (nil, "faiss: not installed (\(python) cannot import faiss)") }
        guard FileManager.default.fileExists(atPath: script) else { return (nil, "faiss: script \(script) not found") }
        let directory = NSTemporaryDirectory() + "loupe-bench-faiss-\(UUID().uuidString)"
        try PrivateFiles.createDirectory(directory, ifExisting: .warnIfShared)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let itemPath = directory + "/items.f32"
        let queryPath = directory + "/queries.f32"
        try items.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: itemPath)) }
        try queries.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: queryPath)) }
        let outPath = directory + "/out"
        let run = try runProcess(
            python,
            [
                script, "--items", itemPath, "--queries", queryPath, "--dimension", String(dimension), "--k",
                ks.map(String.init).joined(separator: ","), "--out", outPath,
            ])
        guard run.status == 0 else { return (nil, "faiss: script failed (exit \(run.status)): \(run.stderr)") }
        // Summary lines: "k <k> <p50 ms> <p99 ms> <mean ms> <max ms> <n>", then "note <text>".
        var results: [Int: FaissEntry] = [:]
        var note = "faiss"
        for line in run.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.first == "note" {
                note = fields.dropFirst().joined(separator: " ")
            } else if fields.first == "k", fields.count == 7, let k = Int(fields[1]) {
                let numbers = fields[2...5].compactMap { Double($0) }
                guard numbers.count == 4, let n = Int(fields[6]) else { continue }
                let ids = try Data(contentsOf: URL(fileURLWithPath: "\(outPath).k\(k).i64"))
                let rows = ids.withUnsafeBytes { raw in
                    let values = raw.bindMemory(to: Int64.self)
                    return (0..<n).map { query in
                        values[query * k..<(query + 1) * k].map { Int32(Int64(littleEndian: $0)) }.sorted()
                    }
                }
                results[k] = FaissEntry(
                    latency: LatencySummary(count: n, p50: numbers[0], p99: numbers[1], mean: numbers[2], max: numbers[3]),
                    ids: rows)
            }
        }
        return (results, note)
    }

    static func runProcess(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        DispatchQueue.global().async(group: group) { outData = output.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { errData = errors.fileHandleForReading.readDataToEndOfFile() }
        process.waitUntilExit()
        group.wait()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }
}

extension TopKBenchmark {
    /// The retrieval scan of `ItemScoring` for batches of queries, as `ScoringQueue` runs it for
    /// coalesced requests: milliseconds per batch and per query at each batch size.
    public struct BatchRow: Sendable {
        public var batch: Int
        public var perBatch: LatencySummary
        public var perQueryMilliseconds: Double { perBatch.mean / Double(batch) }
    }

    /// Scores `batch` of the queries at a time (cycling through them) against all items, for
    /// each batch size, `rounds` times each, on the calling thread (set the BLAS threads first).
    public static func batchedScoring(
        itemsByDimension: [Float], count: Int, dimension: Int, queries: [Float], batchSizes: [Int], rounds: Int
    ) -> [BatchRow] {
        let queryCount = queries.count / dimension
        let largest = batchSizes.max() ?? 1
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: max(1, largest * count))
        let gathered = UnsafeMutablePointer<Float>.allocate(capacity: largest * dimension)
        defer {
            scores.deallocate()
            gathered.deallocate()
        }
        var rows: [BatchRow] = []
        var next = 0
        for batch in batchSizes {
            var samples: [UInt64] = []
            for round in -3..<rounds {
                queries.withUnsafeBufferPointer { queries in
                    for slot in 0..<batch {
                        (gathered + slot * dimension).update(
                            from: queries.baseAddress! + (next % queryCount) * dimension, count: dimension)
                        next += 1
                    }
                }
                let start = monotonicNanoseconds()
                itemsByDimension.withUnsafeBufferPointer { items in
                    ItemScoring.score(
                        itemsByDimension: items.baseAddress!, itemCount: count, dimension: dimension, queries: gathered,
                        queryCount: batch, into: scores, stride: count)
                }
                if round >= 0 { samples.append(monotonicNanoseconds() - start) }
            }
            rows.append(BatchRow(batch: batch, perBatch: LatencySummary(nanoseconds: samples)))
        }
        return rows
    }
}
