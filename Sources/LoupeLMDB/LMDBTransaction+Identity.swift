import CLMDB

extension LMDBTransaction {
    /// LMDB's transaction id (`mdb_txn_id`): for a read transaction, the id of the last write
    /// transaction committed when it began. Two read transactions with the same id see the same
    /// data; every commit makes the id grow.
    public var id: Int { mdb_txn_id(handle) }
}
