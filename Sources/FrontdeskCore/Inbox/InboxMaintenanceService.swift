import Foundation
import Logging
import ServiceLifecycle

/// Hourly (by default) inbox housekeeping: deletes newsletter sign-ups never confirmed within
/// `newsletter.pending_expiry_hours`, idempotency records older than a day, and sent mail older
/// than 30 days (its body may hold personal data; failed and dead mail stays for the console). Generic over the
/// clock so tests drive it without sleeping.
package struct InboxMaintenanceService<C: Clock>: Service where C.Duration == Duration {
    let newsletter: NewsletterStore
    let idempotency: IdempotencyStore
    let outbox: MailOutbox?
    let interval: Duration
    let clock: C
    let now: @Sendable () -> Date
    let logger: Logger

    package static var sentMailRetention: TimeInterval { 30 * 86_400 }

    package init(newsletter: NewsletterStore, idempotency: IdempotencyStore, outbox: MailOutbox? = nil, interval: Duration, clock: C,
                now: @escaping @Sendable () -> Date, logger: Logger) {
        self.newsletter = newsletter
        self.idempotency = idempotency
        self.outbox = outbox
        self.interval = interval
        self.clock = clock
        self.now = now
        self.logger = logger
    }

    package func run() async throws {
        await runPeriodically(every: interval, on: clock, immediately: true) { await tick() }
    }

    /// One pass; errors are logged and the next pass tries again.
    package func tick() async {
        do {
            let expired = try await newsletter.purgeExpired(now: now())
            let keys = try await idempotency.purge(now: now())
            let mails = try await outbox?.deleteSent(before: now().addingTimeInterval(-Self.sentMailRetention)) ?? 0
            if expired > 0 || keys > 0 || mails > 0 {
                logger.info("inbox maintenance", metadata: ["expired_signups": "\(expired)", "idempotency_keys": "\(keys)", "sent_mails": "\(mails)"])
            }
        } catch {
            logger.error("inbox maintenance failed", metadata: ["error": "\(error)"])
        }
    }
}
