/// Counters for one cache namespace (the key prefix before the first `:`), or for the whole cache
/// under `"*"` in `ShardedCache.stats()`.
public struct CacheStats: Sendable, Equatable {
    public var hits: Int
    public var misses: Int
    /// Entries dropped to stay within the entry-count or byte budget.
    public var evictions: Int
    /// Entries dropped because their TTL passed (found on read, by a sweep, or at eviction time).
    public var expirations: Int
    public var entries: Int
    /// Sum of the `cost` of the entries held.
    public var bytes: Int

    public init(hits: Int = 0, misses: Int = 0, evictions: Int = 0, expirations: Int = 0, entries: Int = 0, bytes: Int = 0) {
        self.hits = hits
        self.misses = misses
        self.evictions = evictions
        self.expirations = expirations
        self.entries = entries
        self.bytes = bytes
    }

    /// hits ÷ (hits + misses), 0 before the first lookup.
    public var hitRatio: Double {
        let lookups = hits + misses
        return lookups == 0 ? 0 : Double(hits) / Double(lookups)
    }

    mutating func add(_ other: CacheStats) {
        hits += other.hits
        misses += other.misses
        evictions += other.evictions
        expirations += other.expirations
        entries += other.entries
        bytes += other.bytes
    }
}
