import Foundation
import Synchronization

/// Slows down password guessing without letting an attacker lock the real owner out.
///
/// Failures are counted per (account, client address) and per client address, in fixed windows.
/// There is deliberately no per-account lock across addresses: an attacker elsewhere could
/// otherwise keep the owner out of their own console. Successful sign-in clears the pair's count.
public final class LoginThrottle: Sendable {
    public struct Policy: Sendable {
        /// Failed attempts one address may make on one account per window.
        public var perAccountAndAddress: Int = 5
        /// Failed attempts one address may make on any accounts per window.
        public var perAddress: Int = 20
        public var window: TimeInterval = 15 * 60

        public init() {}
    }

    struct Counter {
        var failures: Int
        var windowStart: Date
    }

    private let policy: Policy
    private let now: @Sendable () -> Date
    private let counters = Mutex<[String: Counter]>([:])

    public init(policy: Policy = Policy(), now: @escaping @Sendable () -> Date = { Date() }) {
        self.policy = policy
        self.now = now
    }

    /// Throws 429 `login_throttled` with the seconds to wait when this attempt may not be tried.
    public func checkAllowed(email: String, address: String) throws {
        let current = now()
        let wait = counters.withLock { counters -> TimeInterval? in
            var longest: TimeInterval?
            for (key, limit) in [(pairKey(email, address), policy.perAccountAndAddress), (addressKey(address), policy.perAddress)] {
                guard let counter = counters[key] else { continue }
                let elapsed = current.timeIntervalSince(counter.windowStart)
                if elapsed >= policy.window { counters[key] = nil; continue }
                if counter.failures >= limit { longest = max(longest ?? 0, policy.window - elapsed) }
            }
            return longest
        }
        if let wait {
            let seconds = max(1, Int(wait.rounded(.up)))
            throw FrontdeskError(.rateLimited, code: "login_throttled",
                                 message: "Too many failed sign-ins from this address. Try again in \(seconds / 60 + 1) minutes, or reset the password.",
                                 details: ["retryAfterSeconds": String(seconds)])
        }
    }

    /// Records a failed attempt.
    public func recordFailure(email: String, address: String) {
        let current = now()
        counters.withLock { counters in
            for key in [pairKey(email, address), addressKey(address)] {
                if var counter = counters[key], current.timeIntervalSince(counter.windowStart) < policy.window {
                    counter.failures += 1
                    counters[key] = counter
                } else {
                    counters[key] = Counter(failures: 1, windowStart: current)
                }
            }
            if counters.count > 100_000 {
                counters = counters.filter { current.timeIntervalSince($0.value.windowStart) < policy.window }
            }
        }
    }

    /// Clears the pair's failures after a successful sign-in.
    public func recordSuccess(email: String, address: String) {
        _ = counters.withLock { $0.removeValue(forKey: pairKey(email, address)) }
    }

    private func pairKey(_ email: String, _ address: String) -> String { "p:\(email.lowercased())|\(address)" }
    private func addressKey(_ address: String) -> String { "a:\(address)" }
}

/// The one-time token that lets the first admin account be created from the browser.
///
/// Made fresh at each start while no admin exists, printed by `serve` as a setup URL, kept only
/// in memory and consumed by the first successful use.
public final class SetupToken: Sendable {
    private let token = Mutex<String?>(nil)

    public init() {}

    /// Makes (or returns the current) token.
    public func issue() -> String {
        token.withLock { current in
            if let current { return current }
            let value = Secrets.urlSafeToken(byteCount: 24)
            current = value
            return value
        }
    }

    /// True exactly once for the issued token; compares in constant time.
    public func consume(_ candidate: String) -> Bool {
        token.withLock { current in
            guard let expected = current, Secrets.constantTimeEquals(expected.utf8, candidate.utf8) else { return false }
            current = nil
            return true
        }
    }

    public var isPending: Bool { token.withLock { $0 != nil } }
}
