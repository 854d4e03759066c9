import Foundation
import LoupeEvents
import Testing

/// `loupe produce` on 10,000 lines of which 10% are malformed in varied ways: exactly the valid
/// ones reach their topics (and come back unchanged through `loupe tail`), and every bad one
/// reaches dead-letter with the right reason and its line number.
@Suite(.serialized) struct ProduceBadInputTests {
    /// Malformed variants of a valid interaction, each with the reason it must be rejected for.
    static func malformed(_ index: Int) -> (line: [UInt8], code: String) {
        let valid = #"{"event_id":"bad-\#(index)","schema_version":1,"type":"click","timestamp":1767225600000,"user_id":"user-1","item_id":"item-1","session_id":"s-1","context":{"device":"mobile","hour":9}}"#
        func replacing(_ old: String, _ new: String) -> [UInt8] { Array(valid.replacingOccurrences(of: old, with: new).utf8) }
        let face = #"{"event_id":"bad-\#(index)","schema_version":1,"type":"face_analysis","timestamp":1767225600000,"user_id":"user-1","face_shape":"oval","measurements":{"face_length_mm":MEASURE,"forehead_width_mm":130,"cheekbone_width_mm":135,"jaw_width_mm":120,"pupillary_distance_mm":63},"confidence":0.9}"#
        switch index % 14 {
        case 0: return (Array(valid.dropLast(7).utf8), "invalid_json")
        case 1: return (replacing(#""user_id":"user-1","#, ""), "missing_field")
        case 2: return (replacing(#""session_id":"s-1""#, #""session_id":"s-1","coupon":"X""#), "unknown_field")
        case 3: return (replacing(#""hour":9"#, #""hour":"9""#), "wrong_type")
        case 4: return (replacing(#""type":"click""#, #""type":"teleport""#), "unknown_type")
        case 5: return (Array(face.replacingOccurrences(of: "MEASURE", with: "NaN").utf8), "invalid_json")
        case 6: return (Array(face.replacingOccurrences(of: "MEASURE", with: "-180").utf8), "invalid_value")
        case 7:
            let padding = String(repeating: "x", count: 1 << 20)
            return (replacing(#""item_id":"item-1""#, #""item_id":"\#(padding)""#), "too_large")
        case 8:
            var bytes = replacing("user-1", "user-\u{1}")
            let position = bytes.firstIndex(of: 1)!
            bytes[position] = 0xC3
            bytes.insert(0x28, at: position + 1)
            return (bytes, "invalid_utf8")
        case 9: return (replacing(#""device":"mobile""#, #""device":"toaster""#), "invalid_value")
        case 10: return (replacing(#""schema_version":1"#, #""schema_version":2"#), "unsupported_schema_version")
        case 11: return (Array("[1,2,3]".utf8), "not_an_object")
        case 12: return (replacing(#""user_id":"user-1""#, #""user_id":42"#), "wrong_type")
        default: return (replacing("1767225600000", #""yesterday""#), "invalid_value")
        }
    }

    @Test(arguments: LoupeProcess.Backend.allCases)
    func exactlyTheValidLinesReachTheirTopics(backend: LoupeProcess.Backend) async throws {
        let log = try LoupeProcess.isolatedLog(backend)
        try await LoupeProcess.run(["topics", "apply"] + log)
        let generated = try await LoupeProcess.run(["generate", "--events", "9000", "--seed", "7", "--users", "300", "--items", "200"]).lines
        #expect(generated.count == 9000)

        var input = Data()
        var expectedEvents: [String: Event] = [:]
        var badLines: [Int: String] = [:]
        var next = generated.makeIterator()
        for lineNumber in 1...10_000 {
            if lineNumber % 10 == 0 {
                let bad = Self.malformed(lineNumber / 10)
                input.append(contentsOf: bad.line)
                badLines[lineNumber] = bad.code
            } else {
                let line = next.next()!
                let event = try EventCodec.decode(Array(line.utf8))
                expectedEvents[event.eventId] = event
                input.append(contentsOf: line.utf8)
            }
            input.append(UInt8(ascii: "\n"))
        }
        let file = NSTemporaryDirectory() + "loupe-bad-\(UUID().uuidString).jsonl"
        try input.write(to: URL(fileURLWithPath: file))

        let produced = try await LoupeProcess.run(["produce", "--file", file] + log)
        #expect(produced.stderr.contains("9000 accepted, 1000 rejected"), "\(produced.stderr)")

        var seen: [String: Event] = [:]
        for topic in Topic.allCases where topic != .deadLetter {
            let lines = try await LoupeProcess.run(["tail", "--topic", topic.rawValue, "--from-beginning", "--until-end"] + log).lines
            for line in lines {
                let event = try EventCodec.decode(Array(line.utf8), topic: topic)
                #expect(seen[event.eventId] == nil, "event \(event.eventId) was delivered twice")
                seen[event.eventId] = event
            }
        }
        #expect(seen.count == expectedEvents.count)
        #expect(seen == expectedEvents)

        let deadLetters = try await LoupeProcess.run(["tail", "--topic", "dead-letter", "--from-beginning", "--until-end"] + log).lines
        var rejected: [Int: String] = [:]
        for line in deadLetters {
            guard case .deadLetter(let record) = try EventCodec.decode(Array(line.utf8)) else {
                Issue.record("not a dead-letter record: \(line.prefix(200))")
                continue
            }
            let number = Int(record.location!.split(separator: ":").last!)!
            rejected[number] = record.reasonCode
            #expect(!record.reason.isEmpty)
            #expect(record.payloadBytes > 0)
            if record.reasonCode == "too_large" {
                #expect(record.payloadTruncated)
                #expect(record.payloadBytes > 1 << 20)
            }
            if record.reasonCode == "invalid_utf8" { #expect(record.payloadBase64 != nil) }
        }
        #expect(rejected == badLines)
    }
}
