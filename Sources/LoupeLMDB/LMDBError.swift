import CLMDB

/// An LMDB call that failed, with the operation and LMDB's own message.
public struct LMDBError: Error, Sendable, CustomStringConvertible {
    public var code: Int32
    public var operation: String

    public init(code: Int32, operation: String) {
        self.code = code
        self.operation = operation
    }

    public var description: String {
        "\(operation): \(String(cString: mdb_strerror(code))) (LMDB error \(code))"
    }

    public var isMapFull: Bool { code == MDB_MAP_FULL }

    /// A key, or a named database, that does not exist.
    public var isNotFound: Bool { code == MDB_NOTFOUND }
}

@inline(__always)
func check(_ code: Int32, _ operation: @autoclosure () -> String) throws(LMDBError) {
    if code != 0 { throw LMDBError(code: code, operation: operation()) }
}
