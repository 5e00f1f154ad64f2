import Foundation
import GRDB

/// `webhook_deliveries`: the events queued for the owner's endpoints carry what the change
/// carried (a contact's e-mail and message, a chat line, a ticket's subject), so they are a
/// person's data as long as they are kept. Matched on the payload's own fields: the e-mail
/// fields, the visitor id, and the ticket and conversation ids the subject links to.
package struct WebhookPersonalData: PersonalDataKind {
    package init() {}
    package let name = "webhooks.deliveries"
    package let database = PrivacyDatabase.main
    package let tables = ["webhook_deliveries", "webhook_attempts"]
    package let purpose = "Tell the site's own systems (its configured webhook endpoints) about new contacts, tickets, chats and subscriptions, and log each delivery attempt."
    package let erasure = ErasureRule.delete

    private func matching(_ s: PrivacySubject) -> (String, [any DatabaseValueConvertible]) {
        let emails = PersonalDataSQL.placeholders(s.emails.count), visitors = PersonalDataSQL.placeholders(s.visitors.count)
        let tickets = PersonalDataSQL.placeholders(s.ticketIDs.count), chats = PersonalDataSQL.placeholders(s.conversationIDs.count)
        let clause = """
            (lower(json_extract(payload, '$.data.email')) IN \(emails)
             OR lower(json_extract(payload, '$.data.visitorEmail')) IN \(emails)
             OR json_extract(payload, '$.data.visitorId') IN \(visitors)
             OR json_extract(payload, '$.data.ticketId') IN \(tickets)
             OR (event_type LIKE 'ticket.%' AND json_extract(payload, '$.data.id') IN \(tickets))
             OR json_extract(payload, '$.data.conversationId') IN \(chats)
             OR (event_type LIKE 'chat.conversation.%' AND json_extract(payload, '$.data.id') IN \(chats)))
            """
        let emailValues = PersonalDataSQL.values(s.emails)
        return (clause, emailValues + emailValues + PersonalDataSQL.values(s.visitors) + PersonalDataSQL.values(s.ticketIDs)
                + PersonalDataSQL.values(s.ticketIDs) + PersonalDataSQL.values(s.conversationIDs) + PersonalDataSQL.values(s.conversationIDs))
    }

    package func export(_ subject: PrivacySubject, in db: Database) throws -> [String: [[String: JSONValue]]] {
        let (clause, args) = matching(subject)
        return ["webhook_deliveries": try PersonalDataSQL.rows(
            db, "SELECT id, endpoint_id, event_type, message_id, payload, status, attempts, created_at, delivered_at FROM webhook_deliveries WHERE \(clause) ORDER BY id", args)]
    }

    package func erase(_ subject: PrivacySubject, in db: Database, now: Date) throws -> [String: Int] {
        let (clause, args) = matching(subject)
        // The attempt log goes with its delivery (ON DELETE CASCADE).
        try db.execute(sql: "DELETE FROM webhook_deliveries WHERE \(clause)", arguments: StatementArguments(args))
        return ["webhook_deliveries": db.changesCount]
    }
}
