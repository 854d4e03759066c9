import Testing

@testable import LoupeStore

@Suite struct KeyOrderTests {
    /// Ids with shared prefixes, different lengths, the empty id and multi-byte characters.
    static let ids: [String] = {
        var ids = ["", "a", "ab", "abc", "abd", "b", "item-1", "item-10", "item-2", "é", "éa", "z\u{0}", "z", "日本", "🙂"]
        for index in 0..<200 { ids.append("item-\(index * 37 % 1_000)") }
        return Array(Set(ids))
    }()

    @Test func precedesIsTheUTF8ByteOrder() {
        for a in Self.ids {
            for b in Self.ids {
                #expect(KeyOrder.precedes(a, b) == a.utf8.lexicographicallyPrecedes(b.utf8), "\(a) against \(b)")
            }
        }
    }

    @Test func indexFindsEveryIdAndOnlyThose() {
        let sorted = Self.ids.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for (position, id) in sorted.enumerated() {
            #expect(KeyOrder.index(of: id, in: sorted) == position)
        }
        for missing in ["aa", "item-", "item-1000", "zz", "日", "\u{0}"] {
            #expect(KeyOrder.index(of: missing, in: sorted) == nil)
        }
        #expect(KeyOrder.index(of: "a", in: []) == nil)
    }
}
