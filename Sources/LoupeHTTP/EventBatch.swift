import LoupeServing
import Foundation
import Hummingbird

/// The body of `POST /v1/events` split into one byte string per event, before validation.
///
/// `Content-Type: application/json` is a JSON array of events; `application/x-ndjson` is one
/// event per line, as `loupe produce` reads (a trailing `\r` is removed; lines of only spaces
/// and tabs are skipped). Only the framing is checked here: each event's bytes go, exactly as
/// sent, to the same validation as `loupe produce`, so one bad event never hides the others.
struct EventBatch {
    enum Format: String {
        case jsonArray = "application/json"
        case jsonLines = "application/x-ndjson"
    }

    struct Entry {
        var bytes: ArraySlice<UInt8>
        /// 1-based line of the body, for JSON lines.
        var line: Int?
    }

    var format: Format
    var entries: [Entry]

    static func format(contentType: String?) throws(APIError) -> Format {
        let mediaType = contentType?.split(separator: ";", maxSplits: 1).first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        guard let mediaType, let format = Format(rawValue: mediaType) else {
            throw APIError(
                .unsupportedMediaType, code: "unsupported_media_type",
                "Content-Type must be application/json (a JSON array of events) or application/x-ndjson (one event per line), got "
                    + (contentType.map { "\"\(QueryParameters.quoted($0))\"" } ?? "none"))
        }
        return format
    }

    /// Reads the whole body, refusing (413) as soon as it exceeds `limit` bytes.
    static func collect(_ request: Request, limit: Int) async throws -> [UInt8] {
        let tooLarge = APIError(
            .contentTooLarge, code: "body_too_large",
            "the request body exceeds server.max_body_bytes (\(limit) bytes); send fewer events per request")
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit { throw tooLarge }
        var bytes: [UInt8] = []
        for try await buffer in request.body {
            guard bytes.count + buffer.readableBytes <= limit else { throw tooLarge }
            bytes.append(contentsOf: buffer.readableBytesView)
        }
        return bytes
    }

    /// Splits `body`; more than `maxEvents` events is a 413 and nothing is written.
    init(_ body: [UInt8], format: Format, maxEvents: Int) throws(APIError) {
        self.format = format
        switch format {
        case .jsonArray: entries = try Self.splitArray(body, maxEvents: maxEvents)
        case .jsonLines: entries = try Self.splitLines(body, maxEvents: maxEvents)
        }
        guard !entries.isEmpty else {
            throw .badRequest("empty_batch", "the body holds no events")
        }
    }

    private static func tooMany(_ maxEvents: Int) -> APIError {
        APIError(
            .contentTooLarge, code: "too_many_events",
            "the body holds more than server.max_events_per_request (\(maxEvents)) events; nothing was written — split the batch")
    }

    private static func splitLines(_ body: [UInt8], maxEvents: Int) throws(APIError) -> [Entry] {
        var entries: [Entry] = []
        var lineNumber = 0
        var start = body.startIndex
        while start < body.endIndex {
            lineNumber += 1
            let newline = body[start...].firstIndex(of: UInt8(ascii: "\n")) ?? body.endIndex
            var end = newline
            if end > start, body[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            let line = body[start..<end]
            if !line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) {
                guard entries.count < maxEvents else { throw tooMany(maxEvents) }
                entries.append(Entry(bytes: line, line: lineNumber))
            }
            start = newline == body.endIndex ? newline : newline + 1
        }
        return entries
    }

    /// Finds the top-level elements of a JSON array by tracking strings and nesting, without
    /// judging the elements themselves.
    private static func splitArray(_ body: [UInt8], maxEvents: Int) throws(APIError) -> [Entry] {
        func malformed(_ message: String) -> APIError {
            .badRequest("malformed_body", "the body is not a JSON array of events: \(message); nothing was written")
        }
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        var index = body.startIndex
        func skipSpace() { while index < body.endIndex, isSpace(body[index]) { index += 1 } }

        skipSpace()
        guard index < body.endIndex, body[index] == UInt8(ascii: "[") else { throw malformed("it does not start with [") }
        index += 1
        skipSpace()
        var entries: [Entry] = []
        if index < body.endIndex, body[index] == UInt8(ascii: "]") {
            index += 1
        } else {
            var closed = false
            while !closed {
                let start = index
                var depth = 0
                var inString = false
                var elementEnd: Int?
                while index < body.endIndex, elementEnd == nil {
                    let byte = body[index]
                    if inString {
                        if byte == UInt8(ascii: "\\") {
                            index += 1
                        } else if byte == UInt8(ascii: "\"") {
                            inString = false
                        }
                    } else {
                        switch byte {
                        case UInt8(ascii: "\""): inString = true
                        case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                        case UInt8(ascii: "}"), UInt8(ascii: "]"):
                            if depth == 0 {
                                guard byte == UInt8(ascii: "]") else {
                                    throw malformed("unbalanced } after element \(entries.count)")
                                }
                                elementEnd = index
                                closed = true
                            } else {
                                depth -= 1
                            }
                        case UInt8(ascii: ","):
                            if depth == 0 { elementEnd = index }
                        default: break
                        }
                    }
                    index += 1
                }
                guard let elementEnd else {
                    throw malformed("it ends inside element \(entries.count) (missing ] or a closing quote)")
                }
                var end = elementEnd
                var first = start
                while first < end, isSpace(body[first]) { first += 1 }
                while end > first, isSpace(body[end - 1]) { end -= 1 }
                guard first < end else {
                    throw malformed("element \(entries.count) is empty (a doubled comma or a comma before ])")
                }
                guard entries.count < maxEvents else { throw tooMany(maxEvents) }
                entries.append(Entry(bytes: body[first..<end], line: nil))
            }
        }
        skipSpace()
        guard index == body.endIndex else { throw malformed("there is more after the closing ]") }
        return entries
    }
}
