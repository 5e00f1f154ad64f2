import Foundation
import GRDB
import Synchronization

/// The address people reach Frontdesk at, for links in mails: `server.public_url`, or the
/// address the server bound to once it listens.
package final class PublicLinks: Sendable {
    private let base = Mutex<String>("")

    package init(configured: String) {
        setBase(configured)
    }

    /// Sets the base once the listening address is known (only when none was configured).
    package func setBase(_ url: String) {
        let normalized = url.hasSuffix("/") ? String(url.dropLast()) : url
        base.withLock { $0 = normalized }
    }

    package var baseURL: String { base.withLock { $0.isEmpty ? "http://localhost:8080" : $0 } }

    package func url(_ path: String, query: [(String, String)] = [], fragment: String? = nil) -> String {
        var components = URLComponents()
        components.queryItems = query.isEmpty ? nil : query.map { URLQueryItem(name: $0.0, value: $0.1) }
        let queryString = components.percentEncodedQuery.map { "?" + $0.replacingOccurrences(of: "+", with: "%2B") } ?? ""
        return baseURL + path + queryString + (fragment.map { "#" + $0 } ?? "")
    }
}

/// Writes the inbox's mails into the durable outbox, inside the caller's transaction, so a
/// mail exists exactly when what it tells about was committed.
package struct InboxMailer: Sendable {
    /// The mails the inbox sends (`Resources/mail/<name>.{subject,txt,html}.mustache`).
    package static let templates = ["contact_notification", "newsletter_confirmation", "ticket_created", "ticket_reply"]

    let outbox: MailOutbox
    let templates: MailTemplates
    let siteName: String
    let owner: MailAddress?
    package let links: PublicLinks
    /// Holds the admins' addresses for a few seconds, so a busy form does not read them per submission.
    let cache: ReadThrough?

    package init(outbox: MailOutbox, templates: MailTemplates, siteName: String, owner: MailAddress?, links: PublicLinks, cache: ReadThrough? = nil) {
        self.outbox = outbox
        self.templates = templates
        self.siteName = siteName
        self.owner = owner
        self.links = links
        self.cache = cache
    }

    /// The owner's notification of a new submission, rendered before the write transaction (so the
    /// single writer never waits on a template) and enqueued inside it once the id is known. Goes to
    /// `mail.owner_address`, else every active admin, with Reply-To set to the visitor; nil when
    /// there is nobody to tell.
    func prepareContactNotification(_ input: NewContactSubmission, now: Date, database: AppDatabase) async throws -> (@Sendable (Database, Int64) throws -> Void)? {
        let recipients: [MailAddress]
        if let owner {
            recipients = [owner]
        } else if let cache {
            recipients = try await cache.value("inbox:admin-recipients", ttl: .seconds(10)) { try await Self.adminRecipients(database) }
        } else {
            recipients = try await Self.adminRecipients(database)
        }
        if recipients.isEmpty { return nil }
        let placeholder = "00000000-frontdesk-submission-id"
        let content = try templates.contactNotification(
            siteName: siteName, name: input.name, email: input.email, subject: input.subject, message: input.message,
            fields: input.fields, submittedAt: now, submissionURL: links.url("/admin/inbox/contact/\(placeholder)"))
        let replyTo = try? MailAddress(input.email, name: MailHeaderText.singleLine(input.name, maxLength: 78))
        let outbox = self.outbox
        let targets = recipients
        return { db, id in
            let filled = MailContent(subject: content.subject, text: content.text.replacingOccurrences(of: placeholder, with: String(id)),
                                     html: content.html?.replacingOccurrences(of: placeholder, with: String(id)))
            for recipient in targets {
                try outbox.enqueue(OutgoingMail(kind: .contactNotification, to: recipient, content: filled, replyTo: replyTo,
                                                idempotencyKey: "contact-\(id)-\(recipient.address)"), in: db)
            }
        }
    }

    /// Every active admin's address (at most ten), for notifications when no owner address is set.
    static func adminRecipients(_ database: AppDatabase) async throws -> [MailAddress] {
        let rows = try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT email, name FROM users WHERE role = 'admin' AND disabled = 0 ORDER BY id LIMIT 10")
                .map { (email: $0["email"] as String, name: $0["name"] as String?) }
        }
        return rows.compactMap { row in
            try? MailAddress(row.email, name: MailHeaderText.singleLine(row.name ?? "", maxLength: 78), allowLocalhost: true)
        }
    }

    func newsletterConfirmation(email: String, token: String, in db: Database) throws {
        let unsubscribe = links.url("/api/v1/newsletter/unsubscribe", query: [("token", token)])
        let content = try templates.newsletterConfirmation(
            siteName: siteName, confirmURL: links.url("/api/v1/newsletter/confirm", query: [("token", token)]), unsubscribeURL: unsubscribe)
        try outbox.enqueue(OutgoingMail(kind: .newsletterConfirmation, to: try MailAddress(email, field: "email"), content: content,
                                        unsubscribeURL: unsubscribe), in: db)
    }

    /// The magic link: the token travels in the fragment, so it never reaches a server log.
    package func ticketURL(id: Int64, token: String) -> String {
        links.url("/ticket", query: [("id", String(id))], fragment: "token=\(token)")
    }

    func ticketCreated(_ ticket: SupportTicket, token: String, in db: Database) throws {
        guard let id = ticket.id else { return }
        let content = try templates.ticketCreated(siteName: siteName, ticketID: id, subject: ticket.subject, customerName: ticket.name,
                                                  ticketURL: ticketURL(id: id, token: token))
        try outbox.enqueue(OutgoingMail(kind: .ticketCreated, to: try MailAddress(ticket.email, field: "email"), content: content,
                                        idempotencyKey: "ticket-\(id)-created"), in: db)
    }

    func ticketReply(_ ticket: SupportTicket, token: String, agentName: String, reply: String, messageID: Int64, in db: Database) throws {
        guard let id = ticket.id else { return }
        let content = try templates.ticketReply(siteName: siteName, ticketID: id, subject: ticket.subject, customerName: ticket.name,
                                                agentName: agentName, reply: reply, ticketURL: ticketURL(id: id, token: token))
        try outbox.enqueue(OutgoingMail(kind: .ticketReply, to: try MailAddress(ticket.email, field: "email"), content: content,
                                        idempotencyKey: "ticket-message-\(messageID)"), in: db)
    }
}
