import LoupeServing
import Foundation
import LoupeEvents

/// Turns the path and query of the read routes into validated requests (docs/openapi.yaml).
enum RecommendationQuery {
    static let recommendationParameters: Set<String> = ["k", "device", "hour", "min_price", "max_price", "exclude"]
    static let similarParameters: Set<String> = ["k"]
    static let maximumExcludes = 1000
    /// Ids follow the events' rule (`Identifier`, docs/events.md).
    static let maximumIdBytes = Identifier.maximumBytes

    static func recommendation(userId rawUserId: String?, query: String?, settings: HTTPSettings) throws(APIError)
        -> RecommendationRequest
    {
        let userId = try pathId(rawUserId, name: "user id")
        let parameters = try QueryParameters(query, allowed: recommendationParameters)
        let k = try parameters.integer("k", in: 1...settings.maxRecommendations, default: settings.defaultRecommendations)!
        var device: String?
        if let text = parameters["device"] {
            guard Device(rawValue: text) != nil else {
                throw .badRequest(
                    "invalid_device",
                    "device must be one of \(Device.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(QueryParameters.quoted(text))\""
                )
            }
            device = text
        }
        let hour = try parameters.integer("hour", in: 0...23)
        let minPrice = try parameters.price("min_price")
        let maxPrice = try parameters.price("max_price")
        if let minPrice, let maxPrice, minPrice > maxPrice {
            throw .badRequest("invalid_price_range", "min_price (\(minPrice)) must not exceed max_price (\(maxPrice))")
        }
        var exclude: [String] = []
        if let text = parameters["exclude"] {
            exclude = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard exclude.count <= maximumExcludes else {
                throw .badRequest(
                    "too_many_excludes", "exclude lists \(exclude.count) ids; at most \(maximumExcludes) are allowed")
            }
            for id in exclude {
                if let problem = Identifier.problem(id) {
                    throw .badRequest(
                        "invalid_exclude",
                        "exclude must be a comma-separated list of item ids (printable, 1–\(maximumIdBytes) bytes each): an entry \(problem)")
                }
            }
        }
        return RecommendationRequest(
            userId: userId, k: k, device: device, hour: hour, minPrice: minPrice, maxPrice: maxPrice, exclude: exclude)
    }

    static func similar(itemId rawItemId: String?, query: String?, settings: HTTPSettings) throws(APIError) -> (
        itemId: String, k: Int
    ) {
        let itemId = try pathId(rawItemId, name: "item id")
        let parameters = try QueryParameters(query, allowed: similarParameters)
        let k = try parameters.integer("k", in: 1...settings.maxRecommendations, default: settings.defaultRecommendations)!
        return (itemId, k)
    }

    /// A path segment as an id: percent-decoded, following `Identifier`'s rule.
    static func pathId(_ raw: String?, name: String) throws(APIError) -> String {
        guard let raw, let id = raw.utf8.contains(UInt8(ascii: "%")) ? raw.removingPercentEncoding : raw else {
            throw .badRequest("invalid_id", "the \(name) in the path is not valid percent-encoded UTF-8")
        }
        if let problem = Identifier.problem(id) {
            throw .badRequest("invalid_id", "the \(name) \(problem) (ids are printable, 1–\(maximumIdBytes) bytes)")
        }
        return id
    }
}
