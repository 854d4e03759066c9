import Foundation
import LoupeStore
import Testing

@Suite struct HeldSnapshotTests {
    @Test func aHeldSnapshotKeepsReadingTheStateItOpenedOn() throws {
        let (store, _) = try Scratch.store()
        try store.write { transaction in
            try transaction.putUserEmbedding("u", [1, 2, 3, 4])
            try transaction.setPosition(StorePosition(topic: "t", partition: 0, offset: 5))
        }
        let held = try store.openSnapshot()
        let opened = held.transactionId
        try store.write { transaction in
            try transaction.putUserEmbedding("u", [9, 9, 9, 9])
            try transaction.putUserEmbedding("v", [1, 1, 1, 1])
            try transaction.setPosition(StorePosition(topic: "t", partition: 0, offset: 8))
        }
        let seen = try held.withSnapshot { snapshot in
            (try snapshot.userEmbedding("u"), try snapshot.userEmbedding("v"), try snapshot.positions(), snapshot.transactionId)
        }
        #expect(seen.0 == [1, 2, 3, 4] && seen.1 == nil && seen.3 == opened)
        #expect(seen.2 == [StorePosition(topic: "t", partition: 0, offset: 5)])
        let newer = try store.openSnapshot()
        #expect(newer.transactionId > opened)
        #expect(try newer.withSnapshot { try $0.positions() } == [StorePosition(topic: "t", partition: 0, offset: 8)])
        #expect(try store.read { $0.transactionId } == newer.transactionId)
    }

    @Test func usableFromAnyThreadOneAtATime() async throws {
        let (store, _) = try Scratch.store()
        try store.write { try $0.putUserEmbedding("u", [1, 2, 3, 4]) }
        let held = try store.openSnapshot()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for _ in 0..<200 {
                        let row = try held.withSnapshot { try $0.userEmbedding("u") }
                        #expect(row == [1, 2, 3, 4])
                    }
                }
            }
            group.addTask {
                for index in 0..<50 { try store.write { try $0.putUserEmbedding("u", [Float(index), 0, 0, 0]) } }
            }
            try await group.waitForAll()
        }
    }

    @Test func closedSnapshotsRefuseUseAndReleaseTheirTransaction() throws {
        let (store, _) = try Scratch.store()
        let held = try store.openSnapshot()
        #expect(!held.isClosed)
        held.close()
        held.close()
        #expect(held.isClosed)
        #expect(throws: HeldSnapshotClosedError()) { try held.withSnapshot { _ in } }
        // Opening many in turn leaks no reader slots (LMDB allows 510 at once here).
        for _ in 0..<600 {
            let snapshot = try #require(try store.openSnapshot(waitingAtMost: .seconds(10)))
            _ = try snapshot.withSnapshot { try $0.dimension }
        }
    }
}
