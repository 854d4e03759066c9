import LoupeConcurrency
import LoupeServing
import Foundation

/// One blocking question to the log (does it answer, what are its watermarks), asked at most
/// once at a time, its answer shared and reused for a while.
///
/// Callers that arrive while the question is in flight wait for that answer instead of asking
/// again, and an answer is reused for `freshFor`. A question that outlives `timeout` still holds
/// its place until the log returns, and whoever asks meanwhile is told at once that the log did
/// not answer: a log that hangs never gathers a queue of questions behind it, however many
/// probes arrive.
final class SharedLogQuery<Value: Sendable>: @unchecked Sendable {
    enum Outcome: Sendable {
        case answered(Value)
        case failed(String)
        case timedOut
    }

    /// An outcome, the key it answers, and the request whose call asked the log for it.
    struct Answer: Sendable {
        var outcome: Outcome
        var key: String
        var askedBy: String
    }

    private let queue: BlockingQueue
    let timeout: Duration
    private let freshFor: Duration

    /// Guards every variable below it.
    private let lock = NSLock()
    private var cached: (answer: Answer, at: ContinuousClock.Instant)?
    private var inFlight: (key: String, task: Task<Answer, Never>)?
    /// The log has not returned from the last question yet (it may have outlived its timeout).
    private var outstanding = false

    init(queue: BlockingQueue, timeout: Duration, freshFor: Duration) {
        self.queue = queue
        self.timeout = timeout
        self.freshFor = freshFor
    }

    private enum Step {
        case done(Answer)
        case share(Task<Answer, Never>)
        case waitThenAskAgain(Task<Answer, Never>)
    }

    /// The answer for `key`: cached, shared with the call in flight, or asked now by running
    /// `question` on the queue on behalf of `requestId`.
    func answer(key: String, requestId: String, _ question: @escaping @Sendable () throws -> Value) async -> Answer {
        while true {
            let step: Step = lock.withLock {
                if let cached, cached.answer.key == key, cached.at.duration(to: .now) < freshFor { return .done(cached.answer) }
                if let inFlight { return inFlight.key == key ? .share(inFlight.task) : .waitThenAskAgain(inFlight.task) }
                let task = Task { [self] in
                    let answer = Answer(outcome: await ask(question), key: key, askedBy: requestId)
                    lock.withLock {
                        cached = (answer, .now)
                        inFlight = nil
                    }
                    return answer
                }
                inFlight = (key, task)
                return .share(task)
            }
            switch step {
            case .done(let answer): return answer
            case .share(let task): return await task.value
            case .waitThenAskAgain(let task): _ = await task.value
            }
        }
    }

    private func ask(_ question: @escaping @Sendable () throws -> Value) async -> Outcome {
        let busy = lock.withLock {
            if outstanding { return true }
            outstanding = true
            return false
        }
        if busy { return .timedOut }
        do {
            let value: Value? = try await queue.run(timeout: timeout) { [self] in
                defer { lock.withLock { outstanding = false } }
                return try question()
            }
            return value.map { Outcome.answered($0) } ?? .timedOut
        } catch {
            return .failed("\(error)")
        }
    }
}
