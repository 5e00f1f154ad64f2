import FrontdeskCore
import Foundation
import Logging
import ServiceLifecycle

/// Mails review requests (`reviews.request_after`): every pass finds the tickets resolved and
/// the chats closed at least `reviews.request_delay_minutes` ago — since the feature was
/// switched on, so turning it on never mails old customers — and asks each once, the request
/// and its mail written in one transaction through the durable outbox.
struct ReviewRequestService<C: Clock>: Service where C.Duration == Duration {
    let requests: ReviewRequests
    let settings: AppSettingsStore
    let outbox: MailOutbox
    let templates: MailTemplates
    let links: PublicLinks
    let siteName: String
    let sources: Set<ReviewRequests.Source>
    let delay: TimeInterval
    let validFor: TimeInterval
    let interval: Duration
    let clock: C
    let now: @Sendable () -> Date
    let logger: Logger

    static var kind: MailKind { MailKind(rawValue: "review_request") }
    /// When the requests were switched on (ISO 8601): nothing resolved before is asked.
    static var sinceKey: String { "reviews.requests_since" }
    /// Most requests queued by one pass; the next pass takes the rest.
    static var batch: Int { 100 }

    func run() async throws {
        await runPeriodically(every: interval, on: clock, immediately: true) { _ = await tick() }
    }

    /// One pass; errors are logged and the next pass tries again. Returns the requests queued.
    @discardableResult
    func tick() async -> Int {
        do {
            let now = self.now()
            let since: String
            if let stored = try await settings.value(for: Self.sinceKey) {
                since = stored
            } else {
                since = Timestamps.iso8601Milliseconds(now)
                try await settings.set(Self.sinceKey, to: since, now: now)
            }
            var queued = 0
            for due in try await requests.due(sources, since: since, before: now.addingTimeInterval(-delay), limit: Self.batch) {
                guard let address = try? MailAddress(due.email, name: due.name, field: "email") else { continue }
                let (token, hash) = ReviewRequests.newToken()
                let expires = now.addingTimeInterval(validFor)
                let content = try templates.render("review_request", values: [
                    "site_name": siteName, "name": due.name, "has_name": !due.name.isEmpty, "ticket": due.source == .ticket, "about": due.about,
                    "review_url": links.url("/review", fragment: "review=\(token)"), "expires": String(Timestamps.iso8601Milliseconds(expires).prefix(10)),
                ])
                let outbox = self.outbox
                let key = "review-request-\(due.source.rawValue)-\(due.sourceID)"
                if try await requests.create(due, tokenHash: hash, now: now, validFor: validFor, enqueue: { db, _ in
                    try outbox.enqueue(OutgoingMail(kind: Self.kind, to: address, content: content, idempotencyKey: key), in: db)
                }) {
                    queued += 1
                }
            }
            if queued > 0 { logger.info("review requests queued", metadata: ["count": "\(queued)"]) }
            return queued
        } catch {
            logger.error("review requests failed", metadata: ["error": "\(error)"])
            return 0
        }
    }
}
