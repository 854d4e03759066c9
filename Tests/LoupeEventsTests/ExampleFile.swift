import Foundation
import LoupeEvents
import Testing

/// One file of `topics/examples/<family>/<valid|invalid>/`, the examples the JSON Schemas in
/// `topics/schemas` are checked against (ops/check-schemas.py) and Loupe's decoder is tested with.
struct ExampleFile: Sendable, CustomTestStringConvertible {
    /// Where the examples are, found from this file's path so the tests run from any directory.
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("topics/examples")

    /// The event family each examples directory (and schema) is named after, and its topic.
    static let topicOfFamily: [String: Topic] = [
        "interaction": .interactions,
        "feedback": .feedback,
        "session": .sessions,
        "face-analysis": .faceAnalysis,
        "catalog": .catalog,
        "impression": .impressions,
        "model-event": .modelEvents,
        "eval-metric": .evalMetrics,
        "drift-alert": .driftAlerts,
        "dead-letter": .deadLetter,
        "learner-batch": .learnerBatches,
    ]

    static let valid = files("valid")
    static let invalid = files("invalid")

    var family: String
    var name: String
    var url: URL

    var testDescription: String { "\(family)/\(name)" }

    var topic: Topic? { Self.topicOfFamily[family] }

    var bytes: [UInt8] {
        get throws { [UInt8](try Data(contentsOf: url)) }
    }

    /// The reason code an invalid example's name starts with: `<reason_code>--<what>.json`.
    var expectedCode: EventValidationError.Code? {
        guard let separator = name.range(of: "--") else { return nil }
        return EventValidationError.Code(rawValue: String(name[..<separator.lowerBound]))
    }

    static func families() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }

    private static func files(_ kind: String) -> [ExampleFile] {
        families().flatMap { family -> [ExampleFile] in
            let folder = directory.appendingPathComponent(family).appendingPathComponent(kind)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            return names.filter { $0.hasSuffix(".json") }.sorted().map { name in
                ExampleFile(family: family, name: name, url: folder.appendingPathComponent(name))
            }
        }
    }
}
