import LoupeServing
import Foundation
import Hummingbird

/// JSON response bodies: one encoder configuration for the whole API.
enum JSONResponse {
    static let contentType = "application/json; charset=utf-8"

    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        var headers = headers
        headers[.contentType] = contentType
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A body that writes itself: the same bytes as `make(_:)` gives, without an encoder.
    static func make(_ value: some DirectJSONBody, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        let bytes = try value.jsonBytes()
        var headers = headers
        headers[.contentType] = contentType
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func error(_ error: APIError, requestId: String) -> Response {
        let body = ErrorBody(error: .init(code: error.code, message: error.message), requestId: requestId)
        // Encoding strings and a fixed shape cannot fail; a bodiless response is the fallback.
        return (try? make(body, status: error.status, headers: error.headers))
            ?? Response(status: error.status, headers: error.headers)
    }
}
