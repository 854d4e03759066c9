import Foundation
import LoupeLMDB
import Testing

@Suite struct LMDBEnvironmentTests {
    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "loupe-lmdb-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func putGetDeleteAndCursorOrder() throws {
        let environment = try LMDBEnvironment(path: Self.temporaryDirectory())
        let table = try environment.database("t")
        try environment.write { transaction in
            for key in [3, 1, 2] as [UInt8] { try transaction.put(table, [key], [key, key]) }
        }
        let keys: [UInt8] = try environment.read { transaction in
            #expect(try transaction.get(table, [UInt8(2)]).map(Array.init) == [2, 2])
            #expect(try transaction.get(table, [UInt8(9)]) == nil)
            let cursor = try transaction.cursor(table)
            var keys: [UInt8] = []
            var entry = try cursor.first()
            while let current = entry {
                keys.append(current.key[0])
                entry = try cursor.next()
            }
            return keys
        }
        #expect(keys == [1, 2, 3])
        let removed = try environment.write { transaction in try transaction.delete(table, [UInt8(1)]) }
        #expect(removed)
        #expect(try environment.read { try $0.count(table) } == 2)
    }

    @Test func mapGrowsWhenFull() throws {
        let environment = try LMDBEnvironment(path: Self.temporaryDirectory(), initialMapSize: 1 << 16)
        let table = try environment.database("big")
        let value = [UInt8](repeating: 7, count: 4096)
        for batch in 0..<10 {
            try environment.write { transaction in
                for index in 0..<256 {
                    var key: [UInt8] = []
                    withUnsafeBytes(of: UInt32(batch * 256 + index).bigEndian) { key.append(contentsOf: $0) }
                    try transaction.put(table, key, value)
                }
            }
        }
        #expect(try environment.read { try $0.count(table) } == 2560)
        #expect(environment.mapSize > 10 << 20)
    }

    @Test func readersSeeASnapshot() throws {
        let environment = try LMDBEnvironment(path: Self.temporaryDirectory())
        let table = try environment.database("snapshot")
        try environment.write { try $0.put(table, [UInt8(1)], [UInt8(1)]) }
        try environment.read { snapshot in
            try environment.write { try $0.put(table, [UInt8(1)], [UInt8(2)]) }
            #expect(try snapshot.get(table, [UInt8(1)]).map(Array.init) == [1])
        }
        #expect(try environment.read { try $0.get(table, [UInt8(1)]).map(Array.init) } == [2])
    }

    @Test func sharedEnvironmentIsOnePerPath() throws {
        let path = Self.temporaryDirectory()
        let first = try LMDBEnvironment.shared(path: path)
        let second = try LMDBEnvironment.shared(path: path + "/")
        #expect(first === second)
    }

    @Test func errorsNameTheOperation() throws {
        let environment = try LMDBEnvironment(path: Self.temporaryDirectory())
        let table = try environment.database("t")
        #expect(throws: LMDBError.self) {
            try environment.write { try $0.put(table, [UInt8](), [UInt8(1)]) }
        }
    }
}
