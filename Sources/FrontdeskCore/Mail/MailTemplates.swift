import Foundation
import Mustache

/// A rendered mail: subject, plain text and (optionally) HTML.
package struct MailContent: Sendable, Equatable {
    package var subject: String
    package var text: String
    package var html: String?

    package init(subject: String, text: String, html: String? = nil) {
        self.subject = subject
        self.text = text
        self.html = html
    }
}

/// The mail templates (mustache, under `Resources/mail/`), rendered with swift-mustache.
///
/// Each mail `NAME` has `NAME.subject.mustache` and `NAME.txt.mustache`, and usually
/// `NAME.html.mustache`, which may extend `layout.html.mustache`. Values are HTML-escaped in
/// the HTML part (`{{value}}`) and left as they are in the subject and text parts.
///
/// Core does not depend on the assets target, so the caller passes the template sources in:
/// `EmbeddedAssets.files` filtered to `mail/…` in the server, the repository's files in tests,
/// and a site owner's edited copies merged on top of either.
package struct MailTemplates: Sendable {
    let library: MustacheLibrary
    let names: Set<String>

    /// A template that could not be used, naming its file.
    package struct TemplateError: Error, Sendable, CustomStringConvertible {
        package let description: String
    }

    /// Parses every `*.mustache` source; keys are paths such as `mail/ticket_reply.txt.mustache`
    /// (anything up to the last `/` is ignored). Throws naming the file when one does not parse
    /// or one of the `required` mails (the features' `mailTemplates`) lacks its subject or text.
    package init(sources: [String: String], required: [String] = []) throws {
        var library = MustacheLibrary()
        var names = Set<String>()
        for (path, text) in sources.sorted(by: { $0.key < $1.key }) {
            let file = path.split(separator: "/").last.map(String.init) ?? path
            guard file.hasSuffix(".mustache") else { continue }
            let name = String(file.dropLast(".mustache".count))
            // Mustache escapes for HTML by default; subject and text parts must stay as written.
            let isText = name.hasSuffix(".txt") || name.hasSuffix(".subject")
            do {
                try library.register(isText ? "{{% CONTENT_TYPE: TEXT}}" + text : text, named: name)
            } catch {
                throw TemplateError(description: "mail template \(path) does not parse: \(error)")
            }
            names.insert(name)
        }
        for name in required {
            for part in ["subject", "txt"] where !names.contains("\(name).\(part)") {
                throw TemplateError(description: "mail template \(name).\(part).mustache is missing")
            }
        }
        self.library = library
        self.names = names
    }

    /// The `*.mustache` files of `directory` (not recursive), keyed by file name.
    package static func sources(inDirectory directory: String) throws -> [String: String] {
        var sources: [String: String] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: directory) where file.hasSuffix(".mustache") {
            sources[file] = try String(contentsOfFile: (directory as NSString).appendingPathComponent(file), encoding: .utf8)
        }
        return sources
    }

    /// Renders mail `name` with `values` (strings, numbers, booleans, arrays and dictionaries of them).
    package func render(_ name: String, values: [String: Any]) throws -> MailContent {
        guard let subject = library.render(values, withTemplate: "\(name).subject"),
              let text = library.render(values, withTemplate: "\(name).txt") else {
            throw TemplateError(description: "there is no mail template named \(name)")
        }
        let html = names.contains("\(name).html") ? library.render(values, withTemplate: "\(name).html") : nil
        return MailContent(subject: MailHeaderText.singleLine(subject), text: text, html: html)
    }

    // MARK: - The mails Frontdesk sends

    /// To the site owner: a visitor wrote through the contact form. Reply-To should be the visitor.
    package func contactNotification(siteName: String, name: String, email: String, subject: String?, message: String,
                                    fields: [String: String] = [:], submittedAt: Date, submissionURL: String? = nil) throws -> MailContent {
        try render("contact_notification", values: [
            "site_name": siteName, "name": name, "email": email, "subject": subject ?? "", "has_subject": !(subject ?? "").isEmpty,
            "message": message, "submitted_at": Timestamps.iso8601(submittedAt),
            "fields": fields.sorted { $0.key < $1.key }.map { ["name": $0.key, "value": $0.value] },
            "has_fields": !fields.isEmpty, "submission_url": submissionURL ?? "", "has_submission_url": submissionURL != nil,
        ])
    }

    /// To a new subscriber: one click on `confirmURL` confirms (no second button to press).
    package func newsletterConfirmation(siteName: String, confirmURL: String, unsubscribeURL: String? = nil) throws -> MailContent {
        try render("newsletter_confirmation", values: [
            "site_name": siteName, "confirm_url": confirmURL,
            "unsubscribe_url": unsubscribeURL ?? "", "has_unsubscribe_url": unsubscribeURL != nil,
        ])
    }

    /// To a customer: their ticket is open; `ticketURL` is the magic link that reads and answers it.
    package func ticketCreated(siteName: String, ticketID: Int64, subject: String, customerName: String?, ticketURL: String) throws -> MailContent {
        try render("ticket_created", values: [
            "site_name": siteName, "ticket_id": "\(ticketID)", "subject": subject,
            "customer_name": customerName ?? "", "has_customer_name": !(customerName ?? "").isEmpty, "ticket_url": ticketURL,
        ])
    }

    /// To a customer: an agent answered; the reply text and the magic link.
    package func ticketReply(siteName: String, ticketID: Int64, subject: String, customerName: String?, agentName: String,
                            reply: String, ticketURL: String) throws -> MailContent {
        try render("ticket_reply", values: [
            "site_name": siteName, "ticket_id": "\(ticketID)", "subject": subject,
            "customer_name": customerName ?? "", "has_customer_name": !(customerName ?? "").isEmpty,
            "agent_name": agentName, "reply": reply, "ticket_url": ticketURL,
        ])
    }
}
