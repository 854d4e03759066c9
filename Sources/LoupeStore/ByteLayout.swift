import LoupeBytes
#if !_endian(little)
    #error("LoupeStore maps embedding rows as native Float32, and its layouts are little-endian")
#endif

/// Appends fields in the store's little-endian layouts.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    mutating func append(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        bytes.appendLittleEndian(value)
    }

    mutating func append(_ value: Float) {
        bytes.appendLittleEndian(value)
    }

    mutating func append(_ value: Double) {
        bytes.appendLittleEndian(value)
    }

    mutating func append<S: Sequence>(contentsOf sequence: S) where S.Element == UInt8 {
        bytes.append(contentsOf: sequence)
    }
}

/// Reads fields of one row; every failure names the table and key it came from.
struct ByteReader {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0
    let table: String
    let key: String

    init(_ bytes: UnsafeRawBufferPointer, table: String, key: String) {
        self.bytes = bytes
        self.table = table
        self.key = key
    }

    func corrupt(_ reason: String) -> StoreError {
        .corruptRow(table: table, key: key, reason: reason)
    }

    mutating func uint8(_ field: String) throws(StoreError) -> UInt8 {
        try need(1, field)
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func littleEndian<T: FixedWidthInteger>(_ type: T.Type, _ field: String) throws(StoreError) -> T {
        try need(MemoryLayout<T>.size, field)
        defer { offset += MemoryLayout<T>.size }
        return bytes.loadLittleEndian(T.self, at: offset)
    }

    mutating func float(_ field: String) throws(StoreError) -> Float {
        Float(bitPattern: try littleEndian(UInt32.self, field))
    }

    mutating func double(_ field: String) throws(StoreError) -> Double {
        Double(bitPattern: try littleEndian(UInt64.self, field))
    }

    mutating func bytes(_ count: Int, _ field: String) throws(StoreError) -> UnsafeRawBufferPointer {
        try need(count, field)
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
    }

    /// A UTF-8 string preceded by its byte length (UInt16).
    mutating func lengthPrefixedString(_ field: String) throws(StoreError) -> String {
        let length = Int(try littleEndian(UInt16.self, "\(field) length"))
        let text = try bytes(length, field)
        let string = String(decoding: text, as: UTF8.self)
        // Decoding replaces invalid sequences, so a round trip that changes the bytes means invalid UTF-8.
        guard string.utf8.elementsEqual(text) else { throw corrupt("\(field) is not valid UTF-8") }
        return string
    }

    /// Fails if bytes are left over: a row longer than its layout is as corrupt as a short one.
    func finish() throws(StoreError) {
        if offset != bytes.count { throw corrupt("\(bytes.count - offset) unexpected bytes after the last field") }
    }

    private func need(_ count: Int, _ field: String) throws(StoreError) {
        if bytes.count - offset < count {
            throw corrupt("row ends at byte \(bytes.count) before \(field) (needs \(count) more at offset \(offset))")
        }
    }
}
