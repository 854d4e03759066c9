import Dispatch

/// Maps `transform` over `count` indices on every core, in chunks, and returns the results in
/// index order. Loupe's per-event work (validation, encoding) is independent from event to
/// event, so a batch of events can use both cores of a small machine while the order of the
/// results — and so of what is written to the log — stays the input order.
public func parallelMap<Output: Sendable>(count: Int, chunkSize: Int = 512, _ transform: @Sendable (Int) -> Output) -> [Output] {
    guard count > chunkSize else { return (0..<count).map(transform) }
    let slots = ResultSlots<Output>(count: count)
    let chunks = (count + chunkSize - 1) / chunkSize
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        for index in chunk * chunkSize..<min(count, (chunk + 1) * chunkSize) {
            slots.store(transform(index), at: index)
        }
    }
    return slots.collect()
}

/// Storage that each index of a `parallelMap` writes exactly once, from whichever thread runs
/// its chunk; `concurrentPerform` returning is what makes every write visible to `collect`.
private final class ResultSlots<Output>: @unchecked Sendable {
    private let buffer: UnsafeMutableBufferPointer<Output>

    init(count: Int) {
        buffer = .allocate(capacity: count)
    }

    func store(_ value: Output, at index: Int) {
        (buffer.baseAddress! + index).initialize(to: value)
    }

    /// Moves the results out; every slot must have been stored.
    func collect() -> [Output] {
        let results = Array(UnsafeMutableBufferPointer(start: buffer.baseAddress, count: buffer.count))
        buffer.baseAddress!.deinitialize(count: buffer.count)
        return results
    }

    deinit {
        buffer.deallocate()
    }
}
