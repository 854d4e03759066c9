import Foundation
import LoupeEvents
import LoupeRandomness

/// Mutates valid events into the inputs a careless or hostile client sends: flipped, cut and
/// repeated bytes, invalid UTF-8, values of the wrong type, strings of every length, control
/// characters and other awkward Unicode, numbers JSON or Loupe cannot hold, deep nesting, and
/// missing, repeated, unknown and re-spelt keys. Deterministic for a seed. About one input in
/// five is left valid, so that the valid and the rejected paths both run.
public struct EventFuzzer {
    private var random: SplitMix64

    public init(seed: UInt64) {
        random = SplitMix64(seed: seed)
    }

    /// A JSON document as fields whose values are raw JSON text, so that mutations can write
    /// what no JSON library would: repeated keys, numbers out of range, invalid escapes.
    private enum Node {
        case raw([UInt8])
        case object([(key: [UInt8], value: Node)])
        case array([Node])

        init(_ value: JSONValue) {
            switch value {
            case .object(let object):
                self = .object(object.fields.map { (Node.quoted($0.key), Node($0.value)) })
            case .array(let elements):
                self = .array(elements.map(Node.init))
            default:
                var writer = JSONWriter(capacity: 32)
                writer.value(value)
                self = .raw(writer.bytes)
            }
        }

        static func quoted(_ text: String) -> [UInt8] {
            var writer = JSONWriter(capacity: text.utf8.count + 2)
            writer.string(text)
            return writer.bytes
        }

        func write(to bytes: inout [UInt8]) {
            switch self {
            case .raw(let text): bytes += text
            case .array(let elements):
                bytes.append(UInt8(ascii: "["))
                for (index, element) in elements.enumerated() {
                    if index > 0 { bytes.append(UInt8(ascii: ",")) }
                    element.write(to: &bytes)
                }
                bytes.append(UInt8(ascii: "]"))
            case .object(let fields):
                bytes.append(UInt8(ascii: "{"))
                for (index, field) in fields.enumerated() {
                    if index > 0 { bytes.append(UInt8(ascii: ",")) }
                    bytes += field.key
                    bytes.append(UInt8(ascii: ":"))
                    field.value.write(to: &bytes)
                }
                bytes.append(UInt8(ascii: "}"))
            }
        }
    }

    /// What kind of mutation an input went through (for the report).
    public enum Kind: String, CaseIterable, Sendable {
        case none, bytes, types, lengths, unicode, numbers, nesting, keys, eventType = "event_type"
    }

    /// One input made from `event`: the bytes and the mutation applied.
    public mutating func mutate(_ event: Event) -> (bytes: [UInt8], kind: Kind) {
        let canonical = EventCodec.encode(event)
        guard case .object(var fields) = (try? JSONParser.parse(canonical)).map(Node.init) ?? .raw(canonical) else {
            return (canonical, .none)
        }
        let kinds = Kind.allCases
        let kind = kinds[Int(random.next() % UInt64(kinds.count))]
        switch kind {
        case .none:
            break
        case .types:
            let index = pick(fields.count)
            let values = ["1", "-1.5", "\"x\"", "true", "null", "[]", "{}", "[1,[2]]", "{\"a\":1}"]
            fields[index].value = .raw(Array(values[pick(values.count)].utf8))
        case .lengths:
            let strings = stringFields(fields)
            if let index = strings.randomElement(using: &random) {
                let lengths = [0, 1, 254, 255, 256, 1_000, 70_000]
                let length = lengths[pick(lengths.count)]
                fields[index].value = .raw(Node.quoted(String(repeating: "é", count: length / 2) + String(repeating: "x", count: length % 2)))
            }
        case .unicode:
            let strings = stringFields(fields)
            if let index = strings.randomElement(using: &random), case .raw(var text) = fields[index].value {
                let insertions: [[UInt8]] = [
                    Array(#"\u0000"#.utf8), [0x01], Array(#"\u001f"#.utf8), Array(#"\u2028"#.utf8), Array("e\u{301}".utf8),
                    Array("😀".utf8), Array(#"\ud800"#.utf8), Array(#"\udc00\ud800"#.utf8), Array("\u{FEFF}".utf8),
                    Array(#"\u0085"#.utf8), Array("\u{7F}".utf8), Array(#"\t"#.utf8), Array("\u{202E}".utf8), Array(#"\x41"#.utf8),
                ]
                text.insert(contentsOf: insertions[pick(insertions.count)], at: 1 + pick(max(1, text.count - 1)))
                fields[index].value = .raw(text)
            }
        case .numbers:
            let numbers = [
                "1e400", "-0", "1.5", "9007199254740993", "NaN", "Infinity", "01", "0x10", "-1", "1E2",
                "123456789012345678901234567890", "2.5e-400", "-", "1.", ".5", "253402300800000",
            ]
            let numeric = fields.indices.filter { Self.isNumber(fields[$0].value) }
            let index = numeric.isEmpty ? pick(fields.count) : numeric[pick(numeric.count)]
            fields[index].value = .raw(Array(numbers[pick(numbers.count)].utf8))
        case .nesting:
            let index = pick(fields.count)
            let depth = [1, 10, 63, 64, 70, 500][pick(6)]
            var value = fields[index].value
            for _ in 0..<depth { value = random.next() % 2 == 0 ? .array([value]) : .object([(Node.quoted("n"), value)]) }
            fields[index].value = value
        case .keys:
            switch pick(6) {
            case 0: fields.remove(at: pick(fields.count))
            case 1: fields.append(fields[pick(fields.count)])
            case 2: fields.append((Node.quoted("unexpected_\(pick(100))"), .raw(Array("1".utf8))))
            case 3:
                let index = pick(fields.count)
                fields[index].key = fields[index].key.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }
            case 4: fields[pick(fields.count)].key = Node.quoted("")
            default:
                // An escaped spelling of the same name: still the same key.
                let index = pick(fields.count)
                if fields[index].key.count > 2 {
                    let first = fields[index].key[1]
                    fields[index].key.replaceSubrange(1...1, with: Array(String(format: "\\u%04x", first).utf8))
                }
            }
        case .eventType:
            let types = Event.topicOfType.keys.sorted() + ["hover", "", "CLICK"]
            if let index = fields.firstIndex(where: { $0.key == Node.quoted("type") }) {
                fields[index].value = .raw(Node.quoted(types[pick(types.count)]))
            }
        case .bytes:
            break
        }
        var bytes: [UInt8] = []
        Node.object(fields).write(to: &bytes)
        if kind == .bytes { mutateBytes(&bytes) }
        return (bytes, kind)
    }

    private mutating func mutateBytes(_ bytes: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        let at = pick(bytes.count)
        switch pick(7) {
        case 0: bytes[at] = UInt8(truncatingIfNeeded: random.next())
        case 1: bytes.insert(contentsOf: [[0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]][pick(5)], at: at)
        case 2: bytes.removeSubrange(at...)
        case 3: bytes.removeSubrange(at..<min(bytes.count, at + 1 + pick(20)))
        case 4: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + 1 + pick(40))], at: at)
        case 5: bytes = [0xEF, 0xBB, 0xBF] + bytes
        default: bytes = Array("  \t".utf8) + bytes + Array(" x".utf8)
        }
    }

    private mutating func pick(_ count: Int) -> Int {
        count <= 1 ? 0 : Int(random.next() % UInt64(count))
    }

    private func stringFields(_ fields: [(key: [UInt8], value: Node)]) -> [Int] {
        fields.indices.filter { if case .raw(let text) = fields[$0].value { text.first == UInt8(ascii: "\"") } else { false } }
    }

    private static func isNumber(_ node: Node) -> Bool {
        if case .raw(let text) = node, let first = text.first { return first == UInt8(ascii: "-") || (first >= 0x30 && first <= 0x39) }
        return false
    }
}
