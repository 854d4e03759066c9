import LoupeServing
import Hummingbird

/// Hummingbird's per-request context, plus the request id every response echoes.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's `X-Request-Id` when it gave a valid one, otherwise generated; set by
    /// `RequestObservationMiddleware` before any route runs.
    public var requestId = ""

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}
