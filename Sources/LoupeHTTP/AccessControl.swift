import LoupeServing
import Hummingbird

/// Bearer-token checks. Write routes always need the token; reads only with `protect_reads`.
/// Without a configured token, protected routes are refused (403) rather than left open.
struct AccessControl: Sendable {
    enum Access {
        /// Probes (`/healthz`, `/readyz`): always open.
        case open
        case read
        case write
    }

    private let token: [UInt8]?
    private let protectReads: Bool

    init(token: String?, protectReads: Bool) {
        self.token = token.map { Array($0.utf8) }
        self.protectReads = protectReads
    }

    func authorize(_ request: Request, for access: Access) throws(APIError) {
        switch access {
        case .open: return
        case .read where !protectReads: return
        case .read, .write: break
        }
        guard let token else {
            throw APIError(
                .forbidden, code: "no_token_configured",
                "this route needs an API token and none is configured: set server.api_token in the configuration file "
                    + "or the LOUPE_API_TOKEN environment variable, restart loupe serve, and send Authorization: Bearer <token>")
        }
        let challenge: HTTPFields = [.wwwAuthenticate: "Bearer realm=\"loupe\""]
        guard let header = request.headers[.authorization] else {
            throw APIError(
                .unauthorized, code: "missing_token", "this route needs the header Authorization: Bearer <token>",
                headers: challenge)
        }
        let prefix = "bearer "
        guard header.count > prefix.count, header.prefix(prefix.count).lowercased() == prefix else {
            throw APIError(
                .unauthorized, code: "invalid_token", "the Authorization header must be \"Bearer <token>\"", headers: challenge)
        }
        let given = Array(header.utf8.dropFirst(prefix.utf8.count))
        guard Self.constantTimeEqual(given, token) else {
            throw APIError(
                .unauthorized, code: "invalid_token", "the bearer token is not the configured API token", headers: challenge)
        }
    }

    /// Compares without returning early, so the time taken does not reveal how much of a guess
    /// was right; only the length of the configured token can be learned.
    static func constantTimeEqual(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: given.count ^ expected.count)
        for index in expected.indices {
            difference |= expected[index] ^ (index < given.count ? given[index] : ~expected[index])
        }
        return difference == 0 && given.count == expected.count
    }
}
