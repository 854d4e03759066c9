import Foundation
import LoupeEvents

/// MovieLens-100K through Loupe's public event contract (docs/evaluation.md): the catalog as
/// `item_upsert` events, then every rating as a `click`, in the time order of
/// `quality/movielens-100k.md` (a stable sort by timestamp: equal times keep file order).
///
/// Reads RecBole's atomic files `ml-100k.inter` and `ml-100k.item` (tab-separated, a
/// `name:type` header line), as `ops/movielens.sh` fetches them from the recbole wheel.
public enum MovieLens100K {
    /// The genres in MovieLens' own order; genre g's items take style g (`FrameStyle.allCases`).
    public static let genres = [
        "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
        "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
    ]

    public static func userId(_ raw: Int) -> String { "ml-user-\(raw)" }
    public static func itemId(_ raw: Int) -> String { "ml-movie-\(raw)" }

    public struct Rating: Sendable, Equatable {
        public var user: Int
        public var item: Int
        public var stars: Int
        /// Seconds since the epoch.
        public var time: Int64
    }

    public struct Movie: Sendable, Equatable {
        public var item: Int
        public var title: String
        public var year: Int?
        public var genres: [String]
    }

    /// The dataset: catalog first, ratings in time order; users and items in numeric raw-id order.
    public static func load(directory: String) throws -> OfflineDataset {
        let ratings = try readRatings(directory: directory)
        let movies = try readMovies(directory: directory)
        let events = events(ratings: ratings, movies: movies)
        let userIds = Set(ratings.map(\.user)).sorted().map(userId)
        let itemIds = Set(ratings.map(\.item)).union(movies.map(\.item)).sorted().map(itemId)
        return OfflineDataset(name: "movielens-100k", events: events, itemIds: itemIds, userIds: userIds) { event in
            if case .interaction = event { true } else { false }
        }
    }

    /// The events: one `item_upsert` per movie at the first rating's time, then one `click` per
    /// rating, stably sorted by time.
    public static func events(ratings: [Rating], movies: [Movie]) -> [Event] {
        let ordered = ratings.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }
        let start = (ordered.first?.element.time ?? 0) * 1000
        var events: [Event] = movies.sorted { $0.item < $1.item }.map { movie in
            .catalog(CatalogEvent(eventId: "ml100k-item-\(movie.item)", timestamp: start, itemId: itemId(movie.item), item: catalogItem(movie)))
        }
        events.reserveCapacity(events.count + ordered.count)
        for (line, rating) in ordered {
            events.append(
                .interaction(
                    Interaction(
                        eventId: "ml100k-rating-\(line + 1)", timestamp: rating.time * 1000, kind: .click, userId: userId(rating.user),
                        itemId: itemId(rating.item), sessionId: "ml-user-\(rating.user)-day-\(rating.time / 86_400)")))
        }
        return events
    }

    /// A movie as a catalog item: its first genre names the style; the genres (one-hot, in
    /// `genres` order) and the release year (as (year − 1900)/100, 0 when unknown) are the dense
    /// features; the frame fields, which a movie has none of, carry fixed placeholders.
    static func catalogItem(_ movie: Movie) -> CatalogItem {
        let indices = movie.genres.compactMap { genres.firstIndex(of: $0) }
        let style = FrameStyle.allCases[indices.first ?? 0]
        var features = [Double](repeating: 0, count: genres.count + 1)
        for index in indices { features[index] = 1 }
        features[genres.count] = movie.year.map { Double($0 - 1900) / 100 } ?? 0
        return CatalogItem(
            style: style, frameWidthMM: 140, lensHeightMM: 45, bridgeMM: 18, templeLengthMM: 145, price: 0, currency: "USD",
            material: "film", color: "none", features: features)
    }

    public static func readRatings(directory: String) throws -> [Rating] {
        try rows(path: "\(directory)/ml-100k.inter", columns: ["user_id", "item_id", "rating", "timestamp"]) { fields, where_ in
            guard let user = Int(fields[0]), let item = Int(fields[1]), let stars = Double(fields[2]), let time = Double(fields[3]) else {
                throw DatasetError("\(where_): expected numbers, got \(fields.joined(separator: " | "))")
            }
            return Rating(user: user, item: item, stars: Int(stars), time: Int64(time))
        }
    }

    public static func readMovies(directory: String) throws -> [Movie] {
        try rows(path: "\(directory)/ml-100k.item", columns: ["item_id", "movie_title", "release_year", "class"]) { fields, where_ in
            guard let item = Int(fields[0]) else { throw DatasetError("\(where_): item_id \(fields[0]) is not a number") }
            return Movie(item: item, title: fields[1], year: Int(fields[2]), genres: fields[3].split(separator: " ").map(String.init))
        }
    }

    /// The rows of a tab-separated atomic file whose header names `columns` (in any order).
    private static func rows<Row>(path: String, columns: [String], _ parse: ([String], String) throws -> Row) throws -> [Row] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError("cannot read \(path); fetch MovieLens-100K with ops/movielens.sh (it prints the directory)")
        }
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).makeIterator()
        guard let header = lines.next() else { throw DatasetError("\(path) is empty") }
        let names = header.split(separator: "\t", omittingEmptySubsequences: false).map { String($0.split(separator: ":").first ?? "") }
        let positions = try columns.map { column in
            guard let position = names.firstIndex(of: column) else {
                throw DatasetError("\(path): no column \(column) in the header (\(names.joined(separator: ", ")))")
            }
            return position
        }
        var result: [Row] = []
        var number = 1
        while let line = lines.next() {
            number += 1
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == names.count else {
                throw DatasetError("\(path):\(number): \(fields.count) fields, the header has \(names.count)")
            }
            result.append(try parse(positions.map { fields[$0] }, "\(path):\(number)"))
        }
        return result
    }
}

public struct DatasetError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
