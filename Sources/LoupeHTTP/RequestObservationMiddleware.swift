import LoupeServing
import Foundation
import Hummingbird
import Logging
import NIOHTTP1

/// Around every request: takes or makes its request id, turns every error into the API's JSON
/// error body, echoes `X-Request-Id`, and records the request's metrics.
struct RequestObservationMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    /// (`HTTPFields.Element` is swift-http-types' `HTTPField`, which Hummingbird does not re-export.)
    static let requestIdHeader = HTTPFields.Element.Name("X-Request-Id")!
    /// What a client-supplied request id may be: it ends up in impressions and logs.
    static let maximumRequestIdLength = 128

    let metrics: ServingMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response
    {
        let start = ContinuousClock.now
        var context = context
        var response: Response
        var errorCode: String?
        do {
            do {
                context.requestId = try Self.requestId(of: request)
            } catch {
                // The 400 for an invalid client id carries a generated one.
                context.requestId = Self.newRequestId()
                throw error
            }
            context.logger[metadataKey: "request_id"] = .string(context.requestId)
            response = try await next(request, context)
        } catch let error as APIError {
            if let detail = error.internalDetail {
                context.logger.error(
                    "\(error.code): \(detail)", metadata: ["path": .string(request.uri.path), "status": .stringConvertible(error.status.code)])
            }
            errorCode = error.code
            response = JSONResponse.error(error, requestId: context.requestId)
        } catch let error as HTTPError {
            let apiError = Self.apiError(from: error, requestId: context.requestId)
            if error.status.code >= 500 {
                context.logger.error("\(apiError.code): \(error)", metadata: ["path": .string(request.uri.path)])
            }
            errorCode = apiError.code
            response = JSONResponse.error(apiError, requestId: context.requestId)
        } catch HTTPParserError.invalidEOFState {
            // The connection closed before the body was whole: the client went away or a
            // timeout cut it off. Nobody receives this answer; it is counted as the client's.
            context.logger.notice("the request's body ended early (connection closed)", metadata: ["path": .string(request.uri.path)])
            errorCode = "incomplete_request"
            response = JSONResponse.error(
                .badRequest("incomplete_request", "the connection closed before the request's body was whole"), requestId: context.requestId)
        } catch {
            context.logger.error("request failed: \(error)", metadata: ["path": .string(request.uri.path)])
            errorCode = "internal_error"
            response = JSONResponse.error(
                APIError(
                    .internalServerError, code: "internal_error",
                    APIError.seeServerLog("the server failed to answer", requestId: context.requestId)),
                requestId: context.requestId)
        }
        response.headers[Self.requestIdHeader] = context.requestId
        let route = Self.routeLabel(context.endpointPath)
        if let errorCode { metrics.recordError(route: route, code: errorCode) }
        metrics.recordRequest(
            route: route, method: request.method.rawValue, status: response.status.code, duration: start.duration(to: .now))
        return response
    }

    /// The client's id when valid (1–128 of `A-Z a-z 0-9 . _ : -`), else a new one. An invalid id
    /// is refused rather than replaced, so a client never loses track of its request.
    static func requestId(of request: Request) throws(APIError) -> String {
        guard let given = request.headers[requestIdHeader] else { return newRequestId() }
        let allowed = given.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":")
                || byte == UInt8(ascii: "-")
        }
        guard !given.isEmpty, given.utf8.count <= maximumRequestIdLength, allowed else {
            throw .badRequest(
                "invalid_request_id",
                "X-Request-Id must be 1–\(maximumRequestIdLength) characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'")
        }
        return given
    }

    static func newRequestId() -> String {
        "req-" + RandomIdentifier.uuid()
    }

    /// Unmatched paths share one label, so that probing random URLs cannot grow the metrics.
    static func routeLabel(_ endpointPath: String?) -> String {
        guard let endpointPath, endpointPath != "NotFound" else { return "unmatched" }
        return endpointPath
    }

    /// Clients may send any method name; only the standard ones get a label of their own.
    static func methodLabel(_ method: HTTPRequest.Method) -> String {
        switch method {
        case .get, .post, .put, .delete, .head, .options, .patch: method.rawValue
        default: "OTHER"
        }
    }

    /// Errors Hummingbird raises itself (no such route, a body over the limit, …); a 5xx says
    /// only its status, its details are logged.
    static func apiError(from error: HTTPError, requestId: String) -> APIError {
        switch error.status {
        case .notFound:
            APIError(.notFound, code: "route_not_found", "no route for this method and path; see docs/openapi.yaml")
        case let status where status.code >= 500:
            APIError(status, code: "http_\(status.code)", APIError.seeServerLog(status.reasonPhrase, requestId: requestId))
        default:
            APIError(error.status, code: "http_\(error.status.code)", error.body ?? error.status.reasonPhrase)
        }
    }
}
