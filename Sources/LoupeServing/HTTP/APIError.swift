import Hummingbird

/// A request the API refuses, with what a client needs to fix it: an HTTP status, a stable
/// machine-readable `code` and a sentence for people. Every error response carries the body
/// `{"error": {"code": …, "message": …}, "request_id": …}`, plus `details` where a route adds them.
struct APIError: Error, Sendable {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
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
