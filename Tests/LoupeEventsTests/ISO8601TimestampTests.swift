import LoupeRandomness
import Foundation
import LoupeEvents
import Testing

@Suite struct ISO8601TimestampTests {
    /// Expected values computed independently with Python's `datetime.fromisoformat`.
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", Int64(0)),
        ("2026-03-01T12:00:00Z", 1_772_366_400_000),
        ("2026-03-01t12:00:00z", 1_772_366_400_000),
        ("2026-03-01T12:00:00-00:00", 1_772_366_400_000),
        ("2026-03-01T12:00:00.250+02:00", 1_772_359_200_250),
        ("2026-03-01T12:00:00-05:30", 1_772_386_200_000),
        ("2026-03-01T12:00:00.1Z", 1_772_366_400_100),
        ("2026-03-01T12:00:00.12Z", 1_772_366_400_120),
        ("2026-03-01T12:00:00.123456789Z", 1_772_366_400_123),
        ("2024-02-29T23:59:59.999Z", 1_709_251_199_999),
        ("2000-02-29T00:00:00Z", 951_782_400_000),
        ("2100-03-01T00:00:00+23:59", 4_107_456_060_000),
        ("9999-12-31T23:59:59.999Z", 253_402_300_799_999),
        // Valid date-times before 1970: the parser reads them, the event decoder rejects them.
        ("1969-12-31T23:59:59.999Z", -1),
        ("1970-01-01T00:30:00+01:00", -1_800_000),
        ("0001-01-01T00:00:00Z", -62_135_596_800_000),
    ])
    func parses(text: String, milliseconds: Int64) {
        #expect(ISO8601Timestamp.milliseconds(text) == milliseconds)
    }

    @Test(arguments: [
        "",
        "2026-03-01",
        "2026-03-01T12:00:00",
        "2026-03-01T12:00Z",
        "2026-03-01 12:00:00Z",
        "2026-03-01T12:00:00.Z",
        "2026-03-01T12:00:00Z ",
        " 2026-03-01T12:00:00Z",
        "2026-03-01T12:00:00+0200",
        "2026-03-01T12:00:00+02",
        "2026-03-01T12:00:00+24:00",
        "2026-03-01T12:00:00+02:60",
        "2026-3-01T12:00:00Z",
        "2026-03-01T1:00:00Z",
        "2023-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-03-00T00:00:00Z",
        "2026-03-01T24:00:00Z",
        "2026-03-01T12:60:00Z",
        "2016-12-31T23:59:60Z",
        "２０２６-03-01T12:00:00Z",
        "+2026-03-01T12:00:00Z",
        "2026-03-01T12:00:00ZZ",
    ])
    func rejects(text: String) {
        #expect(ISO8601Timestamp.milliseconds(text) == nil)
    }

    /// Foundation's calendar as an independent reference, over random instants and offsets
    /// (Foundation's time zones reach ±18 hours).
    @Test func agreesWithFoundationCalendar() throws {
        var random = SplitMix64(seed: 20_260_301)
        var calendar = Calendar(identifier: .gregorian)
        for _ in 0..<2000 {
            let milliseconds = Int64(random.next() % UInt64(Timestamp.maximum + 1))
            let offsetMinutes = Int(random.next() % (2 * 18 * 60 + 1)) - 18 * 60
            calendar.timeZone = try #require(TimeZone(secondsFromGMT: offsetMinutes * 60))
            let seconds = milliseconds.quotientAndRemainder(dividingBy: 1000)
            let date = Date(timeIntervalSince1970: Double(seconds.quotient))
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            let offset =
                offsetMinutes == 0
                ? "Z" : (offsetMinutes < 0 ? "-" : "+") + digits(abs(offsetMinutes) / 60, 2) + ":" + digits(abs(offsetMinutes) % 60, 2)
            let text =
                digits(parts.year!, 4) + "-" + digits(parts.month!, 2) + "-" + digits(parts.day!, 2) + "T" + digits(parts.hour!, 2) + ":"
                + digits(parts.minute!, 2) + ":" + digits(parts.second!, 2) + "." + digits(Int(seconds.remainder), 3) + offset
            #expect(ISO8601Timestamp.milliseconds(text) == milliseconds, "\(text)")
        }
    }

    private func digits(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}
