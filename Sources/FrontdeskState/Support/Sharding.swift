import Foundation

/// How keys are spread over shards: a power-of-two shard count and one 64-bit hash per key.
///
/// The hash is `String.hashValue`, which is SipHash keyed with a per-process random seed: stable
/// within a process (what sharding needs) and not predictable from outside, so clients choosing
/// keys (addresses, session ids) cannot pile them into one shard or one probe chain.
@usableFromInline
struct ShardLayout: Sendable {
    @usableFromInline let mask: Int
    /// Shard bits are taken from the top of the hash so that the low bits stay free for each
    /// shard's own hash table (otherwise every key in a shard would share its low bits).
    @usableFromInline let shift: Int

    init(requested: Int) {
        let count = ShardLayout.powerOfTwo(atLeast: max(1, requested))
        mask = count - 1
        shift = Int.bitWidth - max(1, count.trailingZeroBitCount)
    }

    var count: Int { mask + 1 }

    @inlinable
    func shard(forHash hash: Int) -> Int {
        mask == 0 ? 0 : Int(UInt(bitPattern: hash) >> UInt(shift)) & mask
    }

    static func powerOfTwo(atLeast n: Int) -> Int {
        var p = 1
        while p < n { p <<= 1 }
        return p
    }

    static func powerOfTwo(atMost n: Int) -> Int {
        guard n > 1 else { return 1 }
        return 1 << (Int.bitWidth - 1 - n.leadingZeroBitCount)
    }
}

extension Duration {
    /// The duration as seconds in a `Double`, the unit `Date` arithmetic uses.
    @inlinable
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) * 1e-18
    }

    /// The duration in whole nanoseconds, saturating instead of trapping on overflow.
    var nanoseconds: Int64 {
        let (s, atto) = components
        let (ns, overflow) = s.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return s < 0 ? .min : .max }
        let (sum, overflow2) = ns.addingReportingOverflow(atto / 1_000_000_000)
        return overflow2 ? (s < 0 ? .min : .max) : sum
    }

    init(nanoseconds ns: Int64) {
        self = .nanoseconds(ns)
    }
}

extension Date {
    /// Nanoseconds since the reference date; the integer clock the rate limiter computes with.
    var nanosecondsSinceReferenceDate: Int64 {
        Int64((timeIntervalSinceReferenceDate * 1e9).rounded())
    }
}
