/// Kafka's default key hash: 32-bit MurmurHash2 with seed 0x9747b28c, as the Java client's
/// `Utils.murmur2` computes it and librdkafka's `murmur2_random` partitioner uses.
///
/// Both log backends place a keyed record in `partition(for:partitions:)`, so a user's events
/// land in the same partition whether they went through Kafka or the embedded log.
public enum Murmur2 {
    public static func hash(_ bytes: some Collection<UInt8>) -> Int32 {
        hash(Array(bytes))
    }

    public static func hash(_ data: [UInt8]) -> Int32 {
        let m: UInt32 = 0x5bd1_e995
        let length = data.count
        var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: length)
        var index = 0
        while index + 4 <= length {
            var k = UInt32(data[index]) | UInt32(data[index + 1]) << 8 | UInt32(data[index + 2]) << 16
                | UInt32(data[index + 3]) << 24
            k &*= m
            k ^= k >> 24
            k &*= m
            h &*= m
            h ^= k
            index += 4
        }
        let tail = length - index
        if tail == 3 { h ^= UInt32(data[index + 2]) << 16 }
        if tail >= 2 { h ^= UInt32(data[index + 1]) << 8 }
        if tail >= 1 {
            h ^= UInt32(data[index])
            h &*= m
        }
        h ^= h >> 13
        h &*= m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    /// `(hash & 0x7fffffff) % partitions`, Kafka's `toPositive(murmur2(key)) % numPartitions`.
    public static func partition(for key: some Collection<UInt8>, partitions: Int) -> Int32 {
        partition(for: Array(key), partitions: partitions)
    }

    public static func partition(for key: [UInt8], partitions: Int) -> Int32 {
        precondition(partitions > 0, "a topic has at least one partition")
        return Int32((Int(hash(key)) & 0x7fff_ffff) % partitions)
    }
}
