import Foundation

/// A set of device row ids stored compactly: a sorted array of 32-bit ids, or a bitmap from the
/// smallest id when that is smaller (dense sets such as `.*` pools: 80,000 devices in 10 KB).
public struct MemberSet: Equatable, Sendable {
    public private(set) var ids: [UInt32]

    public init(sortedIds: [UInt32]) { ids = sortedIds }
    public init<S: Sequence>(_ ids: S) where S.Element == Int64 {
        self.ids = Array(Set(ids.map { UInt32(truncatingIfNeeded: $0) })).sorted()
    }

    public var count: Int { ids.count }

    public func contains(_ id: Int64) -> Bool { MemberSet.search(ids, UInt32(truncatingIfNeeded: id)).found }

    @discardableResult
    public mutating func insert(_ id: Int64) -> Bool {
        let v = UInt32(truncatingIfNeeded: id)
        let (found, at) = MemberSet.search(ids, v)
        if found { return false }
        ids.insert(v, at: at)
        return true
    }

    @discardableResult
    public mutating func remove(_ id: Int64) -> Bool {
        let (found, at) = MemberSet.search(ids, UInt32(truncatingIfNeeded: id))
        if !found { return false }
        ids.remove(at: at)
        return true
    }

    static func search(_ a: [UInt32], _ v: UInt32) -> (found: Bool, index: Int) {
        var lo = 0, hi = a.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if a[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        return (lo < a.count && a[lo] == v, lo)
    }

    // MARK: encoding: byte 0 is the form (0 array, 1 bitmap), then little-endian 32-bit words.

    public func encoded() -> Data {
        guard let first = ids.first, let last = ids.last else { return Data([0]) }
        let span = Int(last - first) + 1
        let bitmapBytes = (span + 7) / 8 + 4
        var data = Data()
        if bitmapBytes < ids.count * 4 {
            data.reserveCapacity(bitmapBytes + 1)
            data.append(1)
            appendWord(&data, first)
            var bits = [UInt8](repeating: 0, count: (span + 7) / 8)
            for id in ids {
                let off = Int(id - first)
                bits[off >> 3] |= UInt8(1 << (off & 7))
            }
            data.append(contentsOf: bits)
        } else {
            data.reserveCapacity(ids.count * 4 + 1)
            data.append(0)
            for id in ids { appendWord(&data, id) }
        }
        return data
    }

    public init(encoded data: Data) {
        guard let form = data.first else { ids = []; return }
        let bytes = [UInt8](data)
        if form == 1, bytes.count >= 5 {
            let base = MemberSet.word(bytes, 1)
            var out: [UInt32] = []
            for i in 5..<bytes.count where bytes[i] != 0 {
                let b = bytes[i]
                for bit in 0..<8 where b & (1 << bit) != 0 {
                    out.append(base + UInt32((i - 5) * 8 + bit))
                }
            }
            ids = out
        } else {
            var out: [UInt32] = []
            out.reserveCapacity((bytes.count - 1) / 4)
            var i = 1
            while i + 4 <= bytes.count { out.append(MemberSet.word(bytes, i)); i += 4 }
            ids = out
        }
    }

    private func appendWord(_ data: inout Data, _ v: UInt32) {
        data.append(UInt8(v & 0xff)); data.append(UInt8((v >> 8) & 0xff))
        data.append(UInt8((v >> 16) & 0xff)); data.append(UInt8(v >> 24))
    }

    private static func word(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }
}
