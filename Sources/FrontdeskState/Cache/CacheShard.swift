import Foundation

/// One entry slot of a cache shard; slots are recycled through a free list so that a full cache
/// allocates nothing per `set`.
///
/// The cache's storage types are `@usableFromInline` and their hot methods `@inlinable` so that
/// the compiler specializes them for the client's concrete `Value`; unspecialized generic code
/// copies every node through value witnesses and runs ten times slower.
///
/// Fields are ordered hot first (what a hit reads) and kept small: a lookup of a random key
/// misses the CPU cache on its bucket and on its node, and those two misses are most of its cost.
/// The hash is not kept: the bucket holds its tag, and removal recomputes it.
@usableFromInline
struct CacheNode<Value> {
    @usableFromInline var key: String
    /// `nil` marks a free slot.
    @usableFromInline var value: Value?
    /// Seconds since the reference date (`Date.timeIntervalSinceReferenceDate`); `.infinity` = no TTL.
    @usableFromInline var expiresAt: Double
    @usableFromInline var namespace: Int32
    @usableFromInline var cost: Int

    @inlinable
    init(key: String, value: Value?, expiresAt: Double, cost: Int, namespace: Int32) {
        self.key = key
        self.value = value
        self.expiresAt = expiresAt
        self.cost = cost
        self.namespace = namespace
    }
}

/// A slot's neighbours in the recency list (most recent at `head`), kept apart from the nodes:
/// moving an entry to the front rewrites three or four of these, and at 8 bytes each they stay in
/// the CPU cache where the nodes themselves would not.
@usableFromInline
struct CacheLink {
    @usableFromInline var prev: Int32
    @usableFromInline var next: Int32

    @inlinable
    init(prev: Int32, next: Int32) {
        self.prev = prev
        self.next = next
    }
}

/// A `getOrSet` computation in progress; `id` tells whether a finishing flight is still the
/// current one for its key (a `set`, `delete` or invalidation in the meantime retires it).
@usableFromInline
struct CacheFlight<Value: Sendable>: Sendable {
    @usableFromInline let id: UInt64
    @usableFromInline let task: Task<Value, any Error>

    @usableFromInline
    init(id: UInt64, task: Task<Value, any Error>) {
        self.id = id
        self.task = task
    }
}

/// The state behind one shard's lock: an LRU list, an open-addressing index, and per-namespace
/// counters.
///
/// The index is our own linear-probing table rather than a `Dictionary`: the key is hashed once
/// (for the shard and the bucket) instead of twice, and each bucket holds 32 bits of the hash
/// beside the slot number, so probing compares tags without touching the nodes and removal finds
/// a bucket's home without them. Deletion shifts followers back, so there are no tombstones.
@usableFromInline
struct CacheShardState<Value: Sendable> {
    @usableFromInline var nodes: [CacheNode<Value>] = []
    @usableFromInline var links: [CacheLink] = []
    /// Per bucket: the hash's tag (bits 32–63) in the high half, slot number + 1 in the low half;
    /// 0 = empty. Kept at most half full. The home bucket is `tag & mask`: the shard index uses
    /// only the top bits of the tag, the bucket index its low bits.
    @usableFromInline var table: [UInt64] = Array(repeating: 0, count: 16)
    @usableFromInline var count = 0
    @usableFromInline var bytes = 0
    @usableFromInline var head: Int32 = -1
    @usableFromInline var tail: Int32 = -1
    @usableFromInline var freeList: Int32 = -1
    @usableFromInline let maxEntries: Int
    @usableFromInline let maxBytes: Int

    @usableFromInline var namespaceIDs: [String: Int32] = [:]
    @usableFromInline var namespaceNames: [String] = []
    @usableFromInline var stats: [CacheStats] = []

    @usableFromInline var flights: [String: CacheFlight<Value>] = [:]
    @usableFromInline var nextFlightID: UInt64 = 0

    @inlinable
    init(maxEntries: Int, maxBytes: Int) {
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
    }

    // MARK: Index

    @inlinable
    var tableMask: Int { table.count - 1 }

    @inlinable
    static func tag(_ hash: Int) -> UInt64 { UInt64(UInt(bitPattern: hash) >> 32) }

    /// The slot holding `key`, if any.
    @inlinable
    func find(_ key: String, hash: Int) -> Int32? {
        let mask = tableMask
        let tag = Self.tag(hash)
        var i = Int(truncatingIfNeeded: tag) & mask
        while true {
            let entry = table[i]
            if entry == 0 { return nil }
            if entry >> 32 == tag {
                let n = Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
                if nodes[n].key == key { return Int32(truncatingIfNeeded: n) }
            }
            i = (i + 1) & mask
        }
    }

    @inlinable
    mutating func indexInsert(_ n: Int32, hash: Int) {
        if (count + 1) * 2 > table.count { growTable() }
        let mask = tableMask
        let tag = Self.tag(hash)
        var i = Int(truncatingIfNeeded: tag) & mask
        while table[i] != 0 { i = (i + 1) & mask }
        table[i] = tag << 32 | UInt64(UInt32(n) + 1)
    }

    @inlinable
    mutating func growTable() {
        var bigger = [UInt64](repeating: 0, count: table.count * 2)
        let mask = bigger.count - 1
        for entry in table where entry != 0 {
            var i = Int(truncatingIfNeeded: entry >> 32) & mask
            while bigger[i] != 0 { i = (i + 1) & mask }
            bigger[i] = entry
        }
        table = bigger
    }

    /// Removes slot `n` from the index with backward-shift deletion (Knuth 6.4 algorithm R).
    @inlinable
    mutating func indexRemove(_ n: Int32, hash: Int) {
        let mask = tableMask
        let wanted = Self.tag(hash) << 32 | UInt64(UInt32(n) + 1)
        var i = Int(truncatingIfNeeded: Self.tag(hash)) & mask
        while table[i] != wanted { i = (i + 1) & mask }
        var j = i
        while true {
            j = (j + 1) & mask
            let entry = table[j]
            if entry == 0 { break }
            let home = Int(truncatingIfNeeded: entry >> 32) & mask
            // The entry at j may move into the hole at i only if its home bucket is not
            // cyclically inside (i, j].
            let stays = i <= j ? (i < home && home <= j) : (i < home || home <= j)
            if stays { continue }
            table[i] = entry
            i = j
        }
        table[i] = 0
    }

    // MARK: Recency list

    @inlinable
    mutating func unlink(_ n: Int32) {
        let p = links[Int(n)].prev, x = links[Int(n)].next
        if p >= 0 { links[Int(p)].next = x } else { head = x }
        if x >= 0 { links[Int(x)].prev = p } else { tail = p }
    }

    @inlinable
    mutating func pushFront(_ n: Int32) {
        links[Int(n)] = CacheLink(prev: -1, next: head)
        if head >= 0 { links[Int(head)].prev = n } else { tail = n }
        head = n
    }

    @inlinable
    mutating func touch(_ n: Int32) {
        guard head != n else { return }
        unlink(n)
        pushFront(n)
    }

    // MARK: Namespaces

    /// The counter index of the key's namespace: the prefix before the first `:`, "" when none.
    @inlinable
    mutating func namespaceID(of key: String) -> Int32 {
        let name: String
        if let colon = key.utf8.firstIndex(of: UInt8(ascii: ":")) {
            name = String(key[..<colon])
        } else {
            name = ""
        }
        if let id = namespaceIDs[name] { return id }
        let id = Int32(namespaceNames.count)
        namespaceIDs[name] = id
        namespaceNames.append(name)
        stats.append(CacheStats())
        return id
    }

    // MARK: Operations

    /// Looks `key` up, counting a hit or a miss and dropping the entry if its TTL has passed.
    @inlinable
    mutating func get(_ key: String, hash: Int, now: () -> Date) -> Value? {
        guard let n = find(key, hash: hash) else {
            stats[Int(namespaceID(of: key))].misses += 1
            return nil
        }
        let ns = Int(nodes[Int(n)].namespace)
        // Only entries with a TTL read the clock, so TTL-free hot paths never pay for it.
        if nodes[Int(n)].expiresAt != .infinity, nodes[Int(n)].expiresAt <= now().timeIntervalSinceReferenceDate {
            remove(n)
            stats[ns].expirations += 1
            stats[ns].misses += 1
            return nil
        }
        touch(n)
        stats[ns].hits += 1
        return nodes[Int(n)].value
    }

    /// Inserts or replaces `key`, then evicts from the cold end until both budgets hold.
    @inlinable
    mutating func set(_ key: String, hash: Int, value: Value, expiresAt: Double, cost: Int, nowSeconds: () -> Double) {
        if !flights.isEmpty { flights[key] = nil }  // skip hashing the key again in the common case
        if let n = find(key, hash: hash) {
            let ns = Int(nodes[Int(n)].namespace)
            if cost > maxBytes {
                remove(n)
                stats[ns].evictions += 1
                return
            }
            bytes += cost - nodes[Int(n)].cost
            stats[ns].bytes += cost - nodes[Int(n)].cost
            nodes[Int(n)].value = value
            nodes[Int(n)].cost = cost
            nodes[Int(n)].expiresAt = expiresAt
            touch(n)
        } else {
            let ns = namespaceID(of: key)
            if cost > maxBytes {
                // Larger than this shard's whole budget: storing it would flush everything else.
                stats[Int(ns)].evictions += 1
                return
            }
            let node = CacheNode(key: key, value: value, expiresAt: expiresAt, cost: cost, namespace: ns)
            let n: Int32
            if freeList >= 0 {
                n = freeList
                freeList = links[Int(n)].next
                nodes[Int(n)] = node
            } else {
                n = Int32(nodes.count)
                nodes.append(node)
                links.append(CacheLink(prev: -1, next: -1))
            }
            indexInsert(n, hash: hash)
            pushFront(n)
            count += 1
            bytes += cost
            stats[Int(ns)].entries += 1
            stats[Int(ns)].bytes += cost
        }
        if count > maxEntries || bytes > maxBytes {
            let now = nowSeconds()
            while count > maxEntries || bytes > maxBytes, tail >= 0 {
                let victim = tail
                let ns = Int(nodes[Int(victim)].namespace)
                if nodes[Int(victim)].expiresAt <= now {
                    stats[ns].expirations += 1
                } else {
                    stats[ns].evictions += 1
                }
                remove(victim)
            }
        }
    }

    /// Unlinks slot `n` everywhere and returns it to the free list.
    @inlinable
    mutating func remove(_ n: Int32) {
        let i = Int(n)
        indexRemove(n, hash: nodes[i].key.hashValue)
        unlink(n)
        let ns = Int(nodes[i].namespace)
        stats[ns].entries -= 1
        stats[ns].bytes -= nodes[i].cost
        count -= 1
        bytes -= nodes[i].cost
        // Release the key and value now rather than when the slot is reused.
        nodes[i].key = ""
        nodes[i].value = nil
        nodes[i].cost = 0
        links[i] = CacheLink(prev: -1, next: freeList)
        freeList = n
    }

    @inlinable
    mutating func delete(_ key: String, hash: Int) -> Bool {
        if !flights.isEmpty { flights[key] = nil }  // skip hashing the key again in the common case
        guard let n = find(key, hash: hash) else { return false }
        remove(n)
        return true
    }

    /// Removes every entry (and retires every flight) whose key matches `glob`.
    mutating func removeMatching(_ glob: Glob) -> Int {
        var removed = 0
        for i in nodes.indices where nodes[i].value != nil {
            let matches = nodes[i].key.utf8.withContiguousStorageIfAvailable { glob.matches($0) }
                ?? glob.matches(nodes[i].key)
            if matches {
                remove(Int32(i))
                removed += 1
            }
        }
        for key in flights.keys where glob.matches(key) { flights[key] = nil }
        return removed
    }

    @inlinable
    mutating func removeExpired(now: Double) -> Int {
        var removed = 0
        for i in nodes.indices where nodes[i].value != nil && nodes[i].expiresAt <= now {
            stats[Int(nodes[i].namespace)].expirations += 1
            remove(Int32(i))
            removed += 1
        }
        return removed
    }
}
