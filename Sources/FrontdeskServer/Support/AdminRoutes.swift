import FrontdeskCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// What the console's list and item routes share: the `:id` parameter, streamed CSV downloads,
/// the import size limit. Lists share one shape: `{items, total, page, perPage}` with `page`,
/// `perPage`, `q` and `sort` parameters.
enum AdminRoutes {
    /// Largest CSV import, in bytes.
    static let maxImportBytes = 5 * 1024 * 1024

    static func id(_ context: AdminRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("id").flatMap(Int64.init), id > 0 else { throw FrontdeskError.notFound("The item") }
        return id
    }

    /// A streamed CSV download: a header line, then batches fetched by `next(after:)` until empty.
    static func csvResponse(filename: String, header: [String], next: @escaping @Sendable (Int64) async throws -> ([[String?]], Int64?)) -> Response {
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
        status = row.status.rawValue
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
        status = row.status.rawValue
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
