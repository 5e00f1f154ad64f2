import FrontdeskCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The inbox for agents and admins (session + CSRF): contact submissions, tickets, newsletter
/// subscribers, the mail outbox, and the agents to assign to. Lists share one shape:
/// `{items, total, page, perPage}` with `page`, `perPage`, `q` and `sort` parameters.
struct AdminInboxController: Sendable {
    let contacts: ContactStore
    let tickets: TicketStore
    let newsletter: NewsletterStore
    let outbox: MailOutbox
    let accounts: AccountStore
    let now: @Sendable () -> Date

    /// Largest CSV import, in bytes.
    static let maxImportBytes = 5 * 1024 * 1024

    func addRoutes(to routes: Routes) {
        let admin = routes.admin
        admin.get("/agents") { _, _ in
            let agents = try await accounts.list().filter { !$0.disabled }.map { AgentView(id: $0.id ?? 0, name: $0.name, email: $0.email, role: $0.role.rawValue) }
            return try Response.json(Items(items: agents))
        }
        addContactRoutes(admin)
        addTicketRoutes(admin)
        addSubscriberRoutes(admin)
        addMailRoutes(admin)
    }

    // MARK: Contact submissions

    func addContactRoutes(_ admin: RouterGroup<AdminRequestContext>) {
        admin.get("/contact-submissions") { request, _ in
            let query = try ListQuery(request.queryDictionary, sortable: ContactStore.sortable, defaultSort: "-createdAt", filters: ContactStore.filters)
            return try Response.json(try await contacts.list(query).map(ContactView.init))
        }
        admin.get("/contact-submissions/export") { request, _ in
            let query = try ListQuery(request.queryDictionary, sortable: ContactStore.sortable, defaultSort: "createdAt", filters: ContactStore.filters)
            return csvResponse(filename: "contact-submissions.csv",
                               header: ["id", "created_at", "form", "status", "name", "email", "subject", "message", "fields", "page_url", "processed_at"]) { after in
                let rows = try await contacts.exportBatch(query, after: after)
                return (rows.map { [String($0.id ?? 0), $0.createdAt, $0.form, $0.status, $0.name, $0.email, $0.subject, $0.message, $0.fields, $0.pageURL, $0.processedAt] },
                        rows.last?.id)
            }
        }
        admin.get("/contact-submissions/:id") { _, context in
            guard let row = try await contacts.find(id: try Self.id(context)) else { throw FrontdeskError.notFound("The submission") }
            return try Response.json(ContactView(row))
        }
        admin.patch("/contact-submissions/:id") { request, context in
            let id = try Self.id(context)
            var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["status"])
            let status = reader.text("status", required: true, maxLength: 20)
            try reader.validate()
            return try Response.json(ContactView(try await contacts.setStatus(id: id, status: status!, now: now())))
        }
        admin.delete("/contact-submissions/:id") { _, context in
            try await contacts.delete(id: try Self.id(context))
            let id = try Self.id(context)
            context.logger.notice("contact submission deleted", metadata: ["contact_id": "\(id)", "by": "\(context.admin.id)"])
            return Response(status: .noContent)
        }
        admin.post("/contact-submissions/:id/ticket") { _, context in
            let ticket = try await tickets.convert(contactID: try Self.id(context), now: now())
            return try Response.json(ticket, status: .created)
        }
    }

    // MARK: Tickets

    func addTicketRoutes(_ admin: RouterGroup<AdminRequestContext>) {
        admin.get("/tickets") { request, context in
            var parameters = request.queryDictionary
            if parameters["assignee"] == "me" { parameters["assignee"] = String(context.admin.id) }
            let query = try ListQuery(parameters, sortable: TicketStore.sortable, defaultSort: "-updatedAt", filters: TicketStore.filters)
            return try Response.json(try await tickets.list(query))
        }
        admin.get("/tickets/:id") { _, context in
            let id = try Self.id(context)
            let summary = try await tickets.summary(id: id)
            let messages = try await tickets.messages(ticketID: id, includeInternal: true)
            return try Response.json(TicketDetail(ticket: summary, messages: messages.map(TicketMessageView.init)))
        }
        admin.patch("/tickets/:id") { request, context in
            let change = try TicketStore.Change(json: try await request.jsonObject(context: context))
            let updated = try await tickets.update(id: try Self.id(context), change, now: now())
            context.logger.info("ticket updated", metadata: ["ticket_id": "\(updated.id)", "by": "\(context.admin.id)", "status": "\(updated.status)"])
            return try Response.json(updated)
        }
        admin.post("/tickets/:id/messages") { request, context in
            let (body, isInternal) = try TicketStore.validBody(try await request.jsonObject(context: context), allowInternal: true)
            let message = try await tickets.agentMessage(ticketID: try Self.id(context), agent: context.admin.user, body: body, internal: isInternal, now: now())
            return try Response.json(TicketMessageView(message), status: .created)
        }
        admin.delete("/tickets/:id") { _, context in
            try await tickets.delete(id: try Self.id(context))
            let id = try Self.id(context)
            context.logger.notice("ticket deleted", metadata: ["ticket_id": "\(id)", "by": "\(context.admin.id)"])
            return Response(status: .noContent)
        }
    }

    // MARK: Newsletter subscribers

    func addSubscriberRoutes(_ admin: RouterGroup<AdminRequestContext>) {
        admin.get("/newsletter/subscribers") { request, _ in
            let query = try ListQuery(request.queryDictionary, sortable: NewsletterStore.sortable, defaultSort: "-subscribedAt", filters: NewsletterStore.filters)
            var page = try await newsletter.list(query).map(SubscriberView.init)
            page.counts = try await newsletter.counts()
            return try Response.json(page)
        }
        admin.get("/newsletter/subscribers/export") { request, _ in
            let query = try ListQuery(request.queryDictionary, sortable: NewsletterStore.sortable, defaultSort: "subscribedAt", filters: NewsletterStore.filters)
            return csvResponse(filename: "newsletter-subscribers.csv",
                               header: ["email", "name", "topics", "status", "subscribed_at", "confirmed_at", "unsubscribed_at", "consent_version", "source"]) { after in
                let rows = try await newsletter.exportBatch(query, after: after)
                return (rows.map { [$0.email, $0.name, $0.topicList.joined(separator: ";"), $0.status, $0.subscribedAt, $0.confirmedAt,
                                    $0.unsubscribedAt, $0.consentVersion, $0.source] }, rows.last?.id)
            }
        }
        admin.post("/newsletter/subscribers/import") { request, context in
            let confirmedRaw = request.uri.queryParameters.get("confirmed") ?? "false"
            guard confirmedRaw == "true" || confirmedRaw == "false" else {
                throw FrontdeskError.validation(["confirmed": "must be true or false"])
            }
            let mediaType = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            guard mediaType == "text/csv" || mediaType == "text/plain" else {
                throw FrontdeskError(.unsupportedMediaType, code: "unsupported_media_type", message: "Send the subscribers as text/csv (email,name,topics per line).")
            }
            let buffer: ByteBuffer
            do {
                buffer = try await request.body.collect(upTo: Self.maxImportBytes)
            } catch let error as HTTPError where error.status == .contentTooLarge {
                throw Request.tooLarge(limit: Self.maxImportBytes)
            }
            let result = try await newsletter.importCSV(String(buffer: buffer), confirmed: confirmedRaw == "true", now: now())
            context.logger.notice("subscribers imported", metadata: ["imported": "\(result.imported)", "skipped": "\(result.skipped)",
                                                                     "confirmed": "\(confirmedRaw)", "by": "\(context.admin.id)"])
            return try Response.json(result)
        }
        admin.delete("/newsletter/subscribers/:id") { _, context in
            try await newsletter.delete(id: try Self.id(context))
            return Response(status: .noContent)
        }
    }

    // MARK: Mail outbox

    func addMailRoutes(_ admin: RouterGroup<AdminRequestContext>) {
        admin.get("/mail") { request, _ in
            let query = try ListQuery(request.queryDictionary, sortable: ["createdAt"], defaultSort: "-createdAt",
                                      filters: ["status": Set(MailStatus.allCases.map(\.rawValue))])
            let status = query.filters["status"].flatMap(MailStatus.init(rawValue:))
            let counts = try await outbox.countsByStatus()
            let items = try await outbox.list(status: status, limit: query.perPage, offset: query.offset)
            let total = status.map { counts[$0] ?? 0 } ?? counts.values.reduce(0, +)
            return try Response.json(Page(items: items.map(MailView.init), total: total, page: query.page, perPage: query.perPage,
                                          counts: Dictionary(uniqueKeysWithValues: MailStatus.allCases.map { ($0.rawValue, counts[$0] ?? 0) })))
        }
        admin.post("/mail/:id/retry") { _, context in
            return try Response.json(MailView(try await outbox.retry(id: try Self.id(context))))
        }
    }

    // MARK: Helpers

    static func id(_ context: AdminRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("id").flatMap(Int64.init), id > 0 else { throw FrontdeskError.notFound("The item") }
        return id
    }

    /// A streamed CSV download: a header line, then batches fetched by `next(after:)` until empty.
    func csvResponse(filename: String, header: [String], next: @escaping @Sendable (Int64) async throws -> ([[String?]], Int64?)) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"\(filename)\""
        headers[.cacheControl] = "no-store"
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: CSV.line(header)))
            var after: Int64 = 0
            while true {
                let (rows, last) = try await next(after)
                guard let last, !rows.isEmpty else { break }
                try await writer.write(ByteBuffer(string: rows.map(CSV.line).joined()))
                after = last
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}

struct Items<Item: Encodable>: Encodable {
    let items: [Item]
}

struct AgentView: Encodable {
    let id: Int64
    let name: String
    let email: String
    let role: String
}

struct ContactView: Encodable, Sendable {
    let id: Int64
    let form: String
    let name: String
    let email: String
    let subject: String?
    let message: String
    let fields: [String: String]
    let status: String
    let pageUrl: String?
    let createdAt: String
    let processedAt: String?

    init(_ row: ContactSubmission) {
        id = row.id ?? 0
        form = row.form
        name = row.name
        email = row.email
        subject = row.subject
        message = row.message
        fields = (try? JSONDecoder().decode([String: String].self, from: Data(row.fields.utf8))) ?? [:]
        status = row.status
        pageUrl = row.pageURL
        createdAt = row.createdAt
        processedAt = row.processedAt
    }
}

struct TicketDetail: Encodable {
    let ticket: TicketSummary
    let messages: [TicketMessageView]

    /// The ticket's fields at the top level, with its thread beside them.
    func encode(to encoder: any Encoder) throws {
        try ticket.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(messages, forKey: .messages)
    }

    enum Key: String, CodingKey { case messages }
}

struct SubscriberView: Encodable, Sendable {
    let id: Int64
    let email: String
    let name: String?
    let status: String
    let topics: [String]
    let consentVersion: String
    let source: String
    let subscribedAt: String
    let confirmedAt: String?
    let unsubscribedAt: String?

    init(_ row: NewsletterSubscription) {
        id = row.id ?? 0
        email = row.email
        name = row.name
        status = row.status
        topics = row.topicList
        consentVersion = row.consentVersion
        source = row.source
        subscribedAt = row.subscribedAt
        confirmedAt = row.confirmedAt
        unsubscribedAt = row.unsubscribedAt
    }
}

struct MailView: Encodable {
    let id: Int64
    let to: String
    let subject: String
    let template: String
    let status: String
    let attempts: Int
    let lastError: String?
    let createdAt: String
    let sentAt: String?
    let nextAttemptAt: String?

    init(_ mail: OutboxMail) {
        id = mail.id
        to = mail.toAddress
        subject = mail.subject
        template = mail.kind
        status = mail.status.rawValue
        attempts = mail.attempts
        lastError = mail.lastError
        createdAt = mail.createdAt
        sentAt = mail.sentAt
        nextAttemptAt = mail.status == .queued || mail.status == .failed ? mail.nextAttemptAt : nil
    }
}

extension Request {
    /// The query string as a dictionary (the last value wins for a repeated name).
    var queryDictionary: [String: String] {
        var out: [String: String] = [:]
        for (key, value) in uri.queryParameters { out[String(key)] = String(value) }
        return out
    }
}

extension HTTPField.Name {
    static let contentDisposition = HTTPField.Name("Content-Disposition")!
}
