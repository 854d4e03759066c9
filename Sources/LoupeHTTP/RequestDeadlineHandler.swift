import LoupeServing
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request has not arrived whole within `timeout` of its head.
///
/// Hummingbird's idle timeout closes a connection on which nothing arrives for a while, which
/// also bounds how long a request's head may take; but every body part resets it, so a client
/// that trickles a body a byte at a time would hold its connection for ever. This bounds the
/// body. It sits after HTTP decoding, so it sees request heads, body parts and ends.
final class RequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let timeout: TimeAmount
    private let onTimeout: @Sendable () -> Void
    private var deadline: Scheduled<Void>?

    /// - Parameter onTimeout: called on the event loop just before the connection is closed.
    init(timeout: Duration, onTimeout: @escaping @Sendable () -> Void) {
        self.timeout = TimeAmount(timeout)
        self.onTimeout = onTimeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            start(context)
        case .end:
            cancel()
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancel()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancel()
    }

    private func start(_ context: ChannelHandlerContext) {
        cancel()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            deadline = nil
            onTimeout()
            context.close(promise: nil)
        }
    }

    private func cancel() {
        deadline?.cancel()
        deadline = nil
    }
}

@available(*, unavailable)
extension RequestDeadlineHandler: Sendable {}
