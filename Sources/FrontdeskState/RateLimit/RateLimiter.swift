import Foundation
import Synchronization

/// A rate limit: `limit` requests per `period` sustained, and up to `burst` at once from idle.
///
/// Example: `limit: 60, period: .seconds(60), burst: 10` lets a client send ten requests at
/// once, then one a second. A `burst` below 1 counts as 1 (strictly spaced requests).
public struct RateLimitPolicy: Sendable, Equatable {
    /// Names the policy in keys and in the `RateLimit-Policy` header.
    public let name: String
    public let limit: Int
    public let period: Duration
    public let burst: Int

    public init(name: String, limit: Int, period: Duration, burst: Int) {
        precondition(limit > 0 && period > .zero, "a rate limit needs a positive limit and period")
        self.name = name
        self.limit = limit
        self.period = period
        self.burst = burst
    }

    /// GCRA's emission interval T: the steady spacing between requests, in nanoseconds.
    var emissionInterval: Int64 { max(1, period.nanoseconds / Int64(limit)) }

    /// GCRA's delay variation tolerance τ = T·(burst − 1), in nanoseconds.
    var tolerance: Int64 {
        let (product, overflow) = emissionInterval.multipliedReportingOverflow(by: Int64(max(1, burst) - 1))
        return overflow ? .max / 4 : product
    }
}

/// The answer to one request, with what the `RateLimit` headers and `Retry-After` need.
public struct RateLimitDecision: Sendable, Equatable {
    public let allowed: Bool
    public let limit: Int
    /// Requests that may still be sent right now (after this one, when it was allowed).
    public let remaining: Int
    /// Time until the key is back to its full burst if it sends nothing more.
    public let resetAfter: Duration
    /// When denied: the time until one request will be allowed. nil when allowed.
    public let retryAfter: Duration?

    public init(allowed: Bool, limit: Int, remaining: Int, resetAfter: Duration, retryAfter: Duration?) {
        self.allowed = allowed
        self.limit = limit
        self.remaining = remaining
        self.resetAfter = resetAfter
        self.retryAfter = retryAfter
    }
}

/// A sharded GCRA (generic cell rate algorithm) limiter keyed by `(policy.name, key)`.
///
/// GCRA keeps one number per key, the theoretical arrival time (TAT) of the next request at the
/// steady rate: a request at time t is allowed when t ≥ TAT − τ, and an allowed request moves TAT
/// to max(TAT, t) + T. A key whose TAT is in the past is indistinguishable from a key never
/// seen, which is what makes dropping idle keys (`sweepIdle`) lossless.
///
/// Memory is bounded: each shard keeps at most `maxKeysPerShard` keys and drops its least recently
/// checked key to admit a new one. Denied requests count as use, so a client hammering the
/// limiter stays tracked.
public final class RateLimiter: Sendable {
    struct Key: Hashable, Sendable {
        let policy: String
        let key: String
    }

    struct Node {
        var key: Key
        var tat: Int64
        /// False for a slot on the free list.
        var live: Bool
        var prev: Int32
        var next: Int32
    }

    /// One shard: a map to slots and a recency list through them, as in the cache.
    struct ShardState {
        var slots: [Key: Int32] = [:]
        var nodes: [Node] = []
        var head: Int32 = -1
        var tail: Int32 = -1
        var freeList: Int32 = -1

        mutating func unlink(_ n: Int32) {
            let p = nodes[Int(n)].prev, x = nodes[Int(n)].next
            if p >= 0 { nodes[Int(p)].next = x } else { head = x }
            if x >= 0 { nodes[Int(x)].prev = p } else { tail = p }
        }

        mutating func pushFront(_ n: Int32) {
            nodes[Int(n)].prev = -1
            nodes[Int(n)].next = head
            if head >= 0 { nodes[Int(head)].prev = n } else { tail = n }
            head = n
        }

        mutating func touch(_ n: Int32) {
            guard head != n else { return }
            unlink(n)
            pushFront(n)
        }

        mutating func insert(_ key: Key, tat: Int64, limit: Int) {
            while slots.count >= limit, tail >= 0 { remove(tail) }
            let node = Node(key: key, tat: tat, live: true, prev: -1, next: -1)
            let n: Int32
            if freeList >= 0 {
                n = freeList
                freeList = nodes[Int(n)].next
                nodes[Int(n)] = node
            } else {
                n = Int32(nodes.count)
                nodes.append(node)
            }
            slots[key] = n
            pushFront(n)
        }

        mutating func remove(_ n: Int32) {
            slots[nodes[Int(n)].key] = nil
            unlink(n)
            nodes[Int(n)].key = Key(policy: "", key: "")
            nodes[Int(n)].live = false
            nodes[Int(n)].next = freeList
            freeList = n
        }
    }

    final class Shard: Sendable {
        let state = Mutex(ShardState())
    }

    public let maxKeysPerShard: Int
    private let layout: ShardLayout
    private let shards: [Shard]
    private let now: @Sendable () -> Date

    public init(shards: Int = 16, maxKeysPerShard: Int = 50_000, now: @escaping @Sendable () -> Date = { Date() }) {
        precondition(maxKeysPerShard > 0, "the limiter must be able to track a key")
        self.maxKeysPerShard = maxKeysPerShard
        self.now = now
        layout = ShardLayout(requested: shards)
        self.shards = (0..<layout.count).map { _ in Shard() }
    }

    /// Decides one request from `key` under `policy`, consuming one unit when it is allowed.
    public func check(key: String, policy: RateLimitPolicy) -> RateLimitDecision {
        let t = now().nanosecondsSinceReferenceDate
        let interval = policy.emissionInterval
        let tolerance = policy.tolerance
        let mapKey = Key(policy: policy.name, key: key)
        return shards[layout.shard(forHash: mapKey.hashValue)].state.withLock { state in
            let slot = state.slots[mapKey]
            let tat = max(slot.map { state.nodes[Int($0)].tat } ?? t, t)
            // This request conforms if it is no earlier than τ before its theoretical arrival.
            let allowAt = tat &- tolerance
            if t < allowAt {
                if let slot { state.touch(slot) }
                return RateLimitDecision(allowed: false, limit: policy.limit, remaining: 0,
                                         resetAfter: .nanoseconds(tat &- t), retryAfter: .nanoseconds(allowAt &- t))
            }
            let newTAT = tat &+ interval
            if let slot {
                state.nodes[Int(slot)].tat = newTAT
                state.touch(slot)
            } else {
                state.insert(mapKey, tat: newTAT, limit: maxKeysPerShard)
            }
            // Whole further requests that fit before the tolerance runs out.
            let remaining = Int(max(0, (t &+ tolerance &+ interval &- newTAT) / interval))
            return RateLimitDecision(allowed: true, limit: policy.limit, remaining: remaining,
                                     resetAfter: .nanoseconds(newTAT &- t), retryAfter: nil)
        }
    }

    /// Forgets keys whose TAT has passed (they are back to a full burst, the same as unknown
    /// keys) and returns how many went; the sweeper service calls this periodically.
    @discardableResult
    public func sweepIdle() -> Int {
        let t = now().nanosecondsSinceReferenceDate
        var removed = 0
        for shard in shards {
            removed += shard.state.withLock { state in
                var idle = 0
                for i in state.nodes.indices where state.nodes[i].live && state.nodes[i].tat <= t {
                    state.remove(Int32(i))
                    idle += 1
                }
                return idle
            }
        }
        return removed
    }

    /// Forgets `key` under `policy` (for example after a successful login, to clear the failures).
    public func reset(key: String, policy: RateLimitPolicy) {
        let mapKey = Key(policy: policy.name, key: key)
        shards[layout.shard(forHash: mapKey.hashValue)].state.withLock { state in
            if let slot = state.slots[mapKey] { state.remove(slot) }
        }
    }

    /// Keys currently tracked across all shards.
    public var trackedKeys: Int {
        shards.reduce(0) { sum, shard in sum + shard.state.withLock { $0.slots.count } }
    }
}
