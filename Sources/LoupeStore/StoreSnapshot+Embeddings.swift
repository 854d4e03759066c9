import LoupeLMDB

extension StoreSnapshot {
    /// Calls `body` with the user's embedding row, or returns nil if the user has none.
    ///
    /// Zero-copy when LMDB's value is 4-byte aligned (LMDB does not guarantee it: a value
    /// follows its key inside the page); otherwise the row is first copied to the stack. Either
    /// way the buffer is valid only inside `body`.
    public func withUserEmbedding<R>(_ id: String, _ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R? {
        try withEmbedding(.userEmbeddings, id, body)
    }

    /// Calls `body` with the item's embedding row, or returns nil; see `withUserEmbedding`.
    public func withItemEmbedding<R>(_ id: String, _ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R? {
        try withEmbedding(.itemEmbeddings, id, body)
    }

    /// Copies the user's row into `destination` (which must hold `dimension` values); false if
    /// the user has no row.
    public func copyUserEmbedding(_ id: String, into destination: UnsafeMutableBufferPointer<Float>) throws -> Bool {
        try copyEmbedding(.userEmbeddings, id, into: destination)
    }

    /// Copies the item's row into `destination`; see `copyUserEmbedding`.
    public func copyItemEmbedding(_ id: String, into destination: UnsafeMutableBufferPointer<Float>) throws -> Bool {
        try copyEmbedding(.itemEmbeddings, id, into: destination)
    }

    public func userEmbedding(_ id: String) throws -> [Float]? {
        try withEmbedding(.userEmbeddings, id) { Array($0) }
    }

    public func itemEmbedding(_ id: String) throws -> [Float]? {
        try withEmbedding(.itemEmbeddings, id) { Array($0) }
    }

    /// Every item embedding in one contiguous matrix, rows in item id order.
    public func itemEmbeddingMatrix() throws -> EmbeddingMatrix {
        try embeddingMatrix(.itemEmbeddings)
    }

    /// Every user embedding in one contiguous matrix, rows in user id order.
    public func userEmbeddingMatrix() throws -> EmbeddingMatrix {
        try embeddingMatrix(.userEmbeddings)
    }

    private func withEmbedding<R>(
        _ table: StoreTable, _ id: String, _ body: (UnsafeBufferPointer<Float>) throws -> R
    ) throws -> R? {
        guard let row = try value(table, id) else { return nil }
        let count = try checkedRowCount(row, table, key: id)
        if Int(bitPattern: row.baseAddress) % MemoryLayout<Float>.alignment == 0 {
            return try row.withMemoryRebound(to: Float.self) { try body($0) }
        }
        return try withUnsafeTemporaryAllocation(of: Float.self, capacity: count) { buffer in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: row)
            return try body(UnsafeBufferPointer(buffer))
        }
    }

    private func copyEmbedding(_ table: StoreTable, _ id: String, into destination: UnsafeMutableBufferPointer<Float>) throws
        -> Bool
    {
        guard let row = try value(table, id) else { return false }
        let count = try checkedRowCount(row, table, key: id)
        precondition(destination.count >= count, "destination holds \(destination.count) values; a row has \(count)")
        UnsafeMutableRawBufferPointer(destination).copyMemory(from: row)
        return true
    }

    private func embeddingMatrix(_ table: StoreTable) throws -> EmbeddingMatrix {
        let database = tables[table]
        let rows = try transaction.count(database)
        guard let dimension = try dimension else {
            if rows > 0 {
                throw StoreError.corruptRow(table: table.rawValue, key: "", reason: "rows exist but the model has no dimension")
            }
            return EmbeddingMatrix(ids: [], dimension: 0, values: [])
        }
        var ids: [String] = []
        ids.reserveCapacity(rows)
        let values = try [Float](unsafeUninitializedCapacity: rows * dimension) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            HugePages.advise(raw)
            try forEachEntry(database) { key, row in
                let id = String(decoding: key, as: UTF8.self)
                guard ids.count < rows else {
                    throw StoreError.corruptRow(table: table.rawValue, key: id, reason: "more rows than the table's count")
                }
                try checkedRowCount(row, table, key: id)
                UnsafeMutableRawBufferPointer(rebasing: raw[(ids.count * row.count)...]).copyMemory(from: row)
                ids.append(id)
                initialized = ids.count * dimension
            }
        }
        return EmbeddingMatrix(ids: ids, dimension: dimension, values: values)
    }

    /// The row's number of values, which must be the store's dimension.
    @discardableResult
    func checkedRowCount(_ row: UnsafeRawBufferPointer, _ table: StoreTable, key: String) throws -> Int {
        guard let dimension = try dimension else {
            throw StoreError.corruptRow(table: table.rawValue, key: key, reason: "a row exists but the model has no dimension")
        }
        guard row.count == dimension * MemoryLayout<Float>.size else {
            throw StoreError.corruptRow(
                table: table.rawValue, key: key,
                reason: "row is \(row.count) bytes; dimension \(dimension) needs \(dimension * MemoryLayout<Float>.size)")
        }
        return dimension
    }
}
