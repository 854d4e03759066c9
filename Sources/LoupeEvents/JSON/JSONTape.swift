/// One JSON document as a flat list of tokens over its bytes, for decoding events without
/// building a `JSONValue` tree.
///
/// The scan validates the whole document as `JSONParser` would and records, for each value and
/// key in document order, one token: its type, its bytes (strings and keys) or its number, and
/// for objects and arrays where they end. Events need no allocation: their tokens fit on the
/// stack, and strings become `String`s only when a decoder keeps them.
///
/// The tape covers the documents events are written as, and nothing else: every string and key
/// ASCII and free of escapes. For any other input — including every invalid one — `withTape`
/// gives nil, and the caller parses the input into a tree, which gives the answers for those
/// (and the errors, with their exact messages). Within its subset the tape accepts exactly what
/// the parser accepts: it rejects the same syntax, repeated keys and nesting deeper than
/// `JSONParser.maximumDepth`, and it reads numbers with the parser's own code, `JSONNumber.parse`.
///
/// The unsafe pointer code of the decoding of bytes is here: the scan, and the views of the
/// tape (`Value`, `Elements`, `Fields`), which are only valid inside `withTape`.
struct JSONTape {
    /// 16 bytes, so that the 64 tokens of an event of up to about 60 values fit in the kilobyte
    /// that `withUnsafeTemporaryAllocation` takes from the stack without asking.
    struct Token {
        var kind: Kind
        /// Strings and keys: the offset of the first byte after the opening quote. Objects and
        /// arrays: the index of the token after their last one.
        var position: UInt32
        /// Strings and keys: the offset of the closing quote. Numbers: the `Int64` or the
        /// `Double`'s bits. Objects and arrays: how many fields or elements they have.
        var payload: UInt64
    }

    enum Kind: UInt8 {
        case null, `false`, `true`, integer, number, string, array, object
        /// A field name; the tokens of its value follow it.
        case key
    }

    /// Scans `bytes` and calls `body` with their tape, or with nil when the input is invalid or
    /// outside the tape's subset. The tape lives on the stack while it has at most
    /// `stackTokens` tokens, and on the heap beyond; it must not escape `body`.
    static func withTape<R, E: Error>(of bytes: UnsafeBufferPointer<UInt8>, _ body: (JSONTape?) throws(E) -> R) throws(E) -> R {
        try withUnsafeTemporaryAllocation(of: Token.self, capacity: stackTokens) { tokens throws(E) -> R in
            var scanner = Scanner(bytes: bytes, tokens: tokens)
            if scanner.scanDocument() { return try body(scanner.tape) }
            guard scanner.ranOutOfTokens else { return try body(nil) }
            let heapTokens = UnsafeMutableBufferPointer<Token>.allocate(capacity: maximumTokens(byteCount: bytes.count))
            defer { heapTokens.deallocate() }
            scanner = Scanner(bytes: bytes, tokens: heapTokens)
            return try body(scanner.scanDocument() ? scanner.tape : nil)
        }
    }

    /// 64 tokens: 1 KiB.
    private static let stackTokens = 64

    /// How many tokens a document of `byteCount` bytes can need: a document of `t` tokens has
    /// at least `2t - 1` bytes (a container takes two, a key three, a value after a separator two).
    private static func maximumTokens(byteCount: Int) -> Int {
        byteCount / 2 + 1
    }

    /// The input and the tokens, without their counts: the scan has checked every offset and
    /// index the tape holds, and two words keep the tape's values small enough for registers.
    private let bytes: UnsafePointer<UInt8>
    private let tokens: UnsafePointer<Token>

    /// The document's value: the first token.
    var root: Value { Value(tape: self, index: 0) }

    /// The bytes of the string or key at token `index`.
    private func text(_ index: Int) -> UnsafeBufferPointer<UInt8> {
        let token = tokens[index]
        return UnsafeBufferPointer(start: bytes + Int(token.position), count: Int(token.payload) - Int(token.position))
    }

    // MARK: scanning

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        let tokens: UnsafeMutableBufferPointer<Token>
        var index = 0
        var count = 0
        /// Whether the scan failed for want of tokens, not because of the input.
        var ranOutOfTokens = false

        /// The tape of the tokens scanned so far (the input is not empty when there are any).
        var tape: JSONTape {
            JSONTape(bytes: bytes.baseAddress!, tokens: UnsafePointer(tokens.baseAddress!))
        }

        /// Scans the whole input: one value, with only whitespace around it.
        mutating func scanDocument() -> Bool {
            // Offsets are kept in 32 bits.
            guard bytes.count <= Int(UInt32.max) else { return false }
            skipWhitespace()
            guard scanValue(depth: 0) else { return false }
            skipWhitespace()
            return index == bytes.count
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x0A, 0x0D, 0x09: index += 1
                default: return
                }
            }
        }

        /// Appends a token and returns its index, or nil when the buffer is full.
        private mutating func append(_ kind: Kind, position: Int = 0, payload: UInt64 = 0) -> Int? {
            guard count < tokens.count else {
                ranOutOfTokens = true
                return nil
            }
            tokens[count] = Token(kind: kind, position: UInt32(truncatingIfNeeded: position), payload: payload)
            count += 1
            return count - 1
        }

        /// Scans one value at `index` (whitespace skipped) into tokens; false if the tape cannot take it.
        mutating func scanValue(depth: Int) -> Bool {
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "{"): return scanObject(depth: depth + 1)
            case UInt8(ascii: "["): return scanArray(depth: depth + 1)
            case UInt8(ascii: "\""):
                guard let (start, end) = scanString() else { return false }
                return append(.string, position: start, payload: UInt64(end)) != nil
            case UInt8(ascii: "t"): return scanLiteral("true", .true)
            case UInt8(ascii: "f"): return scanLiteral("false", .false)
            case UInt8(ascii: "n"): return scanLiteral("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                guard let number = try? JSONNumber.parse(bytes, at: &index) else { return false }
                switch number {
                case .int(let integer): return append(.integer, payload: UInt64(bitPattern: integer)) != nil
                case .double(let real): return append(.number, payload: real.bitPattern) != nil
                }
            default: return false
            }
        }

        private mutating func scanLiteral(_ literal: StaticString, _ kind: Kind) -> Bool {
            let length = literal.utf8CodeUnitCount
            guard index + length <= bytes.count,
                JSONTape.equal(UnsafeBufferPointer(rebasing: bytes[index..<index + length]), UnsafeBufferPointer(start: literal.utf8Start, count: length))
            else { return false }
            index += length
            return append(kind) != nil
        }

        /// Scans a string at its opening quote; returns where its content starts and ends, or nil
        /// for strings outside the subset (escapes, control characters, non-ASCII) and unterminated ones.
        @inline(__always)
        private mutating func scanString() -> (start: Int, end: Int)? {
            index += 1
            let start = index
            // Eight bytes at a time: the first byte that is not plain (see `specialBytes`) must be
            // the closing quote.
            if let base = bytes.baseAddress {
                let raw = UnsafeRawPointer(base)
                while index + 8 <= bytes.count {
                    let special = Self.specialBytes(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)))
                    if special == 0 {
                        index += 8
                        continue
                    }
                    index += special.trailingZeroBitCount / 8
                    guard bytes[index] == UInt8(ascii: "\"") else { return nil }
                    index += 1
                    return (start, index - 1)
                }
            }
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return (start, index - 1)
                }
                guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\\") else { return nil }
                index += 1
            }
            return nil
        }

        /// The high bit of each of eight bytes (the first in the lowest byte) that a string of the
        /// subset does not hold as it is: a quote, a backslash, a control character or a byte of
        /// 0x80 or more. The lowest bit set is exact; bits above it may be set without cause, as
        /// a borrow from a lower byte reaches them. (A byte of `x - 0x20` borrows, and so sets its
        /// high bit, exactly when `x < 0x20`; `x ^ c` is zero, so that `(x ^ c) - 1` borrows,
        /// exactly when `x == c`.)
        @inline(__always)
        private static func specialBytes(_ word: UInt64) -> UInt64 {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let control = word &- ones &* 0x20
            let quote = (word ^ (ones &* 0x22)) &- ones
            let backslash = (word ^ (ones &* 0x5C)) &- ones
            return (word | control | quote | backslash) & (ones &* 0x80)
        }

        private mutating func scanObject(depth: Int) -> Bool {
            guard depth <= JSONParser.maximumDepth, let object = append(.object) else { return false }
            index += 1
            var fieldCount: UInt64 = 0
            // The keys so far, as in `JSONParser`: a key whose bit is new repeats none of them.
            var keyBits: UInt64 = 0
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                tokens[object].position = UInt32(count)
                return true
            }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let (start, end) = scanString(),
                    let key = append(.key, position: start, payload: UInt64(end))
                else { return false }
                let keyBit = JSONParser.fingerprintBit(of: bytes, from: start, to: end)
                if keyBits & keyBit != 0, repeatsKey(key, of: object) { return false }
                keyBits |= keyBit
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return false }
                index += 1
                skipWhitespace()
                guard scanValue(depth: depth) else { return false }
                fieldCount += 1
                skipWhitespace()
                guard index < bytes.count else { return false }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                } else if bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    tokens[object].position = UInt32(count)
                    tokens[object].payload = fieldCount
                    return true
                } else {
                    return false
                }
            }
        }

        /// Whether the key at token `key` has the bytes of an earlier key of `object`.
        private func repeatsKey(_ key: Int, of object: Int) -> Bool {
            let name = tape.text(key)
            var earlier = object + 1
            while earlier < key {
                if JSONTape.equal(tape.text(earlier), name) { return true }
                earlier = tape.next(after: earlier + 1)
            }
            return false
        }

        private mutating func scanArray(depth: Int) -> Bool {
            guard depth <= JSONParser.maximumDepth, let array = append(.array) else { return false }
            index += 1
            var elementCount: UInt64 = 0
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                tokens[array].position = UInt32(count)
                return true
            }
            while true {
                skipWhitespace()
                guard scanValue(depth: depth) else { return false }
                elementCount += 1
                skipWhitespace()
                guard index < bytes.count else { return false }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                } else if bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    tokens[array].position = UInt32(count)
                    tokens[array].payload = elementCount
                    return true
                } else {
                    return false
                }
            }
        }
    }

    /// Whether two byte strings are equal. Field names are mostly 5–20 bytes, so this compares
    /// eight at a time, the last eight overlapping the ones before when the count is no multiple.
    static func equal(_ first: UnsafeBufferPointer<UInt8>, _ second: UnsafeBufferPointer<UInt8>) -> Bool {
        let count = first.count
        guard count == second.count else { return false }
        guard count > 0 else { return true }
        let a = UnsafeRawPointer(first.baseAddress!), b = UnsafeRawPointer(second.baseAddress!)
        guard count >= 8 else {
            if count >= 4 {
                return a.loadUnaligned(as: UInt32.self) == b.loadUnaligned(as: UInt32.self)
                    && a.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self) == b.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
            }
            for index in 0..<count where first[index] != second[index] { return false }
            return true
        }
        var offset = 0
        while offset < count - 8 {
            if a.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != b.loadUnaligned(fromByteOffset: offset, as: UInt64.self) {
                return false
            }
            offset += 8
        }
        return a.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self) == b.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
    }

    /// The index of the token after the value whose first token is `index`.
    private func next(after index: Int) -> Int {
        switch tokens[index].kind {
        case .object, .array: Int(tokens[index].position)
        default: index + 1
        }
    }
}

// MARK: reading

extension JSONTape {
    /// A value on the tape.
    struct Value: JSONFieldValue {
        fileprivate let tape: JSONTape
        fileprivate let index: Int

        private var token: Token { tape.tokens[index] }

        var type: JSONType {
            switch token.kind {
            case .null: .null
            case .false, .true: .boolean
            case .integer: .integer
            case .number: .number
            case .string, .key: .string
            case .array: .array
            case .object: .object
            }
        }

        var number: JSONNumber? {
            switch token.kind {
            case .integer: .int(Int64(bitPattern: token.payload))
            case .number: .double(Double(bitPattern: token.payload))
            default: nil
            }
        }

        var bool: Bool? {
            switch token.kind {
            case .true: true
            case .false: false
            default: nil
            }
        }

        var string: String? {
            token.kind == .string ? JSONParser.string(ascii: tape.text(index)) : nil
        }

        func lookUp<T>(in table: NameTable<T>) -> T? {
            token.kind == .string ? table.value(named: tape.text(index)) : nil
        }

        var elements: Elements? {
            token.kind == .array ? Elements(tape: tape, array: index) : nil
        }

        var fields: Fields? {
            token.kind == .object ? Fields(tape: tape, object: index) : nil
        }
    }

    /// The elements of an array on the tape; an index is the position of an element's first token.
    struct Elements: Collection {
        fileprivate let tape: JSONTape
        fileprivate let array: Int

        var startIndex: Int { array + 1 }
        var endIndex: Int { Int(tape.tokens[array].position) }
        var count: Int { Int(tape.tokens[array].payload) }
        func index(after index: Int) -> Int { tape.next(after: index) }
        subscript(index: Int) -> Value { Value(tape: tape, index: index) }
    }

    /// The fields of an object on the tape; a position is the index of a field's key token.
    struct Fields: JSONFields {
        fileprivate let tape: JSONTape
        fileprivate let object: Int

        var count: Int { Int(tape.tokens[object].payload) }
        var firstPosition: Int { object + 1 }
        func position(after position: Int) -> Int { tape.next(after: position + 1) }

        static func name(_ text: StaticString) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        }

        func key(at position: Int, is name: UnsafeBufferPointer<UInt8>) -> Bool {
            // Keys on the tape are ASCII, so byte equality is `JSONObject.sameName`.
            JSONTape.equal(tape.text(position), name)
        }

        func key(at position: Int) -> String { JSONParser.string(ascii: tape.text(position)) }
        func value(at position: Int) -> Value { Value(tape: tape, index: position + 1) }
    }
}
