import Foundation
import GRDB

/// How long closed chat conversations are kept (`[retention]`).
package enum ChatRetention {
    package static let conversations = Setting<Int>.integer(
        "retention.chat_conversations_days", env: "FRONTDESK_RETENTION_CHAT_CONVERSATIONS_DAYS", default: 365, range: 0...3650,
        doc: "Days a closed chat conversation (with its messages) is kept after it closed, then deleted by the retention sweeper (0 keeps it until erased).")
}

/// `chat_conversations` and `chat_messages`: a visitor's conversations, found by visitor id,
/// identified user id, the e-mail they left, or the ticket made from them.
package struct ChatPersonalData: PersonalDataKind {
    package init() {}
    package let name = "chat.conversations"
    package let database = PrivacyDatabase.main
    package let tables = ["chat_conversations", "chat_messages"]
    package let purpose = "Live chat between visitors and agents: the conversation, its messages and delivery receipts, the page it started on."
    package let erasure = ErasureRule.delete
    package var retention: Setting<Int>? { ChatRetention.conversations }

    private func matching(_ s: PrivacySubject) -> (String, [any DatabaseValueConvertible]) {
        let p = PersonalDataSQL.placeholders
        return ("(id IN \(p(s.conversationIDs.count)) OR visitor_id IN \(p(s.visitors.count)) OR user_id IN \(p(s.userIDs.count))"
                + " OR lower(visitor_email) IN \(p(s.emails.count)) OR ticket_id IN \(p(s.ticketIDs.count)))",
                PersonalDataSQL.values(s.conversationIDs) + PersonalDataSQL.values(s.visitors) + PersonalDataSQL.values(s.userIDs)
                + PersonalDataSQL.values(s.emails) + PersonalDataSQL.values(s.ticketIDs))
    }

    package func link(_ subject: inout PrivacySubject, in db: Database) throws {
        let (clause, args) = matching(subject)
        for row in try Row.fetchAll(db, sql: "SELECT id, visitor_id, user_id, visitor_name, visitor_email, ticket_id FROM chat_conversations WHERE \(clause)",
                                    arguments: StatementArguments(args)) {
            subject.conversationIDs.insert(row["id"])
            subject.visitors.insert(row["visitor_id"])
            if let user: String = row["user_id"] { subject.userIDs.insert(user) }
            subject.add(email: row["visitor_email"])
            subject.add(name: row["visitor_name"])
            if let ticket: Int64 = row["ticket_id"] { subject.ticketIDs.insert(ticket) }
        }
    }

    package func export(_ subject: PrivacySubject, in db: Database) throws -> [String: [[String: JSONValue]]] {
        let (clause, args) = matching(subject)
        return [
            "chat_conversations": try PersonalDataSQL.rows(db, "SELECT * FROM chat_conversations WHERE \(clause) ORDER BY id", args),
            "chat_messages": try PersonalDataSQL.rows(db, "SELECT * FROM chat_messages WHERE conversation_id IN (SELECT id FROM chat_conversations WHERE \(clause)) ORDER BY id",
                                                     args, omitting: ["sender_key"]),
        ]
    }

    package func erase(_ subject: PrivacySubject, in db: Database, now: Date) throws -> [String: Int] {
        let (clause, args) = matching(subject)
        try db.execute(sql: "DELETE FROM chat_messages WHERE conversation_id IN (SELECT id FROM chat_conversations WHERE \(clause))", arguments: StatementArguments(args))
        let messages = db.changesCount
        try db.execute(sql: "DELETE FROM chat_conversations WHERE \(clause)", arguments: StatementArguments(args))
        return ["chat_conversations": db.changesCount, "chat_messages": messages]
    }

    package func sweep(before cutoff: Date, limit: Int, in db: Database, now: Date) throws -> Int {
        try db.execute(sql: """
            DELETE FROM chat_conversations WHERE id IN (SELECT id FROM chat_conversations WHERE status = 'closed' AND closed_at < ? ORDER BY id LIMIT ?)
            """, arguments: [Timestamps.iso8601Milliseconds(cutoff), limit])
        return db.changesCount
    }
}
