import LoupeServing
import Hummingbird

/// A request the API refuses, with what a client needs to fix it: an HTTP status, a stable
/// machine-readable `code` and a sentence for people. Every error response carries the body
/// `{"error": {"code": …, "message": …}, "request_id": …}`, plus `details` where a route adds them.
///
/// A failure of the server's own (5xx) tells the client only what failed and the request id;
/// the cause (`internalDetail`, such as the log client's error) goes to the server log, at
/// error level, under that request id.
struct APIError: Error, Sendable {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    var headers: HTTPFields = [:]
    /// Logged with the request id, never sent to the client.
    var internalDetail: String?

    init(_ status: HTTPResponse.Status, code: String, _ message: String, headers: HTTPFields = [:], internalDetail: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.internalDetail = internalDetail
    }

    /// The message of a 5xx whose details are in the server log.
    static func seeServerLog(_ what: String, requestId: String) -> String {
        "\(what); see the server log, request id \(requestId)"
    }

    static func badRequest(_ code: String, _ message: String) -> APIError {
        APIError(.badRequest, code: code, message)
    }
}

/// The body of every error response.
struct ErrorBody: Encodable {
    struct Detail: Encodable {
        var code: String
        var message: String
    }

    var error: Detail
    var requestId: String

    enum CodingKeys: String, CodingKey {
        case error
        case requestId = "request_id"
    }
}
