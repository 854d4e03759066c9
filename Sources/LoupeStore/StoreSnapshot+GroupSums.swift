import LoupeBytes
import LoupeLMDB

/// A group of users or items whose rows a model keeps summed: users by face shape (index of
/// `UserRecord.faceShapes`, or its count for an unknown shape), items by style.
public enum EntityGroup: Sendable, Hashable {
    case faceShape(Int)
    case style(Int)

    /// The `group_sums` key: `face/<g>` or `style/<g>`.
    var key: String {
        switch self {
        case .faceShape(let group): "face/\(group)"
        case .style(let group): "style/\(group)"
        }
    }
}

/// A group's member count and the sum of its members' rows (`dimension` values).
public struct GroupSums: Sendable, Equatable {
    public var members: Int64
    public var sums: [Double]

    public init(members: Int64, sums: [Double]) {
        self.members = members
        self.sums = sums
    }

    /// The mean row, or nil for a group without members.
    public var mean: [Double]? {
        members > 0 ? sums.map { $0 / Double(members) } : nil
    }
}

/// `group_sums`: group → member count (Int64) ‖ sums (`dimension` × Float64), little-endian.
extension StoreSnapshot {
    /// The group's sums, or nil if the model has none stored for it.
    public func groupSums(_ group: EntityGroup) throws -> GroupSums? {
        guard let dimension = try dimension else { return nil }
        return try value(.groupSums, group.key).map { bytes throws(StoreError) in
            guard bytes.count == 8 + 8 * dimension else {
                throw .corruptRow(
                    table: StoreTable.groupSums.rawValue, key: group.key,
                    reason: "\(bytes.count) bytes; a count and \(dimension) sums need \(8 + 8 * dimension)")
            }
            return GroupSums(
                members: bytes.loadLittleEndian(Int64.self, at: 0),
                sums: (0..<dimension).map { bytes.loadLittleEndian(Double.self, at: 8 + 8 * $0) })
        }
    }
}

extension StoreTransaction {
    /// Stores the group's member count and sums (`dimension` values).
    public func putGroupSums(_ group: EntityGroup, members: Int64, sums: some Collection<Double>) throws {
        guard let dimension = try dimension else { throw StoreError.dimensionNotSet(table: StoreTable.groupSums.rawValue, key: group.key) }
        guard sums.count == dimension else {
            throw StoreError.dimensionMismatch(table: StoreTable.groupSums.rawValue, key: group.key, expected: dimension, actual: sums.count)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + 8 * dimension)
        bytes.appendLittleEndian(members)
        for sum in sums { bytes.appendLittleEndian(sum) }
        try bytes.withUnsafeBytes { try put(.groupSums, group.key, $0) }
    }
}
