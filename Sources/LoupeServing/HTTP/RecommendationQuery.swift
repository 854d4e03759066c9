import Foundation
import LoupeEvents

/// Turns the path and query of the read routes into validated requests (docs/openapi.yaml).
enum RecommendationQuery {
    static let recommendationParameters: Set<String> = ["k", "device", "hour", "min_price", "max_price", "exclude"]
    static let similarParameters: Set<String> = ["k"]
    static let maximumExcludes = 1000
    /// Ids are opaque strings of at most 256 bytes, as in events (docs/events.md).
    static let maximumIdBytes = 256

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
            for id in exclude where id.isEmpty || id.utf8.count > maximumIdBytes {
                throw .badRequest(
                    "invalid_exclude",
                    "exclude must be a comma-separated list of item ids, each 1–\(maximumIdBytes) bytes, with no empty entries")
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

    /// A path segment as an id: percent-decoded, 1–256 bytes.
    static func pathId(_ raw: String?, name: String) throws(APIError) -> String {
        guard let raw, let id = raw.utf8.contains(UInt8(ascii: "%")) ? raw.removingPercentEncoding : raw else {
            throw .badRequest("invalid_id", "the \(name) in the path is not valid percent-encoded UTF-8")
        }
        guard !id.isEmpty, id.utf8.count <= maximumIdBytes else {
            throw .badRequest("invalid_id", "the \(name) must be 1–\(maximumIdBytes) bytes, got \(id.utf8.count)")
        }
        return id
    }
}
