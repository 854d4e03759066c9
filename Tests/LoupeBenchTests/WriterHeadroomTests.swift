import LoupeEvents
import Foundation
import LoupeStore
import Testing

@testable import LoupeBench

/// The simulated learner of `bench serve` stops with a reason, instead of growing the map (which
/// would wait forever for the snapshots its own process holds), once the store's file comes
/// within the headroom of the end of the map.
@Suite struct WriterHeadroomTests {
    @Test func theWriterStopsBeforeTheMapWouldHaveToGrow() throws {
        let directory = NSTemporaryDirectory() + "loupe-headroom-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try StateStore(directory: directory, model: .onlineLearner, initialMapSize: 64 << 20)
        try store.write { try $0.setDimension(4) }
        // A new store's file is a few pages of a 64 MiB map.
        try ServeBenchmark.checkMapHeadroom(store, headroom: 32 << 20)
        let error = try #require(throws: ServeBenchmarkError.self) {
            try ServeBenchmark.checkMapHeadroom(store, headroom: 64 << 20)
        }
        #expect(error.description.contains("the simulated learner stopped"))
        #expect(error.description.contains("of a 64 MiB map"))
    }
}
