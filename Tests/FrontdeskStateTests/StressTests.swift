import Foundation
import Synchronization
import Testing
@testable import FrontdeskState
import FrontdeskTestSupport

@Suite("Concurrency stress")
struct StressTests {
    @Test("cache, sessions and limiter stay consistent under many concurrent tasks")
    func stress() async throws {
        let clock = TestClock()
        let cache = ShardedCache<String>(shards: 8, maxEntries: 2_000, maxBytes: 50_000, now: clock.wall)
        let store = SessionStore(idleTimeout: .minutes(30), absoluteLifetime: .hours(12), shards: 8, now: clock.wall)
        let limiter = RateLimiter(shards: 8, maxKeysPerShard: 200, now: clock.wall)
        let policy = RateLimitPolicy(name: "p", limit: 1_000, period: .seconds(1), burst: 50)
        let computations = Counter()
        let lookups = Counter()

        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<32 {
                group.addTask {
                    var rng = SplitMix(seed: UInt64(worker))
                    var mine: [String] = []
                    for step in 0..<2_000 {
                        let key = "ns\(rng.next() % 4):\(rng.next() % 3_000)"
                        switch rng.next() % 10 {
                        case 0...3: _ = cache.get(key)
                        case 4, 5: cache.set(key, "v\(step)", ttl: step % 3 == 0 ? .seconds(1) : nil, cost: Int(rng.next() % 40))
                        case 6:
                            lookups.increment()
                            let value = try await cache.getOrSet("shared:\(step % 20)", ttl: .seconds(5)) {
                                computations.increment()
                                return "computed"
                            }
                            #expect(value == "computed")
                        case 7:
                            let session = store.create(userId: "user\(rng.next() % 16)", data: ["w": "\(worker)"])
                            mine.append(session.id)
                            // Another worker may have ended it (destroyAll for the same user); if not, it is ours as written.
                            if let found = store.get(session.id) { #expect(found.data["w"] == "\(worker)") }
                        case 8:
                            if let id = mine.randomElement(using: &rng) { _ = store.update(id, data: ["s": "\(step)"]) }
                            if step % 97 == 0 { _ = store.destroyAll(forUser: "user\(rng.next() % 16)") }
                        default:
                            _ = limiter.check(key: "client\(rng.next() % 500)", policy: policy)
                        }
                        if step % 500 == 0 {
                            if worker == 0 { clock.advance(by: .milliseconds(700)) }
                            _ = cache.sweepExpired()
                            _ = cache.invalidatePattern("ns3:1*")
                            _ = store.cleanup()
                            _ = limiter.sweepIdle()
                            _ = store.allSessions()
                        }
                    }
                }
            }
            try await group.waitForAll()
        }

        // The budgets and the bookkeeping survived.
        let stats = cache.stats()
        let total = try #require(stats["*"])
        #expect(total.entries == cache.count)
        #expect(total.entries <= 2_000)
        #expect(total.bytes <= 50_000)
        #expect(stats.filter { $0.key != "*" }.values.reduce(0) { $0 + $1.entries } == total.entries)
        #expect(limiter.trackedKeys <= 8 * 200)
        // Twenty shared keys: each computed at least once, and never more often than looked up
        // (concurrent misses of one key share one computation).
        #expect(computations.count >= 20)
        #expect(computations.count < lookups.count)
        // Every session left is reachable through the user index and vice versa.
        let all = store.allSessions()
        var viaIndex = 0
        for user in 0..<16 { viaIndex += store.sessions(forUser: "user\(user)").count }
        #expect(viaIndex == all.count)
        var destroyed = 0
        for user in 0..<16 { destroyed += store.destroyAll(forUser: "user\(user)") }
        #expect(destroyed == all.count)
        #expect(store.count == 0)
    }
}
