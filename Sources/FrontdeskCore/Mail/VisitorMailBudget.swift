import Foundation
import Metrics
import Synchronization

/// How many mails the visitors at one client address may make Frontdesk send per day (UTC),
/// across everything a visitor can trigger: the chat's offline e-mail and transcripts, and the
/// public forms (the owner's notice, a newsletter confirmation, a ticket's magic link). A shared budget, so that no single path — and no
/// mix of them — turns the server into a relay for someone else's text.
///
/// Usage: `guard budget.spend(for: clientAddress) else { refuse }` right before the mail is
/// queued. Counts live in memory (like the rate limiter) and start fresh after a restart; the
/// day is the UTC calendar day of the injected clock. Refusals and spends are counted in
/// `/metrics` as `frontdesk_visitor_mail_budget_spent_total` / `…_refused_total`.
package final class VisitorMailBudget: Sendable {
    /// Mails one address may trigger per UTC day.
    package let dailyLimit: Int
    /// `rate_limit.enabled`: `serve --rate-limit off` lifts the budget with every other per-client limit.
    package let enabled: Bool
    let now: @Sendable () -> Date
    let maxAddresses: Int
    private let state = Mutex(State())
    private let spent: Counter
    private let refused: Counter

    struct State {
        /// The UTC day (days since 1970) the counts belong to.
        var day: Int64 = .min
        var counts: [String: Int] = [:]
    }

    /// `mail.visitor_daily_limit`, declared here beside the type that enforces it.
    package static let specs: [SettingSpec] = [
        SettingSpec(key: "mail.visitor_daily_limit", env: "FRONTDESK_MAIL_VISITOR_DAILY_LIMIT", kind: .integer(1...1_000_000), defaultValue: .integer(20),
                    doc: "Mails the visitors at one client address may trigger per day (UTC): form posts (contact, newsletter, tickets), chat offline e-mail and transcripts. Past it they get 429 mail_budget_exhausted. Lifted by `serve --rate-limit off`."),
    ]

    package init(dailyLimit: Int = 20, enabled: Bool = true, metrics: any MetricsFactory = NOOPMetricsHandler.instance, maxAddresses: Int = 100_000,
                now: @escaping @Sendable () -> Date) {
        self.dailyLimit = max(1, dailyLimit)
        self.enabled = enabled
        self.now = now
        self.maxAddresses = max(1, maxAddresses)
        spent = Counter(label: "frontdesk_visitor_mail_budget_spent_total", dimensions: [], factory: metrics)
        refused = Counter(label: "frontdesk_visitor_mail_budget_refused_total", dimensions: [], factory: metrics)
    }

    /// Takes one mail from `address`'s budget for today; false (and nothing taken) when it is spent.
    package func spend(for address: String) -> Bool {
        guard enabled else { spent.increment(); return true }
        let day = Self.day(of: now())
        let allowed = state.withLock { s -> Bool in
            if s.day != day {
                s.day = day
                s.counts = [:]
            }
            let used = s.counts[address, default: 0]
            guard used < dailyLimit else { return false }
            if used == 0 && s.counts.count >= maxAddresses {
                // Bounded memory: forget the addresses that are not blocked; the blocked ones stay blocked.
                s.counts = s.counts.filter { $0.value >= dailyLimit }
                guard s.counts.count < maxAddresses else { return false }
            }
            s.counts[address] = used + 1
            return true
        }
        (allowed ? spent : refused).increment()
        return allowed
    }

    /// Mails `address` may still trigger today.
    /// `spend(for:)`, throwing 429 `mail_budget_exhausted` (with `Retry-After`) when it is spent.
    package func spendOrThrow(for address: String) throws {
        guard spend(for: address) else {
            throw FrontdeskError(.rateLimited, code: "mail_budget_exhausted",
                                 message: "This address has triggered the most mails allowed today. Try again tomorrow.",
                                 details: ["retryAfterSeconds": String(secondsUntilRenewal()), "limit": String(dailyLimit)])
        }
    }

    package func remaining(for address: String) -> Int {
        let day = Self.day(of: now())
        return state.withLock { s in s.day == day ? max(0, dailyLimit - s.counts[address, default: 0]) : dailyLimit }
    }

    /// Whole seconds until the budget renews (the next UTC midnight), at least 1.
    package func secondsUntilRenewal() -> Int {
        let t = now().timeIntervalSince1970
        let next = (Double(Self.day(of: now())) + 1) * 86_400
        return max(1, Int((next - t).rounded(.up)))
    }

    static func day(of date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 / 86_400).rounded(.down))
    }
}
