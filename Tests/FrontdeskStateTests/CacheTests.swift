import Foundation
import Synchronization
import Testing
@testable import FrontdeskState
import FrontdeskTestSupport

@Suite("Sharded cache")
struct CacheTests {
    @Test("evicts the least recently used entry when the entry count is exceeded")
    func lruByCount() {
        let cache = ShardedCache<Int>(shards: 1, maxEntries: 3, maxBytes: 1_000)
        cache.set("a", 1)
        cache.set("b", 2)
        cache.set("c", 3)
        #expect(cache.get("a") == 1)  // a is now the most recent; b the least
        cache.set("d", 4)
        #expect(cache.get("b") == nil)
        #expect(cache.get("a") == 1)
        #expect(cache.get("c") == 3)
        #expect(cache.get("d") == 4)
        #expect(cache.count == 3)
        #expect(cache.stats()["*"]?.evictions == 1)
    }

    @Test("evicts by byte budget, as many entries as needed, and refuses an entry larger than the budget")
    func lruByBytes() {
        let cache = ShardedCache<String>(shards: 1, maxEntries: 100, maxBytes: 100)
        cache.set("a", "a", cost: 40)
        cache.set("b", "b", cost: 40)
        cache.set("c", "c", cost: 10)
        #expect(cache.stats()["*"]?.bytes == 90)
        cache.set("d", "d", cost: 50)  // 140 > 100: a (40) must go; 100 fits
        #expect(cache.get("a") == nil)
        #expect(cache.get("b") == "b")
        #expect(cache.stats()["*"]?.bytes == 100)
        cache.set("e", "e", cost: 95)  // b, c, d, all go
        #expect(cache.count == 1)
        #expect(cache.stats()["*"]?.bytes == 95)
        cache.set("huge", "x", cost: 101)
        #expect(cache.get("huge") == nil)
        #expect(cache.get("e") == "e")
        // Re-setting with a new cost updates the byte count instead of adding to it.
        cache.set("e", "e2", cost: 5)
        #expect(cache.stats()["*"]?.bytes == 5)
    }

    @Test("budgets are split over shards and the totals are never exceeded")
    func shardedBudgets() {
        let cache = ShardedCache<Int>(shards: 16, maxEntries: 100, maxBytes: 1_000_000)
        for i in 0..<10_000 { cache.set("k:\(i)", i) }
        #expect(cache.count <= 100)
        #expect(cache.count > 80)
        let tiny = ShardedCache<Int>(shards: 16, maxEntries: 3, maxBytes: 1_000)
        #expect(tiny.shardCount == 2)
        for i in 0..<50 { tiny.set("k\(i)", i) }
        #expect(tiny.count <= 3)
    }

    @Test("entries expire lazily on read once their TTL has passed")
    func lazyExpiry() {
        let clock = TestClock()
        let cache = ShardedCache<String>(maxEntries: 100, maxBytes: 100, now: clock.wall)
        cache.set("faq:1", "short", ttl: .seconds(10))
        cache.set("faq:2", "forever")
        clock.advance(by: .seconds(9))
        #expect(cache.get("faq:1") == "short")
        clock.advance(by: .seconds(1))
        #expect(cache.get("faq:1") == nil)
        #expect(cache.get("faq:2") == "forever")
        let stats = cache.stats()["faq"]
        #expect(stats?.expirations == 1)
        #expect(stats?.entries == 1)
        #expect(stats?.hits == 2)
        #expect(stats?.misses == 1)
        // A zero TTL removes instead of storing.
        cache.set("faq:2", "gone", ttl: .zero)
        #expect(cache.get("faq:2") == nil)
    }

    @Test("sweepExpired drops expired entries that nobody reads")
    func sweep() {
        let clock = TestClock()
        let cache = ShardedCache<Int>(maxEntries: 1_000, maxBytes: 1_000, now: clock.wall)
        for i in 0..<100 { cache.set("s:\(i)", i, ttl: i < 60 ? .seconds(5) : .seconds(60)) }
        #expect(cache.sweepExpired() == 0)
        clock.advance(by: .seconds(5))
        #expect(cache.sweepExpired() == 60)
        #expect(cache.count == 40)
        #expect(cache.stats()["s"]?.expirations == 60)
        #expect(cache.stats()["s"]?.entries == 40)
        clock.advance(by: .seconds(60))
        #expect(cache.sweepExpired() == 40)
        #expect(cache.count == 0)
        #expect(cache.stats()["*"]?.bytes == 0)
    }

    @Test("invalidatePattern removes exactly the matching keys", arguments: [
        ("faq:*", 3), ("faq:?", 2), ("*:1", 3), ("banner:*", 1), ("*", 7), ("faq", 0), ("nothing:*", 0), ("f*q:1?", 1),
    ])
    func invalidatePattern(glob: String, expected: Int) {
        let cache = ShardedCache<Int>(maxEntries: 100, maxBytes: 100)
        for key in ["faq:1", "faq:2", "faq:10", "banner:1", "count", "counter", "ünï:1"] { cache.set(key, 0) }
        #expect(cache.invalidatePattern(glob) == expected)
        #expect(cache.count == 7 - expected)
    }

    @Test("glob matching handles stars, question marks and multi-byte characters")
    func globs() {
        #expect(Glob("a*b*c").matches("a--b--c"))
        #expect(!Glob("a*b*c").matches("a--b--"))
        #expect(Glob("?:x").matches("é:x"))
        #expect(Glob("**").matches(""))
        #expect(!Glob("?").matches(""))
        #expect(Glob("*x*").matches("abcxdef"))
        #expect(Glob("faq:*").matches("faq:"))
        #expect(!Glob("faq:*").matches("fa"))
    }

    @Test("stats are kept per namespace, with a total under *")
    func statsPerNamespace() {
        let cache = ShardedCache<Int>(maxEntries: 100, maxBytes: 1_000)
        cache.set("faq:1", 1, cost: 10)
        cache.set("faq:2", 2, cost: 20)
        cache.set("banner:home", 3, cost: 5)
        cache.set("plain", 4)
        _ = cache.get("faq:1")
        _ = cache.get("faq:3")
        _ = cache.get("banner:home")
        _ = cache.get("plain")
        _ = cache.get("other")
        cache.delete("faq:2")
        let stats = cache.stats()
        #expect(stats["faq"] == CacheStats(hits: 1, misses: 1, entries: 1, bytes: 10))
        #expect(stats["banner"] == CacheStats(hits: 1, entries: 1, bytes: 5))
        #expect(stats[""] == CacheStats(hits: 1, misses: 1, entries: 1, bytes: 1))
        #expect(stats["*"] == CacheStats(hits: 3, misses: 2, entries: 3, bytes: 16))
        #expect(stats["*"]?.hitRatio == 0.6)
    }

    @Test("delete reports whether the key was there")
    func delete() {
        let cache = ShardedCache<Int>(maxEntries: 10, maxBytes: 10)
        cache.set("a", 1)
        #expect(cache.delete("a"))
        #expect(!cache.delete("a"))
        #expect(cache.get("a") == nil)
    }

    @Test("the index stays consistent through heavy churn of inserts, updates and deletes")
    func churn() {
        let cache = ShardedCache<Int>(shards: 2, maxEntries: 500, maxBytes: 100_000)
        var model: [String: Int] = [:]
        var rng = SplitMix(seed: 42)
        for step in 0..<50_000 {
            let key = "k:\(rng.next() % 400)"
            switch rng.next() % 3 {
            case 0: cache.set(key, step); model[key] = step
            case 1: #expect(cache.get(key) == model[key])
            default: #expect(cache.delete(key) == (model.removeValue(forKey: key) != nil))
            }
        }
        #expect(cache.count == model.count)
        for (key, value) in model { #expect(cache.get(key) == value) }
    }

    @Test("getOrSet computes once for 100 concurrent callers of one key")
    func singleFlight() async throws {
        let cache = ShardedCache<Int>(maxEntries: 100, maxBytes: 100)
        let calls = Counter()
        let gate = Gate()
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<100 {
                group.addTask {
                    try await cache.getOrSet("count:visitors") {
                        calls.increment()
                        await gate.wait()  // hold the flight open until every caller has joined
                        return 42
                    }
                }
            }
            // Give the callers time to arrive while the computation is blocked.
            while cache.stats()["count"].map({ $0.misses + $0.hits }) ?? 0 < 100 { await Task.yield() }
            await gate.open()
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(results.count == 100 && results.allSatisfy { $0 == 42 })
        #expect(calls.count == 1)
        #expect(cache.get("count:visitors") == 42)
        // Later calls hit the cache without computing.
        let again = try await cache.getOrSet("count:visitors") { Issue.record("recomputed"); return 0 }
        #expect(again == 42)
    }

    @Test("a failing getOrSet reaches every waiter and stores nothing; the next call computes again")
    func singleFlightFailure() async throws {
        struct Boom: Error {}
        let cache = ShardedCache<Int>(maxEntries: 100, maxBytes: 100)
        await #expect(throws: Boom.self) {
            try await cache.getOrSet("x") { throw Boom() }
        }
        #expect(cache.get("x") == nil)
        let value = try await cache.getOrSet("x", ttl: .seconds(3600)) { 7 }
        #expect(value == 7)
        #expect(cache.get("x") == 7)
    }

    @Test("invalidation during a computation keeps its stale result out of the cache")
    func invalidationRetiresFlight() async throws {
        let cache = ShardedCache<Int>(maxEntries: 100, maxBytes: 100)
        let gate = Gate()
        let started = Gate()
        let pending = Task {
            try await cache.getOrSet("faq:list") {
                await started.open()
                await gate.wait()
                return 1  // computed from data that has since changed
            }
        }
        await started.wait()
        #expect(cache.invalidatePattern("faq:*") == 0)
        await gate.open()
        #expect(try await pending.value == 1)
        #expect(cache.get("faq:list") == nil)
    }
}

/// A one-shot gate: `wait()` suspends until `open()`.
actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters.removeAll()
    }
}

/// A small deterministic generator for reproducible test sequences.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
