import Foundation
import Synchronization

/// An in-process LRU cache that takes Redis's place: sharded (power-of-two shards, one lock
/// each), bounded by an entry count and a byte budget, with TTLs, glob invalidation, single-flight
/// `getOrSet`, and counters per namespace.
///
/// Both budgets are split evenly over the shards and each shard evicts its own least recently
/// used entries, so eviction order is LRU per shard and approximately LRU overall; the totals never
/// exceed `maxEntries` and `maxBytes`. When a budget is smaller than the requested shard count,
/// fewer shards are used so that every shard can hold at least one entry.
///
/// The `now` closure is called with a shard's lock held (and only for entries that have a TTL);
/// it must not call back into the cache.
public final class ShardedCache<Value: Sendable>: Sendable {
    /// One shard's lock and state, in its own heap object so shards do not share cache lines.
    @usableFromInline
    final class Shard: Sendable {
        @usableFromInline let state: Mutex<CacheShardState<Value>>
        init(maxEntries: Int, maxBytes: Int) {
            state = Mutex(CacheShardState(maxEntries: maxEntries, maxBytes: maxBytes))
        }
    }

    public let maxEntries: Int
    public let maxBytes: Int
    @usableFromInline let layout: ShardLayout
    @usableFromInline let shards: [Shard]
    /// The same shards without reference counting: taking a strong reference per operation is an
    /// atomic increment and decrement on a cache line that every thread using the shard shares.
    /// `shards` keeps them alive for as long as the cache lives.
    @usableFromInline let unretainedShards: [Unmanaged<Shard>]
    @usableFromInline let now: @Sendable () -> Date

    public init(shards: Int = 16, maxEntries: Int, maxBytes: Int, now: @escaping @Sendable () -> Date = { Date() }) {
        precondition(maxEntries > 0 && maxBytes > 0, "a cache needs room for at least one entry")
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
        self.now = now
        let count = min(ShardLayout.powerOfTwo(atLeast: max(1, shards)),
                        ShardLayout.powerOfTwo(atMost: maxEntries),
                        ShardLayout.powerOfTwo(atMost: maxBytes))
        layout = ShardLayout(requested: count)
        // Spread the remainders so the per-shard budgets add up to exactly the totals.
        self.shards = (0..<count).map { i in
            Shard(maxEntries: maxEntries / count + (i < maxEntries % count ? 1 : 0),
                  maxBytes: maxBytes / count + (i < maxBytes % count ? 1 : 0))
        }
        unretainedShards = self.shards.map { Unmanaged.passUnretained($0) }
    }

    /// The number of shards actually used (a power of two, at most the requested count).
    public var shardCount: Int { shards.count }

    @inlinable
    func shard(for hash: Int) -> Shard {
        shards[layout.shard(forHash: hash)]
    }

    /// The value for `key`, or nil when absent or expired (an expired entry is dropped here).
    @inlinable
    public func get(_ key: String) -> Value? {
        let hash = key.hashValue
        return unretainedShards[layout.shard(forHash: hash)]._withUnsafeGuaranteedRef { shard in
            shard.state.withLock { state in state.get(key, hash: hash, now: now) }
        }
    }

    /// Stores `value` under `key`, replacing any entry. `cost` counts against `maxBytes` (use the
    /// value's approximate size in bytes); a `ttl` of zero or less removes the key instead.
    @inlinable
    public func set(_ key: String, _ value: Value, ttl: Duration? = nil, cost: Int = 1) {
        let hash = key.hashValue
        var expiresAt = Double.infinity
        if let ttl {
            guard ttl > .zero else {
                delete(key)
                return
            }
            expiresAt = now().timeIntervalSinceReferenceDate + ttl.seconds
        }
        let cost = max(0, cost)
        unretainedShards[layout.shard(forHash: hash)]._withUnsafeGuaranteedRef { shard in
            shard.state.withLock { state in
                state.set(key, hash: hash, value: value, expiresAt: expiresAt, cost: cost,
                          nowSeconds: { now().timeIntervalSinceReferenceDate })
            }
        }
    }

    /// Removes `key`; true when an entry was there. A `getOrSet` computing this key keeps its
    /// result for its own callers but no longer stores it.
    @inlinable @discardableResult
    public func delete(_ key: String) -> Bool {
        let hash = key.hashValue
        return shard(for: hash).state.withLock { $0.delete(key, hash: hash) }
    }

    /// Removes every key matching `glob` (`*` any run, `?` one character, e.g. `"faq:*"`) and
    /// returns how many entries went. Scans every shard, one at a time.
    @discardableResult
    public func invalidatePattern(_ glob: String) -> Int {
        let matcher = Glob(glob)
        var removed = 0
        for shard in shards {
            removed += shard.state.withLock { $0.removeMatching(matcher) }
        }
        return removed
    }

    /// Returns the cached value, or computes, stores and returns it. Concurrent misses of one key
    /// share a single computation (single flight); if it throws, every waiting caller gets the
    /// error and nothing is stored.
    ///
    /// The computation runs in its own unstructured task, so cancelling one caller neither cancels
    /// it nor fails the others. A `set`, `delete` or invalidation of the key while it runs retires
    /// it: its callers still get its value, but the value is not stored over the newer state.
    public func getOrSet(_ key: String, ttl: Duration? = nil, cost: Int = 1,
                         compute: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let hash = key.hashValue
        let shard = shard(for: hash)
        let outcome: FlightOutcome = shard.state.withLock { state in
            if let value = state.get(key, hash: hash, now: now) { return .hit(value) }
            if let flight = state.flights[key] { return .wait(flight.task) }
            let id = state.nextFlightID
            state.nextFlightID &+= 1
            let task = Task<Value, any Error> {
                do {
                    let value = try await compute()
                    self.finishFlight(key, hash: hash, id: id, value: value, ttl: ttl, cost: cost)
                    return value
                } catch {
                    self.finishFlight(key, hash: hash, id: id, value: nil, ttl: ttl, cost: cost)
                    throw error
                }
            }
            state.flights[key] = CacheFlight(id: id, task: task)
            return .wait(task)
        }
        switch outcome {
        case .hit(let value): return value
        case .wait(let task): return try await task.value
        }
    }

    private enum FlightOutcome: Sendable {
        case hit(Value)
        case wait(Task<Value, any Error>)
    }

    /// Stores a flight's result if the flight is still current, and retires it either way.
    private func finishFlight(_ key: String, hash: Int, id: UInt64, value: Value?, ttl: Duration?, cost: Int) {
        let expiresAt: Double
        if let ttl {
            expiresAt = ttl > .zero ? now().timeIntervalSinceReferenceDate + ttl.seconds : -.infinity
        } else {
            expiresAt = .infinity
        }
        shard(for: hash).state.withLock { state in
            guard state.flights[key]?.id == id else { return }
            state.flights[key] = nil
            guard let value, expiresAt > -.infinity else { return }
            state.set(key, hash: hash, value: value, expiresAt: expiresAt, cost: max(0, cost),
                      nowSeconds: { now().timeIntervalSinceReferenceDate })
        }
    }

    /// Counters per namespace (the key prefix before the first `:`, `""` when there is none),
    /// plus the sum over all of them under `"*"`.
    public func stats() -> [String: CacheStats] {
        var result: [String: CacheStats] = [:]
        var total = CacheStats()
        for shard in shards {
            shard.state.withLock { state in
                for (i, name) in state.namespaceNames.enumerated() {
                    result[name, default: CacheStats()].add(state.stats[i])
                    total.add(state.stats[i])
                }
            }
        }
        result["*"] = total
        return result
    }

    /// Drops every expired entry and returns how many went; run it periodically so entries that
    /// are never read again do not hold memory until evicted.
    @discardableResult
    public func sweepExpired() -> Int {
        let nowSeconds = now().timeIntervalSinceReferenceDate
        var removed = 0
        for shard in shards {
            removed += shard.state.withLock { $0.removeExpired(now: nowSeconds) }
        }
        return removed
    }

    /// Entries currently held (expired ones not yet dropped included).
    public var count: Int {
        shards.reduce(0) { sum, shard in sum + shard.state.withLock { $0.count } }
    }

    /// Removes every entry; counters are kept.
    public func removeAll() {
        _ = invalidatePattern("*")
    }
}
