import LoupeEvents
import Foundation
import LoupeStore
import Testing

@Suite struct RecordLayoutTests {
    static func decodeUser(_ bytes: [UInt8], key: String = "u1") throws -> UserRecord {
        try bytes.withUnsafeBytes { try UserRecord(decoding: $0, key: key) }
    }

    static func decodeItem(_ bytes: [UInt8], key: String = "i1") throws -> ItemRecord {
        try bytes.withUnsafeBytes { try ItemRecord(decoding: $0, key: key) }
    }

    static let user = UserRecord(
        version: 7, lastEventTime: 1_700_000_000_123, faceShapeIndex: 3, faceLengthMM: 190.5, foreheadWidthMM: 130,
        cheekboneWidthMM: 140.25, jawWidthMM: 120, pupillaryDistanceMM: 63, confidence: 0.875)

    static let item = ItemRecord(
        version: 2, lastEventTime: -5, styleIndex: 19, frameWidthMM: 140, lensHeightMM: 42.5, bridgeMM: 18,
        templeLengthMM: 145, price: 129.99, currency: "EUR", deleted: true, interactionCount: 1 << 40,
        material: "acétate", color: "tortoise 🐢")

    @Test func userLayoutByteByByte() throws {
        let bytes = try Self.user.encoded()
        #expect(bytes.count == UserRecord.encodedCount)
        var expected: [UInt8] = [1]
        withUnsafeBytes(of: UInt64(7).littleEndian) { expected += $0 }
        withUnsafeBytes(of: Int64(1_700_000_000_123).littleEndian) { expected += $0 }
        expected.append(3)
        for value: Float in [190.5, 130, 140.25, 120, 63, 0.875] {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { expected += $0 }
        }
        #expect(bytes == expected)
        #expect(try Self.decodeUser(bytes) == Self.user)
    }

    @Test func unknownUserFieldsRoundTrip() throws {
        let unknown = UserRecord(version: 1, lastEventTime: 10)
        let bytes = try unknown.encoded()
        #expect(bytes[17] == 255)
        let decoded = try Self.decodeUser(bytes)
        #expect(decoded == unknown)
        #expect(decoded.faceShapeIndex == nil)
        #expect(decoded.measurements.allSatisfy(\.isNaN) && decoded.confidence.isNaN)
    }

    @Test func itemLayoutByteByByte() throws {
        let bytes = try Self.item.encoded()
        var expected: [UInt8] = [1]
        withUnsafeBytes(of: UInt64(2).littleEndian) { expected += $0 }
        withUnsafeBytes(of: Int64(-5).littleEndian) { expected += $0 }
        expected.append(19)
        for value: Float in [140, 42.5, 18, 145] { withUnsafeBytes(of: value.bitPattern.littleEndian) { expected += $0 } }
        withUnsafeBytes(of: (129.99 as Double).bitPattern.littleEndian) { expected += $0 }
        expected += Array("EUR".utf8)
        expected.append(1)
        withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { expected += $0 }
        for text in ["acétate", "tortoise 🐢"] {
            withUnsafeBytes(of: UInt16(text.utf8.count).littleEndian) { expected += $0 }
            expected += Array(text.utf8)
        }
        #expect(bytes == expected)
        #expect(try Self.decodeItem(bytes) == Self.item)
    }

    @Test func unknownItemFieldsRoundTrip() throws {
        let placeholder = ItemRecord(version: 1, interactionCount: 3)
        let decoded = try Self.decodeItem(try placeholder.encoded())
        #expect(decoded == placeholder)
        #expect(decoded.styleIndex == nil && decoded.currency.isEmpty && decoded.price.isNaN)
    }

    @Test func vocabulariesMatchTheDocumentedOrder() {
        #expect(UserRecord.faceShapes == ["oval", "round", "square", "heart", "oblong", "diamond"])
        // Records store indices into these: a reordered vocabulary would misread every stored row.
        #expect(
            ItemRecord.styles == [
                "aviator", "wayfarer", "round", "cat_eye", "rectangle", "square", "oval", "browline", "clubmaster", "geometric",
                "hexagonal", "octagonal", "oversized", "rimless", "semi_rimless", "butterfly", "shield", "wraparound", "pilot",
                "panto",
            ])
    }

    @Test func invalidFieldsAreRejectedWhenEncoding() {
        #expect(throws: StoreError.self) { try UserRecord(faceShapeIndex: 6).encoded() }
        #expect(throws: StoreError.self) { try ItemRecord(styleIndex: 20).encoded() }
        #expect(throws: StoreError.self) { try ItemRecord(currency: "EU").encoded() }
        #expect(throws: StoreError.self) { try ItemRecord(currency: "€UR").encoded() }
        #expect(throws: StoreError.self) { try ItemRecord(material: String(repeating: "x", count: 65_536)).encoded() }
    }

    /// Every way a row can be corrupt throws, and the message names the table and the key.
    @Test func corruptUserRowsNameTableAndKey() throws {
        let good = try Self.user.encoded()
        var badShape = good
        badShape[17] = 6
        var unknownVersion = good
        unknownVersion[0] = 2
        let cases: [(bytes: [UInt8], reason: String)] = [
            ([], "ends"), (Array(good.dropLast()), "ends"), (good + [0], "unexpected bytes"),
            (unknownVersion, "unknown layout version 2"), (badShape, "face shape 6"),
        ]
        for (bytes, reason) in cases {
            let error = #expect(throws: StoreError.self) { try Self.decodeUser(bytes, key: "alice") }
            let message = error.map { "\($0)" } ?? ""
            #expect(message.contains("users") && message.contains("\"alice\"") && message.contains(reason), "\(message)")
        }
    }

    @Test func corruptItemRowsNameTableAndKey() throws {
        let good = try Self.item.encoded()
        var badStyle = good
        badStyle[17] = 20
        var badFlag = good
        badFlag[45] = 2
        var badCurrency = good
        badCurrency[42] = 0xC3
        var badText = good
        badText[good.count - 1] = 0xFF
        var longLength = good
        longLength[55] = 0xFF
        let cases: [(bytes: [UInt8], reason: String)] = [
            (Array(good.prefix(30)), "ends"), (good + [1, 2], "unexpected bytes"), (badStyle, "style 20"),
            (badFlag, "deleted flag is 2"), (badCurrency, "currency"), (badText, "not valid UTF-8"),
            (longLength, "ends"), ([9] + good.dropFirst(), "unknown layout version 9"),
        ]
        for (bytes, reason) in cases {
            let error = #expect(throws: StoreError.self) { try Self.decodeItem(bytes, key: "frame-42") }
            let message = error.map { "\($0)" } ?? ""
            #expect(message.contains("items") && message.contains("\"frame-42\"") && message.contains(reason), "\(message)")
        }
    }

    @Test func historyRoundTripsAndRejectsDamage() throws {
        let history = UserHistory(entries: [
            HistoryEntry(itemId: "frame-1", kind: .tryOn, weight: 0.6, time: 1_700_000_000_000),
            HistoryEntry(itemId: "lunettes-é", kind: .return, weight: -1, time: -3),
        ])
        let directory = NSTemporaryDirectory() + "loupe-history-\(UUID().uuidString)"
        let store = try StateStore(directory: directory, model: .onlineLearner)
        try store.write { try $0.putHistory("u1", history) }
        #expect(try store.read { try $0.history(of: "u1") } == history)
        #expect(try store.read { try $0.history(of: "nobody") }.entries.isEmpty)

    }

    /// `appendHistory` splices bytes instead of decoding; it must write exactly the row that
    /// decoding, appending, trimming and `putHistory` write, so that states (and checksums) are
    /// the same. Cases: nothing stored, room left, stored entries dropped, all stored and some
    /// new entries dropped, a limit of one; ids with non-ASCII bytes.
    @Test func appendingToAHistoryWritesWhatDecodingAppendingAndTrimmingWould() throws {
        func entry(_ number: Int) -> HistoryEntry {
            HistoryEntry(
                itemId: number % 3 == 0 ? "lunettes-é\(number)" : "frame-\(number)", kind: HistoryKind.allCases[number % 9],
                weight: Float(number) * 0.25 - 1, time: Int64(number) * 1_000 - 7)
        }
        let (spliced, splicedDirectory) = try Scratch.store()
        let (rebuilt, rebuiltDirectory) = try Scratch.store()
        defer {
            try? FileManager.default.removeItem(atPath: splicedDirectory)
            try? FileManager.default.removeItem(atPath: rebuiltDirectory)
        }
        let cases = [(stored: 0, appended: 3, limit: 5), (2, 2, 5), (4, 3, 5), (5, 2, 5), (3, 7, 5), (0, 8, 5), (6, 1, 1)]
        for (number, (stored, appended, limit)) in cases.enumerated() {
            let user = "u\(number)"
            let old = (0..<stored).map(entry)
            let new = (stored..<stored + appended).map(entry)
            let expected = UserHistory(entries: Array((old + new).suffix(limit)))
            if stored > 0 { try spliced.write { try $0.putHistory(user, UserHistory(entries: old)) } }
            try spliced.write { try $0.appendHistory(user, new[...], keepingNewest: limit) }
            try rebuilt.write { try $0.putHistory(user, expected) }
            #expect(try spliced.read { try $0.history(of: user) } == expected, "case \(number)")
        }
        #expect(try spliced.checksum().digest == rebuilt.checksum().digest)
    }

    /// A damaged stored history stops an append with the error reading it gives.
    @Test func appendingToADamagedHistoryFailsAsReadingIt() throws {
        let (store, directory) = try Scratch.store()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Layout 1, one entry: click (1), weight 0.3, time 5, the 7-byte id "frame-1".
        var good: [UInt8] = [1, 1, 0, 1]
        withUnsafeBytes(of: Float(0.3).bitPattern.littleEndian) { good += $0 }
        withUnsafeBytes(of: Int64(5).littleEndian) { good += $0 }
        good += [7, 0] + Array("frame-1".utf8)
        try Scratch.plant(directory, table: .userHistory, key: "u1", value: good)
        let stored = UserHistory(entries: [HistoryEntry(itemId: "frame-1", kind: .click, weight: 0.3, time: 5)])
        #expect(try store.read { try $0.history(of: "u1") } == stored)
        let damages: [[UInt8]] = [
            [1, 1], Array(good.dropLast()), good + [0], [1, 1, 0, 42] + good.dropFirst(4),
            Array(good.prefix(18)) + [0xFF] + good.dropFirst(19),
        ]
        for damaged in damages {
            try Scratch.plant(directory, table: .userHistory, key: "u1", value: damaged)
            let readError = #expect(throws: StoreError.self) { try store.read { try $0.history(of: "u1") } }
            let appendError = #expect(throws: StoreError.self) {
                try store.write { try $0.appendHistory("u1", [HistoryEntry(itemId: "frame-2", kind: .view, weight: 0.1, time: 6)][...], keepingNewest: 50) }
            }
            #expect(readError.map { "\($0)" } == appendError.map { "\($0)" })
        }
    }

    @Test func purchasesAreListedPerUserWithoutTheirNeighbours() throws {
        let directory = NSTemporaryDirectory() + "loupe-purchases-\(UUID().uuidString)"
        let store = try StateStore(directory: directory, model: .onlineLearner)
        try store.write { transaction in
            try transaction.putPurchase(user: "u1", item: "b", time: 2)
            try transaction.putPurchase(user: "u1", item: "a", time: 1)
            try transaction.putPurchase(user: "u10", item: "c", time: 3)
            try transaction.putPurchase(user: "u", item: "d", time: 4)
        }
        #expect(try store.read { try $0.purchases(of: "u1") } == ["a", "b"])
        #expect(try store.read { try $0.purchases(of: "u10") } == ["c"])
        #expect(try store.write { try $0.deletePurchase(user: "u1", item: "a") })
        #expect(try store.read { try $0.purchases(of: "u1") } == ["b"])
        #expect(throws: StoreError.self) { try store.write { try $0.putPurchase(user: "", item: "x", time: 0) } }
    }
}
