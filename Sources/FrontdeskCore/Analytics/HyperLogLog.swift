/// A HyperLogLog sketch of distinct visitors (Flajolet et al. 2007, with the small-range
/// linear-counting correction): 2^12 = 4,096 one-byte registers, so 4 KiB per local day.
///
/// Error bound: the standard error is 1.04 / √4096 ≈ 1.6 %; an estimate is within ±3.25 %
/// (two standard errors) of the true count about 95 % of the time and within ±5 % (three)
/// 99.7 % of the time. Sketches merge by taking each register's maximum, so any range of days
/// is counted without double-counting a visitor seen on several days.
package struct HyperLogLog: Sendable, Equatable {
    package static let precision = 12
    package static let registerCount = 1 << precision
    /// Two standard errors, what the tests hold the estimate to.
    package static let errorBound = 2 * 1.04 / 64.0

    package private(set) var registers: [UInt8]

    package init() { registers = [UInt8](repeating: 0, count: Self.registerCount) }

    package init?(bytes: [UInt8]) {
        guard bytes.count == Self.registerCount else { return nil }
        registers = bytes
    }

    /// Adds a visitor id (already a uniform 64-bit hash; mixed once more for safety).
    /// Returns whether a register changed.
    @discardableResult
    package mutating func insert(_ id: Int64) -> Bool {
        var x = UInt64(bitPattern: id)
        // splitmix64 finaliser: ids from the truncated SHA-256 are uniform already; this keeps
        // the sketch sound for any other id source.
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        x ^= x >> 31
        let index = Int(x >> UInt64(64 - Self.precision))
        let rest = x << UInt64(Self.precision)
        let rank = UInt8(min(rest.leadingZeroBitCount, 64 - Self.precision) + 1)
        if rank > registers[index] {
            registers[index] = rank
            return true
        }
        return false
    }

    package mutating func merge(_ other: HyperLogLog) {
        for i in 0..<Self.registerCount where other.registers[i] > registers[i] { registers[i] = other.registers[i] }
    }

    /// The estimated number of distinct ids inserted.
    package var estimate: Int {
        let m = Double(Self.registerCount)
        var sum = 0.0
        var zeros = 0
        for r in registers {
            sum += 1.0 / Double(UInt64(1) << UInt64(r))
            if r == 0 { zeros += 1 }
        }
        let alpha = 0.7213 / (1 + 1.079 / m)
        let raw = alpha * m * m / sum
        if raw <= 2.5 * m, zeros > 0 {
            return Int((m * log(m / Double(zeros))).rounded())
        }
        return Int(raw.rounded())
    }
}

import Foundation
