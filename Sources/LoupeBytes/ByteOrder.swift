/// Loupe's one codec for fixed-width numbers in bytes: little-endian in stored values and
/// records, big-endian where keys must sort by number (LMDB compares keys byte by byte).
/// Reads are unaligned: values sit at any offset of a row.

/// `value` as little-endian bytes.
@inlinable
public func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

/// `value` as big-endian bytes.
@inlinable
public func bigEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
}

extension Array where Element == UInt8 {
    @inlinable
    public mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    @inlinable
    public mutating func appendLittleEndian(_ value: Float) {
        appendLittleEndian(value.bitPattern)
    }

    @inlinable
    public mutating func appendLittleEndian(_ value: Double) {
        appendLittleEndian(value.bitPattern)
    }

    @inlinable
    public mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}

extension UnsafeRawBufferPointer {
    /// The little-endian `T` at byte `offset` (which must leave room for it).
    @inlinable
    public func loadLittleEndian<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        precondition(offset >= 0 && offset + MemoryLayout<T>.size <= count, "reading \(T.self) at \(offset) of \(count) bytes")
        return T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    @inlinable
    public func loadLittleEndian(_ type: Float.Type, at offset: Int) -> Float {
        Float(bitPattern: loadLittleEndian(UInt32.self, at: offset))
    }

    @inlinable
    public func loadLittleEndian(_ type: Double.Type, at offset: Int) -> Double {
        Double(bitPattern: loadLittleEndian(UInt64.self, at: offset))
    }

    /// The big-endian `T` at byte `offset` (which must leave room for it).
    @inlinable
    public func loadBigEndian<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        precondition(offset >= 0 && offset + MemoryLayout<T>.size <= count, "reading \(T.self) at \(offset) of \(count) bytes")
        return T(bigEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
