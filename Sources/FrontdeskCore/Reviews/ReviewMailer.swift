import Foundation
import GRDB

/// The reviews' mail: the owner's notice of a new review waiting for moderation, written into
/// the durable outbox in the same transaction as the review.
package struct ReviewMailer: Sendable {
    /// `Resources/mail/<name>.{subject,txt,html}.mustache`.
    package static let templates = ["review_notification"]
    package static let ownerNotification = MailKind(rawValue: "review_notification")

    let outbox: MailOutbox
    let templates: MailTemplates
    let siteName: String
    let owner: MailAddress?
    let links: PublicLinks

    package init(outbox: MailOutbox, templates: MailTemplates, siteName: String, owner: MailAddress?, links: PublicLinks) {
        self.outbox = outbox
        self.templates = templates
        self.siteName = siteName
        self.owner = owner
        self.links = links
    }

    /// Renders the notice before the write (the single writer never waits on a template) and
    /// returns what enqueues it inside the transaction: to `mail.owner_address`, else every active
    /// admin; nil when there is nobody to tell.
    package func prepareOwnerNotification(_ review: NewReview, database: AppDatabase) async throws -> (@Sendable (Database, Int64) throws -> Void)? {
        var recipients: [MailAddress]
        if let owner { recipients = [owner] } else { recipients = try await InboxMailer.adminRecipients(database) }
        if recipients.isEmpty { return nil }
        let content = try templates.render("review_notification", values: [
            "site_name": siteName, "name": review.name, "rating": review.rating,
            "stars": String(repeating: "★", count: review.rating) + String(repeating: "☆", count: 5 - review.rating),
            "title": review.title ?? "", "has_title": review.title != nil, "content": review.content,
            "subject": review.subject, "has_subject": !review.subject.isEmpty, "queue_url": links.url("/admin/reviews"),
        ])
        let outbox = self.outbox
        let targets = recipients
        return { db, id in
            for recipient in targets {
                try outbox.enqueue(OutgoingMail(kind: Self.ownerNotification, to: recipient, content: content,
                                                idempotencyKey: "review-\(id)-\(recipient.address)"), in: db)
            }
        }
    }
}
