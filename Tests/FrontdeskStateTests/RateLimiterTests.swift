import Foundation
import Testing
@testable import FrontdeskState
import FrontdeskTestSupport

@Suite("Rate limiter")
struct RateLimiterTests {
    let clock = TestClock()
    /// 60 a minute sustained (one a second), 10 at once.
    let policy = RateLimitPolicy(name: "api", limit: 60, period: .seconds(60), burst: 10)

    func seconds(_ d: Duration?) -> Double { d.map(\.inSeconds) ?? -1 }

    @Test("a burst passes, the next request is denied with the right Retry-After, remaining and reset")
    func burstThenDeny() {
        let limiter = RateLimiter(now: clock.wall)
        for i in 0..<10 {
            let decision = limiter.check(key: "1.2.3.4", policy: policy)
            #expect(decision.allowed)
            #expect(decision.remaining == 9 - i)
            #expect(decision.limit == 60)
            #expect(decision.retryAfter == nil)
            #expect(abs(seconds(decision.resetAfter) - Double(i + 1)) < 1e-6)
        }
        let denied = limiter.check(key: "1.2.3.4", policy: policy)
        #expect(!denied.allowed)
        #expect(denied.remaining == 0)
        #expect(abs(seconds(denied.retryAfter) - 1) < 1e-6)
        #expect(abs(seconds(denied.resetAfter) - 10) < 1e-6)
        // Denials consume nothing: the wait does not grow.
        clock.advance(by: .milliseconds(500))
        let still = limiter.check(key: "1.2.3.4", policy: policy)
        #expect(!still.allowed)
        #expect(abs(seconds(still.retryAfter) - 0.5) < 1e-6)
    }

    @Test("capacity comes back at the steady rate, up to the full burst")
    func recovery() {
        let limiter = RateLimiter(now: clock.wall)
        for _ in 0..<10 { _ = limiter.check(key: "k", policy: policy) }
        #expect(!limiter.check(key: "k", policy: policy).allowed)
        clock.advance(by: .seconds(1))
        let one = limiter.check(key: "k", policy: policy)
        #expect(one.allowed && one.remaining == 0)
        #expect(!limiter.check(key: "k", policy: policy).allowed)
        clock.advance(by: .seconds(3))
        #expect((0..<3).allSatisfy { _ in limiter.check(key: "k", policy: policy).allowed })
        #expect(!limiter.check(key: "k", policy: policy).allowed)
        clock.advance(by: .minutes(10))  // long idle: back to the burst, not more
        let fresh = limiter.check(key: "k", policy: policy)
        #expect(fresh.allowed && fresh.remaining == 9)
    }

    @Test("keys and policies are independent")
    func independentKeys() {
        let limiter = RateLimiter(now: clock.wall)
        let login = RateLimitPolicy(name: "login", limit: 5, period: .minutes(15), burst: 5)
        for _ in 0..<10 { _ = limiter.check(key: "a", policy: policy) }
        #expect(!limiter.check(key: "a", policy: policy).allowed)
        #expect(limiter.check(key: "b", policy: policy).allowed)
        #expect(limiter.check(key: "a", policy: login).allowed)
        #expect(limiter.trackedKeys == 3)
    }

    @Test("a burst of 1 or less means strictly spaced requests")
    func noBurst() {
        let limiter = RateLimiter(now: clock.wall)
        let strict = RateLimitPolicy(name: "s", limit: 2, period: .seconds(1), burst: 0)
        #expect(limiter.check(key: "k", policy: strict).remaining == 0)
        let denied = limiter.check(key: "k", policy: strict)
        #expect(!denied.allowed)
        #expect(abs(seconds(denied.retryAfter) - 0.5) < 1e-6)
        clock.advance(by: .milliseconds(500))
        #expect(limiter.check(key: "k", policy: strict).allowed)
    }

    @Test("memory is bounded: the least recently checked key makes room")
    func boundedKeys() {
        let limiter = RateLimiter(shards: 1, maxKeysPerShard: 100, now: clock.wall)
        for i in 0..<10 { _ = limiter.check(key: "abuser", policy: policy); _ = i }
        for i in 0..<1_000 {
            _ = limiter.check(key: "visitor-\(i)", policy: policy)
            if i % 50 == 0 { _ = limiter.check(key: "abuser", policy: policy) }  // stays recent
        }
        #expect(limiter.trackedKeys == 100)
        #expect(!limiter.check(key: "abuser", policy: policy).allowed)
        let sharded = RateLimiter(shards: 4, maxKeysPerShard: 10, now: clock.wall)
        for i in 0..<1_000 { _ = sharded.check(key: "\(i)", policy: policy) }
        #expect(sharded.trackedKeys <= 40)
    }

    @Test("sweepIdle forgets only keys that are back to a full burst")
    func sweepIdle() {
        let limiter = RateLimiter(now: clock.wall)
        _ = limiter.check(key: "light", policy: policy)  // TAT = now + 1 s
        for _ in 0..<10 { _ = limiter.check(key: "heavy", policy: policy) }  // TAT = now + 10 s
        #expect(limiter.sweepIdle() == 0)
        clock.advance(by: .seconds(1))
        #expect(limiter.sweepIdle() == 1)
        #expect(limiter.trackedKeys == 1)
        let heavy = limiter.check(key: "heavy", policy: policy)  // a forgotten key would have 9 left
        #expect(heavy.allowed && heavy.remaining == 0)
        clock.advance(by: .seconds(9))
        #expect(limiter.sweepIdle() == 0)
        clock.advance(by: .seconds(1))
        #expect(limiter.sweepIdle() == 1)
        #expect(limiter.trackedKeys == 0)
        #expect(limiter.check(key: "heavy", policy: policy).remaining == 9)
    }

    @Test("reset clears a key")
    func reset() {
        let limiter = RateLimiter(now: clock.wall)
        for _ in 0..<10 { _ = limiter.check(key: "k", policy: policy) }
        limiter.reset(key: "k", policy: policy)
        #expect(limiter.check(key: "k", policy: policy).remaining == 9)
    }
}
