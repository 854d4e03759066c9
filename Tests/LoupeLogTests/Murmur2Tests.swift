import LoupeLog
import Testing

@Suite struct Murmur2Tests {
    /// The vectors of Kafka's own `UtilsTest.testMurmur2`, computed by the Java client.
    @Test(arguments: [
        ("21", Int32(-973_932_308)),
        ("foobar", -790_332_482),
        ("a-little-bit-long-string", -985_981_536),
        ("a-little-bit-longer-string", -1_486_304_829),
        ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
        ("abc", 479_470_107),
    ])
    func matchesKafkaJavaClient(key: String, expected: Int32) {
        #expect(Murmur2.hash(Array(key.utf8)) == expected)
    }

    @Test func partitionIsPositiveModulo() {
        // -973932308 & 0x7fffffff = 1173551340; mod 6 = 0.
        #expect(Murmur2.partition(for: Array("21".utf8), partitions: 6) == Int32(1_173_551_340 % 6))
        for key in ["user-1", "user-2", "", "ü"] {
            let partition = Murmur2.partition(for: Array(key.utf8), partitions: 7)
            #expect((0..<7).contains(partition))
        }
    }
}
