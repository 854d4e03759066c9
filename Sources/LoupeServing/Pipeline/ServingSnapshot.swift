import LoupeStore

/// One state of the store as the recommender serves it: a held read transaction (for the few
/// per-request reads of user rows) and the item side loaded from that same transaction.
///
/// Requests keep it alive by reference while they use it; the transaction ends when the last
/// reference goes (the recommender has moved to a newer snapshot by then).
final class ServingSnapshot: Sendable {
    let held: HeldSnapshot
    let transactionId: Int
    /// `online-bpr-d<dimension>@<transaction id>`: changes whenever the item side can have changed.
    let modelVersion: String
    let positions: [StorePosition]
    /// When it was opened, in the recommender's clock (seconds).
    let openedAt: Double
    let catalog: ItemCatalog
    let faces: FaceShapeGroups
    let scratches: ScratchPool
    /// Candidates (and heap entries) a request may hold.
    let capacity: Int

    /// Loads the item side; nil when the store has no model yet (no dimension).
    static func load(_ held: HeldSnapshot, groups: RawTable?, capacity: Int, openedAt: Double) throws -> ServingSnapshot? {
        try held.withSnapshot { snapshot -> ServingSnapshot? in
            guard let dimension = try snapshot.dimension else { return nil }
            let catalog = try ItemCatalog(snapshot)
            let faces = try FaceShapeGroups(snapshot, table: groups, catalog: catalog)
            return ServingSnapshot(
                held: held, modelVersion: "online-bpr-d\(dimension)@\(held.transactionId)", positions: try snapshot.positions(),
                openedAt: openedAt, catalog: catalog, faces: faces, capacity: capacity)
        }
    }

    private init(
        held: HeldSnapshot, modelVersion: String, positions: [StorePosition], openedAt: Double, catalog: ItemCatalog,
        faces: FaceShapeGroups, capacity: Int
    ) {
        self.held = held
        transactionId = held.transactionId
        self.modelVersion = modelVersion
        self.positions = positions
        self.openedAt = openedAt
        self.catalog = catalog
        self.faces = faces
        self.capacity = capacity
        scratches = ScratchPool(itemCount: catalog.count, dimension: catalog.dimension, capacity: capacity)
    }
}
