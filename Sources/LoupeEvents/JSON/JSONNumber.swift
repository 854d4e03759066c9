/// A JSON number as Loupe keeps it: integers that fit in `Int64` stay integers, so that
/// validation can tell `3` from `3.5`; every other number is a finite `Double`.
enum JSONNumber: Equatable {
    case int(Int64)
    case double(Double)

    private static let exactPowersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// Parses the number that starts at `index` (a `-` or a digit) and moves `index` past it.
    /// `JSONParser` and `JSONTape` both read numbers here, so they agree on every value and
    /// on which numbers are rejected; errors are located as the parser reports them.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, at index: inout Int) throws(JSONSyntaxError) -> JSONNumber {
        func error(_ message: String) -> JSONSyntaxError { JSONSyntaxError(message: message, offset: index) }
        let start = index
        var negative = false
        if bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        guard index < bytes.count, Self.isDigit(bytes[index]) else { throw error("invalid number") }
        var mantissa: UInt64 = 0
        var significantDigits = 0
        var droppedIntegerDigits = 0
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, Self.isDigit(bytes[index]) { throw error("leading zero in number") }
        } else {
            while index < bytes.count, Self.isDigit(bytes[index]) {
                if significantDigits < 19 {
                    mantissa = mantissa * 10 + UInt64(bytes[index] - UInt8(ascii: "0"))
                    significantDigits += 1
                } else {
                    droppedIntegerDigits += 1
                }
                index += 1
            }
        }
        var isInteger = true
        var fractionDigits = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, Self.isDigit(bytes[index]) else { throw error("invalid number") }
            while index < bytes.count, Self.isDigit(bytes[index]) {
                if significantDigits < 19 {
                    mantissa = mantissa * 10 + UInt64(bytes[index] - UInt8(ascii: "0"))
                    significantDigits += mantissa == 0 ? 0 : 1
                    fractionDigits += 1
                }
                index += 1
            }
        }
        var exponent = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            var exponentNegative = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            guard index < bytes.count, Self.isDigit(bytes[index]) else { throw error("invalid number") }
            while index < bytes.count, Self.isDigit(bytes[index]) {
                if exponent < 100_000 { exponent = exponent * 10 + Int(bytes[index] - UInt8(ascii: "0")) }
                index += 1
            }
            if exponentNegative { exponent = -exponent }
        }
        if isInteger, droppedIntegerDigits == 0 {
            if negative, mantissa <= UInt64(Int64.max) + 1 {
                return .int(mantissa == UInt64(Int64.max) + 1 ? Int64.min : -Int64(mantissa))
            }
            if !negative, mantissa <= UInt64(Int64.max) {
                return .int(Int64(mantissa))
            }
        }
        // Clinger's fast path: both the mantissa and 10^e are exact doubles, so one IEEE
        // multiplication or division rounds correctly. Everything else goes to the standard library.
        let decimalExponent = exponent - fractionDigits + droppedIntegerDigits
        if droppedIntegerDigits == 0, mantissa < (1 << 53), abs(decimalExponent) <= 22 {
            var value = Double(mantissa)
            if decimalExponent >= 0 {
                value *= Self.exactPowersOfTen[decimalExponent]
            } else {
                value /= Self.exactPowersOfTen[-decimalExponent]
            }
            return .double(negative ? -value : value)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw JSONSyntaxError(message: "number out of range", offset: start)
        }
        return .double(value)
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
