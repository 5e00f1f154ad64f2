import Foundation
import Synchronization

/// Slows down password guessing without letting an attacker lock the real owner out.
///
/// Failures are counted per (account, client address) and per client address, in fixed windows.
/// There is deliberately no per-account lock across addresses: an attacker elsewhere could
/// otherwise keep the owner out of their own console. Successful sign-in clears the pair's count.
package final class LoginThrottle: Sendable {
    package struct Policy: Sendable {
        /// Failed attempts one address may make on one account per window.
        package var perAccountAndAddress: Int = 5
        /// Failed attempts one address may make on any accounts per window.
        package var perAddress: Int = 20
        package var window: TimeInterval = 15 * 60

        package init() {}
    }

    struct Counter {
        var failures: Int
        var windowStart: Date
    }

    private let policy: Policy
    private let now: @Sendable () -> Date
    private let counters = Mutex<[String: Counter]>([:])

    package init(policy: Policy = Policy(), now: @escaping @Sendable () -> Date = { Date() }) {
        self.policy = policy
        self.now = now
    }

    /// Reserves one attempt: throws 429 `login_throttled` with the seconds to wait when the
    /// attempt may not be tried, and otherwise counts it as a failure *before* the password is
    /// checked. Checking first and recording after the ~0.2 s hash let 15 concurrent guesses
    /// all through a limit of 5; a reservation makes the check and the count one step.
    /// Call `refund(_:)` when the sign-in succeeds.
    package func reserve(email: String, address: String) throws -> Reservation {
        let current = now()
        let keys = [(pairKey(email, address), policy.perAccountAndAddress), (addressKey(address), policy.perAddress)]
        let wait = counters.withLock { counters -> TimeInterval? in
            var longest: TimeInterval?
            for (key, limit) in keys {
                guard let counter = counters[key] else { continue }
                let elapsed = current.timeIntervalSince(counter.windowStart)
                if elapsed >= policy.window { counters[key] = nil; continue }
                if counter.failures >= limit { longest = max(longest ?? 0, policy.window - elapsed) }
            }
            if longest == nil { count(keys.map(\.0), at: current, in: &counters) }
            return longest
        }
        if let wait {
            let seconds = max(1, Int(wait.rounded(.up)))
            throw FrontdeskError(.rateLimited, code: "login_throttled",
                                 message: "Too many failed sign-ins from this address. Try again in \(seconds / 60 + 1) minutes, or reset the password.",
                                 details: ["retryAfterSeconds": String(seconds)])
        }
        return Reservation(email: email, address: address)
    }

    /// One reserved attempt, counted as failed until refunded.
    package struct Reservation: Sendable {
        let email: String
        let address: String
    }

    /// The sign-in succeeded: clears the pair's failures and gives the address its attempt back.
    package func refund(_ reservation: Reservation) {
        counters.withLock { counters in
            counters.removeValue(forKey: pairKey(reservation.email, reservation.address))
            let key = addressKey(reservation.address)
            if var counter = counters[key] {
                counter.failures = max(0, counter.failures - 1)
                counters[key] = counter
            }
        }
    }

    /// The attempt was never judged (the server was busy): takes back its count.
    package func release(_ reservation: Reservation) {
        counters.withLock { counters in
            for key in [pairKey(reservation.email, reservation.address), addressKey(reservation.address)] {
                if var counter = counters[key] {
                    counter.failures = max(0, counter.failures - 1)
                    counters[key] = counter
                }
            }
        }
    }

    /// Records a failed attempt that was not reserved (tests, other callers).
    package func recordFailure(email: String, address: String) {
        let current = now()
        counters.withLock { count([pairKey(email, address), addressKey(address)], at: current, in: &$0) }
    }

    private func count(_ keys: [String], at current: Date, in counters: inout [String: Counter]) {
        for key in keys {
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

    private func pairKey(_ email: String, _ address: String) -> String { "p:\(email.lowercased())|\(address)" }
    private func addressKey(_ address: String) -> String { "a:\(address)" }
}

/// The one-time token that lets the first admin account be created from the browser.
///
/// Made fresh at each start while no admin exists, printed by `serve` as a setup URL, kept only
/// in memory and consumed by the first successful use.
package final class SetupToken: Sendable {
    private let token = Mutex<String?>(nil)

    package init() {}

    /// Makes (or returns the current) token.
    package func issue() -> String {
        token.withLock { current in
            if let current { return current }
            let value = Secrets.urlSafeToken(byteCount: 24)
            current = value
            return value
        }
    }

    /// True exactly once for the issued token; compares in constant time.
    package func consume(_ candidate: String) -> Bool {
        token.withLock { current in
            guard let expected = current, Secrets.constantTimeEquals(expected.utf8, candidate.utf8) else { return false }
            current = nil
            return true
        }
    }

    package var isPending: Bool { token.withLock { $0 != nil } }
}
