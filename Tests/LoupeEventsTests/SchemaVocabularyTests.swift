import Foundation
import LoupeEvents
import Testing

/// The JSON Schemas in topics/schemas restate Loupe's vocabularies; these keep them in step.
@Suite struct SchemaVocabularyTests {
    static let directory = ExampleFile.directory.deletingLastPathComponent().appendingPathComponent("schemas")

    @Test func everyFamilyHasASchemaListingItsTypes() throws {
        for (family, topic) in ExampleFile.topicOfFamily {
            let schema = try Self.schema(family)
            let type = try #require(schema["properties"]?["type"])
            let listed: Set<String>
            if let single = type["const"]?.string {
                listed = [single]
            } else {
                listed = Set(try Self.strings(type["enum"]))
            }
            let types = Set(Event.topicOfType.filter { $0.value == topic }.keys)
            #expect(listed == types, "\(family).schema.json")
        }
    }

    @Test func enumerationsMatchTheSwiftVocabulary() throws {
        let common = try Self.schema("common")
        let context = try #require(common["$defs"]?["context"]?["properties"])
        #expect(try Self.strings(context["device"]?["enum"]) == Device.allCases.map(\.rawValue))
        #expect(
            try Self.strings(try Self.schema("face-analysis")["properties"]?["face_shape"]?["enum"]) == FaceShape.allCases.map(\.rawValue))
        #expect(try Self.strings(try Self.schema("catalog")["properties"]?["style"]?["enum"]) == FrameStyle.allCases.map(\.rawValue))
        #expect(
            try Self.strings(try Self.schema("model-event")["properties"]?["decision"]?["enum"]) == CanaryDecision.allCases.map(\.rawValue))
        let alert = try Self.schema("drift-alert")["properties"]
        #expect(try Self.strings(alert?["status"]?["enum"]) == AlertStatus.allCases.map(\.rawValue))
        #expect(try Self.strings(alert?["severity"]?["enum"]) == AlertSeverity.allCases.map(\.rawValue))
    }

    @Test func timestampBoundsMatchTheDecoder() throws {
        let millis = try #require(try Self.schema("common")["$defs"]?["epoch_millis"])
        #expect(millis["minimum"] == .int(0))
        #expect(millis["maximum"] == .int(Timestamp.maximum))
    }

    private static func schema(_ name: String) throws -> JSONValue {
        let bytes = [UInt8](try Data(contentsOf: directory.appendingPathComponent("\(name).schema.json")))
        return try JSONParser.parse(bytes)
    }

    /// The strings of a JSON array, skipping `null` (which schemas list for optional fields).
    private static func strings(_ value: JSONValue?) throws -> [String] {
        guard case .array(let elements) = try #require(value) else { throw SchemaShapeError() }
        return elements.compactMap(\.string)
    }

    private struct SchemaShapeError: Error {}
}

extension JSONValue {
    fileprivate subscript(key: String) -> JSONValue? {
        guard case .object(let object) = self else { return nil }
        return object[key]
    }

    fileprivate var string: String? {
        guard case .string(let text) = self else { return nil }
        return text
    }
}
