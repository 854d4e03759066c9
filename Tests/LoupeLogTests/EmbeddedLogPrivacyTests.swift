import LoupeEmbeddedLog
import Foundation
import Glibc
import LoupeLog
import Testing

/// The embedded log's directories and files are private, whatever the umask.
@Suite struct EmbeddedLogPrivacyTests {
    static func mode(_ path: String) -> mode_t {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return info.st_mode & 0o7777
    }

    @Test func directoriesAre0700AndFiles0600() throws {
        umask(0o022)
        let root = NSTemporaryDirectory() + "loupe-embedded-private-\(UUID().uuidString)"
        let data = root + "/data"
        let log = try EmbeddedLog(directory: data)
        _ = try log.apply([TopicSpec(name: "private", partitions: 1, key: "k", config: [:])])
        let consumer = try log.makeConsumer(group: nil)
        try consumer.assign([TopicPartition("private", 0): .beginning])
        let producer = try log.makeProducer()
        try producer.send(topic: "private", key: nil, value: Array("x".utf8), timestamp: 1)
        try producer.close()
        #expect(try consumer.poll(maxRecords: 10, timeout: .seconds(10)).count == 1)
        for directory in [root, data, data + "/log"] {
            #expect(Self.mode(directory) == 0o700, "\(directory): \(String(Self.mode(directory), radix: 8))")
        }
        for file in ["data.mdb", "lock.mdb", "appended"] {
            let path = data + "/log/" + file
            #expect(Self.mode(path) == 0o600, "\(path): \(String(Self.mode(path), radix: 8))")
        }
    }
}
