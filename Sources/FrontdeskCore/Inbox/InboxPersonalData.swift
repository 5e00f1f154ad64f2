import Foundation
import GRDB

/// How long the inbox keeps what visitors sent (`[retention]`); 0 keeps it until erased.
package enum InboxRetention {
    package static let contactSubmissions = Setting<Int>.integer(
        "retention.contact_submissions_days", env: "FRONTDESK_RETENTION_CONTACT_SUBMISSIONS_DAYS", default: 365, range: 0...3650,
        doc: "Days a contact-form submission is kept after it was sent, then deleted by the retention sweeper (0 keeps it until erased).")
    package static let closedTickets = Setting<Int>.integer(
        "retention.closed_tickets_days", env: "FRONTDESK_RETENTION_CLOSED_TICKETS_DAYS", default: 730, range: 0...3650,
        doc: "Days a closed support ticket (with its messages) is kept after it was closed, then deleted (0 keeps it until erased).")
    package static let unsubscribedNewsletter = Setting<Int>.integer(
        "retention.unsubscribed_newsletter_days", env: "FRONTDESK_RETENTION_UNSUBSCRIBED_NEWSLETTER_DAYS", default: 30, range: 0...3650,
        doc: "Days an unsubscribed newsletter address (and its consent proof) is kept after unsubscribing, then deleted (0 keeps it).")

    package static var all: [SettingSpec] { [contactSubmissions.spec, closedTickets.spec, unsubscribedNewsletter.spec] }
}

/// The inbox's personal data: contact submissions, tickets with their threads, newsletter
/// subscriptions with their consent proof, and stored form responses (idempotency records).
package enum InboxPersonalData {
    package static var kinds: [any PersonalDataKind] { [Contacts(), Tickets(), Newsletter(), IdempotencyRecords()] }

    /// `contact_submissions`: what a visitor sent through a contact form.
    package struct Contacts: PersonalDataKind {
        package init() {}
        package let name = "inbox.contacts"
        package let database = PrivacyDatabase.main
        package let tables = ["contact_submissions"]
        package let purpose = "Answer messages visitors send through the contact form (name, e-mail, message, page, browser)."
        package let erasure = ErasureRule.delete
        package var retention: Setting<Int>? { InboxRetention.contactSubmissions }

        private func matching(_ s: PrivacySubject) -> (String, [any DatabaseValueConvertible]) {
            ("lower(email) IN \(PersonalDataSQL.placeholders(s.emails.count))", PersonalDataSQL.values(s.emails))
        }

        package func link(_ subject: inout PrivacySubject, in db: Database) throws {
            let (clause, args) = matching(subject)
            for name in try String.fetchAll(db, sql: "SELECT name FROM contact_submissions WHERE \(clause)", arguments: StatementArguments(args)) {
                subject.add(name: name)
            }
        }

        package func export(_ subject: PrivacySubject, in db: Database) throws -> [String: [[String: JSONValue]]] {
            let (clause, args) = matching(subject)
            return ["contact_submissions": try PersonalDataSQL.rows(db, "SELECT * FROM contact_submissions WHERE \(clause) ORDER BY id", args)]
        }

        package func erase(_ subject: PrivacySubject, in db: Database, now: Date) throws -> [String: Int] {
            let (clause, args) = matching(subject)
            try db.execute(sql: "DELETE FROM contact_submissions WHERE \(clause)", arguments: StatementArguments(args))
            return ["contact_submissions": db.changesCount]
        }

        package func sweep(before cutoff: Date, limit: Int, in db: Database, now: Date) throws -> Int {
            try db.execute(sql: "DELETE FROM contact_submissions WHERE id IN (SELECT id FROM contact_submissions WHERE created_at < ? ORDER BY id LIMIT ?)",
                           arguments: [Timestamps.iso8601Milliseconds(cutoff), limit])
            return db.changesCount
        }
    }

    /// `support_tickets` and `ticket_messages`: a customer's tickets and their whole threads.
    package struct Tickets: PersonalDataKind {
        package init() {}
        package let name = "inbox.tickets"
        package let database = PrivacyDatabase.main
        package let tables = ["support_tickets", "ticket_messages"]
        package let purpose = "Handle support requests: the ticket, its thread with the agents, and the chat or contact message it came from."
        package let erasure = ErasureRule.delete
        package var retention: Setting<Int>? { InboxRetention.closedTickets }

        private func matching(_ s: PrivacySubject) -> (String, [any DatabaseValueConvertible]) {
            ("(lower(email) IN \(PersonalDataSQL.placeholders(s.emails.count)) OR id IN \(PersonalDataSQL.placeholders(s.ticketIDs.count))"
                + " OR (source = 'chat' AND source_id IN \(PersonalDataSQL.placeholders(s.conversationIDs.count))))",
             PersonalDataSQL.values(s.emails) + PersonalDataSQL.values(s.ticketIDs) + PersonalDataSQL.values(s.conversationIDs))
        }

        package func link(_ subject: inout PrivacySubject, in db: Database) throws {
            let (clause, args) = matching(subject)
            for row in try Row.fetchAll(db, sql: "SELECT id, email, name, source, source_id FROM support_tickets WHERE \(clause)", arguments: StatementArguments(args)) {
                subject.ticketIDs.insert(row["id"])
                subject.add(email: row["email"])
                subject.add(name: row["name"])
                if (row["source"] as String?) == "chat", let chat = row["source_id"] as Int64? { subject.conversationIDs.insert(chat) }
            }
        }

        package func export(_ subject: PrivacySubject, in db: Database) throws -> [String: [[String: JSONValue]]] {
            let (clause, args) = matching(subject)
            return [
                "support_tickets": try PersonalDataSQL.rows(db, "SELECT * FROM support_tickets WHERE \(clause) ORDER BY id", args, omitting: ["access_nonce"]),
                "ticket_messages": try PersonalDataSQL.rows(db, "SELECT * FROM ticket_messages WHERE ticket_id IN (SELECT id FROM support_tickets WHERE \(clause)) ORDER BY id", args),
            ]
        }

        package func erase(_ subject: PrivacySubject, in db: Database, now: Date) throws -> [String: Int] {
            let (clause, args) = matching(subject)
            try db.execute(sql: "DELETE FROM ticket_messages WHERE ticket_id IN (SELECT id FROM support_tickets WHERE \(clause))", arguments: StatementArguments(args))
            let messages = db.changesCount
            try db.execute(sql: "DELETE FROM support_tickets WHERE \(clause)", arguments: StatementArguments(args))
            return ["support_tickets": db.changesCount, "ticket_messages": messages]
        }

        package func sweep(before cutoff: Date, limit: Int, in db: Database, now: Date) throws -> Int {
            // Messages go with their ticket (ON DELETE CASCADE).
            try db.execute(sql: """
                DELETE FROM support_tickets WHERE id IN (SELECT id FROM support_tickets WHERE status = 'closed' AND closed_at < ? ORDER BY id LIMIT ?)
                """, arguments: [Timestamps.iso8601Milliseconds(cutoff), limit])
            return db.changesCount
        }
    }

    /// `newsletter_subscriptions`: one row per address with the proof of its consent.
    package struct Newsletter: PersonalDataKind {
        package init() {}
        package let name = "inbox.newsletter"
        package let database = PrivacyDatabase.main
        package let tables = ["newsletter_subscriptions"]
        package let purpose = "Send the newsletter to addresses that confirmed their sign-up (double opt-in), and prove that consent."
        package let erasure = ErasureRule.anonymise(reason: "the consent proof (text version, sign-up, confirmation and unsubscribe times) is kept without the address, name, topics or network")
        package var retention: Setting<Int>? { InboxRetention.unsubscribedNewsletter }

        private func matching(_ s: PrivacySubject) -> (String, [any DatabaseValueConvertible]) {
            ("lower(email) IN \(PersonalDataSQL.placeholders(s.emails.count))", PersonalDataSQL.values(s.emails))
        }

        package func link(_ subject: inout PrivacySubject, in db: Database) throws {
            let (clause, args) = matching(subject)
            for name in try String?.fetchAll(db, sql: "SELECT name FROM newsletter_subscriptions WHERE \(clause)", arguments: StatementArguments(args)) {
                subject.add(name: name)
            }
        }

        package func export(_ subject: PrivacySubject, in db: Database) throws -> [String: [[String: JSONValue]]] {
            let (clause, args) = matching(subject)
            return ["newsletter_subscriptions": try PersonalDataSQL.rows(db, "SELECT * FROM newsletter_subscriptions WHERE \(clause) ORDER BY id", args, omitting: ["token"])]
        }

        package func erase(_ subject: PrivacySubject, in db: Database, now: Date) throws -> [String: Int] {
            let (clause, args) = matching(subject)
            let stamp = Timestamps.iso8601Milliseconds(now)
            // The address becomes a random one that can receive nothing; the token is replaced,
            // so an old confirmation or unsubscribe link opens nothing.
            try db.execute(sql: """
                UPDATE newsletter_subscriptions SET email = 'erased-' || lower(hex(randomblob(12))) || '@erased.invalid', name = NULL, topics = '[]',
                    token = lower(hex(randomblob(24))), client_network = NULL, status = 'unsubscribed',
                    unsubscribed_at = COALESCE(unsubscribed_at, ?), updated_at = ?
                WHERE \(clause)
                """, arguments: StatementArguments([stamp, stamp] + args))
            return ["newsletter_subscriptions": db.changesCount]
        }

        package func sweep(before cutoff: Date, limit: Int, in db: Database, now: Date) throws -> Int {
            try db.execute(sql: """
                DELETE FROM newsletter_subscriptions WHERE id IN (SELECT id FROM newsletter_subscriptions
                    WHERE status = 'unsubscribed' AND unsubscribed_at < ? ORDER BY id LIMIT ?)
                """, arguments: [Timestamps.iso8601Milliseconds(cutoff), limit])
            return db.changesCount
        }
    }

    /// `idempotency_keys`: the stored first response of a form post (kept one day), which may
    /// repeat what the visitor sent.
    package struct IdempotencyRecords: PersonalDataKind {
        package init() {}
        package let name = "inbox.idempotency"
        package let database = PrivacyDatabase.main
        package let tables = ["idempotency_keys"]
        package let purpose = "Answer a retried form post with its first response instead of storing it twice (kept one day)."
        package let erasure = ErasureRule.delete

        private func matching(_ s: PrivacySubject) -> (String, [any DatabaseValueConvertible]) {
            let needles = s.emails.sorted() + s.ticketIDs.sorted().flatMap { ["\"id\":\($0),", "\"id\":\($0)}"] }
            guard !needles.isEmpty else { return ("0", []) }
            return ("(" + needles.map { _ in "instr(lower(CAST(body AS TEXT)), ?) > 0" }.joined(separator: " OR ") + ")", needles)
        }

        package func export(_ subject: PrivacySubject, in db: Database) throws -> [String: [[String: JSONValue]]] {
            let (clause, args) = matching(subject)
            return ["idempotency_keys": try PersonalDataSQL.rows(db, "SELECT scope, status, body, created_at FROM idempotency_keys WHERE \(clause)", args)]
        }

        package func erase(_ subject: PrivacySubject, in db: Database, now: Date) throws -> [String: Int] {
            let (clause, args) = matching(subject)
            try db.execute(sql: "DELETE FROM idempotency_keys WHERE \(clause)", arguments: StatementArguments(args))
            return ["idempotency_keys": db.changesCount]
        }
    }
}
