import Foundation
import LoupeLMDB
import Testing

@Suite struct LMDBReadOnlyAndIntrospectionTests {
    @Test func readOnlyOpenCreatesNothing() throws {
        let path = NSTemporaryDirectory() + "loupe-lmdb-\(UUID().uuidString)"
        #expect(throws: LMDBError.self) { try LMDBEnvironment(path: path, readOnly: true) }
        #expect(throws: LMDBError.self) { try LMDBEnvironment.shared(path: path, readOnly: true) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func readOnlyEnvironmentReadsExistingDatabases() throws {
        let path = LMDBEnvironmentTests.temporaryDirectory()
        do {
            let writer = try LMDBEnvironment(path: path)
            let table = try writer.database("t")
            try writer.write { try $0.put(table, [UInt8(1)], [UInt8(2)]) }
        }
        let reader = try LMDBEnvironment(path: path, readOnly: true)
        #expect(reader.isReadOnly)
        let table = try reader.database("t")
        #expect(try reader.read { try $0.get(table, [UInt8(1)]).map(Array.init) } == [2])
        let missing = #expect(throws: LMDBError.self) { try reader.database("absent") }
        #expect(missing?.isNotFound == true)
        #expect(throws: LMDBError.self) { try reader.write { _ in } }
    }

    @Test func sharedReadOnlyRequestsUseAnOpenWriter() throws {
        let path = LMDBEnvironmentTests.temporaryDirectory()
        let writer = try LMDBEnvironment.shared(path: path)
        #expect(try LMDBEnvironment.shared(path: path, readOnly: true) === writer)
        let other = LMDBEnvironmentTests.temporaryDirectory()
        _ = try LMDBEnvironment(path: other)
        let reader = try LMDBEnvironment.shared(path: other, readOnly: true)
        #expect(throws: LMDBError.self) { try LMDBEnvironment.shared(path: other) }
        withExtendedLifetime(reader) {}
    }

    @Test func databaseNamesAndStatistics() throws {
        let environment = try LMDBEnvironment(path: LMDBEnvironmentTests.temporaryDirectory())
        let beta = try environment.database("beta")
        _ = try environment.database("alpha")
        try environment.write { transaction in
            for key in 0..<100 as Range<UInt8> { try transaction.put(beta, [key], [UInt8](repeating: key, count: 100)) }
        }
        try environment.read { transaction in
            #expect(try transaction.databaseNames() == ["alpha", "beta"])
            let statistics = try transaction.statistics(beta)
            #expect(statistics.entries == 100 && statistics.leafPages > 0)
            #expect(
                statistics.bytes == statistics.pageSize
                    * (statistics.branchPages + statistics.leafPages + statistics.overflowPages))
        }
    }

    @Test func rawBufferKeysMatchArrayKeys() throws {
        let environment = try LMDBEnvironment(path: LMDBEnvironmentTests.temporaryDirectory())
        let table = try environment.database("t")
        let key: [UInt8] = [1, 2, 3]
        try key.withUnsafeBytes { keyBytes in
            try [UInt8(9)].withUnsafeBytes { value in try environment.write { try $0.put(table, keyBytes, value) } }
        }
        #expect(try environment.read { try $0.get(table, key).map(Array.init) } == [9])
        try environment.read { transaction in
            let cursor = try transaction.cursor(table)
            let found = try key.withUnsafeBytes { try cursor.seek(atOrAfter: UnsafeRawBufferPointer(rebasing: $0[..<2])) }
            #expect(found.map { Array($0.key) } == key)
        }
        #expect(try key.withUnsafeBytes { keyBytes in try environment.write { try $0.delete(table, keyBytes) } })
    }

    @Test func aNestedWriteFailsInsteadOfDeadlocking() throws {
        let environment = try LMDBEnvironment(path: LMDBEnvironmentTests.temporaryDirectory())
        let error = #expect(throws: LMDBError.self) { try environment.write { _ in try environment.write { _ in } } }
        #expect(error?.code == EDEADLK)
        #expect(throws: LMDBError.self) { try environment.write { _ in _ = try environment.database("late") } }
        _ = try environment.database("late")
        try environment.write { _ in }
    }
}
