import LoupeEvents
import LoupeStore

/// One state of the store as the recommender serves it: a held read transaction (for the few
/// per-request reads of user rows) and the item side loaded from that same transaction.
///
/// Requests keep it alive by reference while they use it; the transaction ends when the last
/// reference goes (the recommender has moved to a newer snapshot by then).
final class ServingSnapshot: Sendable {
    let held: HeldSnapshot
    /// The store's commit it reads: with the model, it changes whenever the item side can have.
    let transactionId: Int
    /// The model it serves.
    let model: ModelKey
    let positions: [StorePosition]
    /// When it was opened, in the recommender's clock (seconds).
    let openedAt: Double
    let catalog: ItemCatalog
    let faces: FaceShapeGroups
    let scratches: ScratchPool
    /// Candidates (and heap entries) a request may hold.
    let capacity: Int

    /// Loads the item side of the snapshot's model; nil when the model has no rows yet (no
    /// dimension).
    ///
    /// What makes a model servable is what it stores, not its algorithm: its embedding-model
    /// tables (`item_embeddings`, `item_biases`, `item_popularity`, `user_embeddings`, and the
    /// learner's face-shape groups when present). Any role that writes them under its model key
    /// can be served by a variant.
    static func load(_ held: HeldSnapshot, capacity: Int, openedAt: Double) throws -> ServingSnapshot? {
        try held.withSnapshot { snapshot -> ServingSnapshot? in
            guard try snapshot.dimension != nil else { return nil }
            let catalog = try ItemCatalog(snapshot)
            let faces = try FaceShapeGroups(snapshot, catalog: catalog)
            return ServingSnapshot(
                held: held, model: snapshot.model, positions: try snapshot.positions(),
                openedAt: openedAt, catalog: catalog, faces: faces, capacity: capacity)
        }
    }

    private init(
        held: HeldSnapshot, model: ModelKey, positions: [StorePosition], openedAt: Double, catalog: ItemCatalog,
        faces: FaceShapeGroups, capacity: Int
    ) {
        self.held = held
        transactionId = held.transactionId
        self.model = model
        self.positions = positions
        self.openedAt = openedAt
        self.catalog = catalog
        self.faces = faces
        self.capacity = capacity
        scratches = ScratchPool(itemCount: catalog.count, dimension: catalog.dimension, capacity: capacity)
    }
}
