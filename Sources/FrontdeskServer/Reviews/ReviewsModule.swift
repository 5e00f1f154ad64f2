import FrontdeskCore
import Foundation
import Hummingbird
import ServiceLifecycle

/// The reviews' settings, declared once.
enum ReviewSettings {
    static let maxLinks = Setting<Int>.integer("reviews.max_links", env: "FRONTDESK_REVIEWS_MAX_LINKS", default: 1, range: 0...20,
                                               doc: "Most web addresses a review's title and text may hold together; more is refused as likely spam.")
    static let reportThreshold = Setting<Int>.integer("reviews.report_threshold", env: "FRONTDESK_REVIEWS_REPORT_THRESHOLD", default: 3, range: 1...1000,
                                                      doc: "Visitor reports that put an approved review back into the moderation queue.")
    static let notifyOwner = Setting<Bool>.boolean("reviews.notify_owner", env: "FRONTDESK_REVIEWS_NOTIFY_OWNER", default: true,
                                                   doc: "Mail the owner (mail.owner_address, else every admin) about each new review waiting for moderation.")
    static let requestAfter = Setting<String>.choice("reviews.request_after", env: "FRONTDESK_REVIEWS_REQUEST_AFTER", default: "off",
                                                     among: ["off", "tickets", "chats", "both"],
                                                     doc: "Mail customers a single-use link to write a (verified) review after their ticket is resolved, their chat is closed, or both. Only what is resolved after switching it on is asked.")
    static let requestDelay = Setting<Int>.integer("reviews.request_delay_minutes", env: "FRONTDESK_REVIEWS_REQUEST_DELAY_MINUTES", default: 60,
                                                   range: 0...43_200, doc: "Minutes after the ticket is resolved or the chat closed before the review request is mailed.")
    static let requestValidDays = Setting<Int>.integer("reviews.request_valid_days", env: "FRONTDESK_REVIEWS_REQUEST_VALID_DAYS", default: 30,
                                                       range: 1...365, doc: "Days a review request's link works (once).")
    static let requestCheckSeconds = Setting<Int>.integer("reviews.request_check_seconds", env: "FRONTDESK_REVIEWS_REQUEST_CHECK_SECONDS", default: 60,
                                                          range: 1...3600, doc: "How often Frontdesk looks for tickets and chats due a review request.")

    /// What `reviews.request_after` asks about.
    static func requestSources(_ config: FrontdeskConfig) -> Set<ReviewRequests.Source> {
        switch config[requestAfter] {
        case "tickets": return [.ticket]
        case "chats": return [.chat]
        case "both": return [.ticket, .chat]
        default: return []
        }
    }
}

/// Reviews: the public submission (with the inbox's spam defences), list, summary, votes and
/// reports, and the console's moderation API.
struct ReviewsModule: FeatureModule {
    static var settings: [SettingSpec] {
        [ReviewSettings.maxLinks.spec, ReviewSettings.reportThreshold.spec, ReviewSettings.notifyOwner.spec, ReviewSettings.requestAfter.spec,
         ReviewSettings.requestDelay.spec, ReviewSettings.requestValidDays.spec, ReviewSettings.requestCheckSeconds.spec]
    }
    static var mailTemplates: [String] { ReviewMailer.templates + ["review_request"] }
    static var migrations: [SchemaMigration] { ReviewStore.migrations + [ReviewRequests.migration] }
    let context: FeatureContext
    init(_ context: FeatureContext) { self.context = context }
    var personalData: [any PersonalDataKind] {
        ReviewsPersonalData.kinds(store: ReviewStore(database: context.runtime.database, secret: context.runtime.ticketSecret))
    }

    func addRoutes(to routes: Routes) {
        let runtime = context.runtime
        let store = ReviewStore(database: runtime.database, secret: runtime.ticketSecret)
        let cache = ReadThrough(cache: runtime.state.cache)
        let mailer = runtime.config[ReviewSettings.notifyOwner]
            ? ReviewMailer(outbox: runtime.outbox, templates: runtime.mailTemplates, siteName: runtime.config.siteName,
                           owner: try? runtime.config.mail.owner(), links: runtime.links)
            : nil
        ReviewsController(store: store, cache: cache, forms: context.forms, idempotent: context.idempotent, config: runtime.config, mailer: mailer,
                          database: runtime.database, now: runtime.now)
            .addRoutes(to: routes)
        ReviewAdminController(store: store, cache: cache, now: runtime.now).addRoutes(to: routes)
    }

    /// The review requests' mailer, when `reviews.request_after` asks about anything.
    func services() -> [any Service] {
        let runtime = context.runtime
        let sources = ReviewSettings.requestSources(runtime.config)
        guard !sources.isEmpty else { return [] }
        return [Self.requestService(runtime, sources: sources, clock: ContinuousClock())]
    }

    static func requestService<C: Clock>(_ runtime: FrontdeskRuntime, sources: Set<ReviewRequests.Source>, clock: C) -> ReviewRequestService<C> {
        ReviewRequestService(requests: ReviewRequests(database: runtime.database), settings: AppSettingsStore(database: runtime.database),
                             outbox: runtime.outbox, templates: runtime.mailTemplates, links: runtime.links, siteName: runtime.config.siteName,
                             sources: sources, delay: TimeInterval(runtime.config[ReviewSettings.requestDelay] * 60),
                             validFor: TimeInterval(runtime.config[ReviewSettings.requestValidDays] * 86_400),
                             interval: .seconds(runtime.config[ReviewSettings.requestCheckSeconds]), clock: clock, now: runtime.now,
                             logger: runtime.logger)
    }

    /// Three approved reviews (one with the owner's reply) and one waiting in the queue.
    func seedDemo(now: Date) async throws {
        let store = ReviewStore(database: context.runtime.database, secret: context.runtime.ticketSecret)
        let samples: [(Int, String, String, String, String?)] = [
            (5, "Best sourdough in town", "Crusty, chewy and it keeps for days.", "Jonas", "Thank you, Jonas!"),
            (4, "Lovely birthday cake", "Beautiful and tasty; a bit sweet for my taste.", "Priya", nil),
            (5, "Friendly staff", "They remembered my order after two visits.", "Chen", nil),
        ]
        var approved: [Int64] = []
        for (i, (rating, title, content, name, reply)) in samples.enumerated() {
            let review = try await store.submit(NewReview(rating: rating, title: title, content: content, name: name), verified: i == 0,
                                                now: now.addingTimeInterval(Double(i - 10) * 86_400))
            approved.append(review.id ?? 0)
            if let reply { _ = try await store.reply(id: review.id ?? 0, text: reply, by: nil, now: now) }
        }
        _ = try await store.moderate(approved, status: "approved", by: nil, now: now)
        _ = try await store.submit(NewReview(rating: 2, content: "Sold out of croissants at 9 am again.", name: "Sam"), verified: false, now: now)
    }
}

/// The visitor's side of reviews:
/// - `POST /api/v1/reviews` → 201 `pending` after commit (honeypot, form token, proof of work,
///   `forms` rate class, duplicate-content and link-count checks);
/// - `GET /api/v1/reviews?subject=&sort=&page=` (approved only) and `GET /api/v1/reviews/summary`,
///   both cached until a moderation or vote changes them;
/// - `POST /api/v1/reviews/{id}/votes` and `/reports`, one of each per visitor per review.
struct ReviewsController: Sendable {
    let store: ReviewStore
    let cache: ReadThrough
    let forms: FormsController
    let idempotent: IdempotentResponder
    let config: FrontdeskConfig
    /// The owner's notice of each new review; nil when `reviews.notify_owner` is off.
    let mailer: ReviewMailer?
    let database: AppDatabase
    let now: @Sendable () -> Date

    static let ttl: Duration = .seconds(600)

    struct Created: Encodable {
        let id: Int64
        let status: String
        let verified: Bool
        let createdAt: String
    }

    struct Reported: Encodable {
        let reviewId: Int64
        /// The review had enough reports and is waiting for moderation again.
        let returnedToQueue: Bool
    }

    struct Voted: Encodable {
        let reviewId: Int64
    }

    func addRoutes(to routes: Routes) {
        forms.registry.register(PublicForm(id: "review", title: "Write a review"))
        let maxLinks = config[ReviewSettings.maxLinks]
        let threshold = config[ReviewSettings.reportThreshold]
        let identitySecret = config.chat.identitySecret
        routes.publicForms.post("/reviews") { request, context in
            let (json, body) = try await request.jsonBody(context: context)
            return try await idempotent.respond(scope: "reviews", request: request, context: context, body: body) { recorder in
                let (verdict, fields) = try forms.screen(form: "review", json, context: context)
                if verdict == .discard {
                    context.logger.info("review dropped (honeypot)", metadata: ["request_id": "\(context.requestID)"])
                    return try Response.json(Created(id: Int64.random(in: 1...Int64(Int32.max)), status: "pending", verified: false,
                                                     createdAt: Timestamps.iso8601Milliseconds(now())), status: .created)
                }
                let input = try NewReview(json: fields, maxLinks: maxLinks)
                var verified = input.requestToken != nil
                if let identity = input.identity {
                    guard ChatIdentity.verify(userId: identity.userId, hash: identity.hash, secret: identitySecret) else {
                        throw FrontdeskError.validation(["identity.hash": "does not prove identity.userId (HMAC-SHA256 of the user id under chat.identity_secret)"])
                    }
                    verified = true
                }
                let notify = try await mailer?.prepareOwnerNotification(input, database: database)
                let stamp = now()
                let review = try await store.submit(input, verified: verified, now: stamp) { db, row in
                    // A review link is used once: redeemed with the review, or the review is not stored.
                    if let token = input.requestToken { try ReviewRequests.redeem(token, reviewID: row.id ?? 0, now: stamp, in: db) }
                    try recorder.record(.created, Created(id: row.id ?? 0, status: row.status, verified: row.verified, createdAt: row.createdAt), in: db)
                    try notify?(db, row.id ?? 0)
                }
                context.logger.info("review submitted", metadata: ["review_id": "\(review.id ?? 0)", "request_id": "\(context.requestID)"])
                return try Response.json(Created(id: review.id ?? 0, status: review.status, verified: review.verified, createdAt: review.createdAt), status: .created)
            }
        }
        routes.publicAPI.get("/reviews") { request, _ in
            var query = QueryReader(request, allowed: ["subject", "sort", "page", "perPage"])
            let subject = subject(&query)
            let sort = query.choice("sort", ReviewStore.sorts, default: "newest")
            let page = query.integer("page", in: 1...100_000, default: 1)
            let perPage = query.integer("perPage", in: 1...50, default: 10)
            try query.validate()
            let cached = try await cache.value("reviews:list:\(subject):\(sort):\(page):\(perPage)", ttl: Self.ttl, cost: 4096) {
                try CachedJSON(try await store.approved(subject: subject, sort: sort, page: page, perPage: perPage))
            }
            return cached.response(to: request)
        }
        routes.publicAPI.get("/reviews/summary") { request, _ in
            var query = QueryReader(request, allowed: ["subject"])
            let subject = subject(&query)
            try query.validate()
            let cached = try await cache.value("reviews:summary:\(subject)", ttl: Self.ttl, cost: 512) {
                try CachedJSON(try await store.summary(subject: subject))
            }
            return cached.response(to: request)
        }
        routes.publicForms.post("/reviews/:id/votes") { request, context in
            let id = try reviewID(context)
            var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["visitorId"])
            let visitor = VisitorVote.visitorId(&reader)
            try reader.validate()
            guard try await store.voteHelpful(reviewID: id, visitor: visitor ?? "", now: now()) != .alreadyVoted else { throw VisitorVote.alreadyVoted("review") }
            cache.invalidate(matching: "reviews:list:*")
            return try Response.json(Voted(reviewId: id), status: .created)
        }
        routes.publicForms.post("/reviews/:id/reports") { request, context in
            let id = try reviewID(context)
            var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["visitorId", "reason"])
            let visitor = VisitorVote.visitorId(&reader)
            _ = reader.text("reason", required: false, maxLength: 500, multiline: true)
            try reader.validate()
            let outcome = try await store.report(reviewID: id, visitor: visitor ?? "", threshold: threshold, now: now())
            if outcome == .alreadyVoted {
                throw FrontdeskError(.conflict, code: "already_reported", message: "This visitor has reported this review already.")
            }
            if outcome == .returnedToQueue {
                cache.invalidate(matching: "reviews:*")
                context.logger.notice("review returned to the moderation queue by reports", metadata: ["review_id": "\(id)"])
            }
            return try Response.json(Reported(reviewId: id, returnedToQueue: outcome == .returnedToQueue), status: .created)
        }
    }

    func subject(_ query: inout QueryReader) -> String {
        guard let raw = query.text("subject", maxLength: ReviewLimits.subject) else { return "" }
        guard ReviewLimits.isSubject(raw) else {
            query.fail("subject", "must be empty or lower-case letters, digits and . _ : / - (like product:blue-mug)")
            return ""
        }
        return raw
    }

    func reviewID(_ context: AppRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("id").flatMap(Int64.init), id > 0 else { throw FrontdeskError.notFound("The review") }
        return id
    }
}

/// A review as the console sees it: everything, the email and moderation fields included.
struct AdminReviewView: Encodable, Sendable {
    let id: Int64
    let subject: String
    let rating: Int
    let title: String?
    let content: String
    let name: String
    let email: String?
    let status: String
    let verified: Bool
    let helpful: Int
    let reports: Int
    let reply: String?
    let repliedAt: String?
    let createdAt: String
    let approvedAt: String?
    let moderatedAt: String?

    init(_ r: Review) {
        id = r.id ?? 0; subject = r.subject; rating = r.rating; title = r.title; content = r.content; name = r.name; email = r.email
        status = r.status; verified = r.verified; helpful = r.helpful; reports = r.reports; reply = r.reply; repliedAt = r.repliedAt
        createdAt = r.createdAt; approvedAt = r.approvedAt; moderatedAt = r.moderatedAt
    }
}

/// The console's moderation API: the queue with filters, approve/reject/spam one or many, the
/// owner's reply. Every change drops the cached public reads (`reviews:*`).
struct ReviewAdminController: Sendable {
    let store: ReviewStore
    let cache: ReadThrough
    let now: @Sendable () -> Date

    static let decisions = ["approved", "rejected", "spam", "pending"]

    func addRoutes(to routes: Routes) {
        let admin = routes.admin
        admin.get("/reviews") { request, _ in
            let query = try ListQuery(request.queryDictionary, sortable: ReviewStore.sortable, defaultSort: "-createdAt", filters: ReviewStore.filters)
            return try Response.json(try await store.list(query).map(AdminReviewView.init))
        }
        admin.get("/reviews/:id") { _, context in
            try Response.json(AdminReviewView(try await store.review(id: try AdminRoutes.id(context))))
        }
        admin.patch("/reviews/:id") { request, context in
            var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["status"])
            let status = decision(&reader)
            try reader.validate()
            let changed = try await store.moderate([try AdminRoutes.id(context)], status: status, by: context.admin.id, now: now())
            cache.invalidate(matching: "reviews:*")
            context.logger.info("review moderated", metadata: ["review_id": "\(changed[0].id ?? 0)", "status": "\(status)", "by": "\(context.admin.id)"])
            return try Response.json(AdminReviewView(changed[0]))
        }
        admin.post("/reviews/moderation") { request, context in
            let json = try await request.jsonObject(context: context)
            var reader = FieldReader(json, allowed: ["ids", "status"])
            let status = decision(&reader)
            var ids: [Int64] = []
            if case .array(let values)? = json["ids"], (1...100).contains(values.count) {
                for value in values {
                    if case .number(let n) = value, n >= 1, n <= 9_007_199_254_740_991, n.rounded() == n { ids.append(Int64(n)) }
                    else { reader.fail("ids", "must hold review ids (integers from 1)") }
                }
            } else {
                reader.fail("ids", "is required: 1 to 100 review ids")
            }
            try reader.validate()
            let changed = try await store.moderate(Array(Set(ids)).sorted(), status: status, by: context.admin.id, now: now())
            cache.invalidate(matching: "reviews:*")
            context.logger.info("reviews moderated", metadata: ["count": "\(changed.count)", "status": "\(status)", "by": "\(context.admin.id)"])
            return try Response.json(Items(items: changed.map(AdminReviewView.init)))
        }
        admin.put("/reviews/:id/reply") { request, context in
            var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["text"])
            let text = reader.text("text", required: true, maxLength: ReviewLimits.reply, multiline: true)
            try reader.validate()
            let review = try await store.reply(id: try AdminRoutes.id(context), text: text, by: context.admin.id, now: now())
            cache.invalidate(matching: "reviews:*")
            return try Response.json(AdminReviewView(review))
        }
        admin.delete("/reviews/:id/reply") { _, context in
            let review = try await store.reply(id: try AdminRoutes.id(context), text: nil, by: context.admin.id, now: now())
            cache.invalidate(matching: "reviews:*")
            return try Response.json(AdminReviewView(review))
        }
        admin.delete("/reviews/:id") { _, context in
            try await store.delete(id: try AdminRoutes.id(context))
            cache.invalidate(matching: "reviews:*")
            return Response(status: .noContent)
        }
    }

    func decision(_ reader: inout FieldReader) -> String {
        guard let status = reader.text("status", required: true, maxLength: 20) else { return "" }
        guard Self.decisions.contains(status) else { reader.fail("status", "must be one of " + Self.decisions.joined(separator: ", ")); return "" }
        return status
    }
}
