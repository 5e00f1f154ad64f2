import Foundation
import GRDB

/// `users`: a console account (agent or admin) of the person. Erasure deletes the account and
/// removes its name from the threads it answered (the messages stay for the customers, signed
/// by no one); the last enabled admin cannot be erased.
package struct AccountsPersonalData: PersonalDataKind {
    package init() {}
    package let name = "accounts.users"
    package let database = PrivacyDatabase.main
    package let tables = ["users", "api_tokens", "chat_messages", "ticket_messages", "chat_conversations"]
    package let purpose = "Sign agents and admins in to the console (e-mail, name, role, password hash) and show who answered a chat or ticket."
    package let erasure = ErasureRule.delete

    private func matching(_ s: PrivacySubject) -> (String, [any DatabaseValueConvertible]) {
        ("(lower(email) IN \(PersonalDataSQL.placeholders(s.emails.count)) OR id IN \(PersonalDataSQL.placeholders(s.accountIDs.count)))",
         PersonalDataSQL.values(s.emails) + PersonalDataSQL.values(s.accountIDs))
    }

    package func link(_ subject: inout PrivacySubject, in db: Database) throws {
        let (clause, args) = matching(subject)
        for row in try Row.fetchAll(db, sql: "SELECT id, email, name FROM users WHERE \(clause)", arguments: StatementArguments(args)) {
            subject.accountIDs.insert(row["id"])
            subject.add(email: row["email"])
            subject.add(name: row["name"])
        }
    }

    package func export(_ subject: PrivacySubject, in db: Database) throws -> [String: [[String: JSONValue]]] {
        let (clause, args) = matching(subject)
        return ["users": try PersonalDataSQL.rows(db, "SELECT * FROM users WHERE \(clause) ORDER BY id", args, omitting: ["password_hash", "session_epoch"]),
                // The account's API tokens, with where they were last used (never the secret's hash).
                "api_tokens": try PersonalDataSQL.rows(db, "SELECT * FROM api_tokens WHERE user_id IN (SELECT id FROM users WHERE \(clause)) ORDER BY id", args,
                                                       omitting: ["secret_hash"])]
    }

    package func erase(_ subject: PrivacySubject, in db: Database, now: Date) throws -> [String: Int] {
        let (clause, args) = matching(subject)
        let ids = try Int64.fetchAll(db, sql: "SELECT id FROM users WHERE \(clause)", arguments: StatementArguments(args))
        guard !ids.isEmpty else { return ["users": 0] }
        let remainingAdmins = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0 AND id NOT IN \(PersonalDataSQL.placeholders(ids.count))",
                                               arguments: StatementArguments(ids)) ?? 0
        if remainingAdmins == 0, try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE role = 'admin' AND disabled = 0") == true {
            throw FrontdeskError(.conflict, code: "last_admin", message: "This is the last enabled admin account; add another admin before erasing it.")
        }
        let list = PersonalDataSQL.placeholders(ids.count)
        let arguments = StatementArguments(ids)
        try db.execute(sql: "UPDATE chat_messages SET sender_name = NULL WHERE agent_id IN \(list)", arguments: arguments)
        let chat = db.changesCount
        try db.execute(sql: "UPDATE ticket_messages SET author_name = NULL WHERE author_user_id IN \(list)", arguments: arguments)
        let tickets = db.changesCount
        try db.execute(sql: "UPDATE chat_conversations SET assignee_name = NULL WHERE assignee_id IN \(list)", arguments: arguments)
        let conversations = db.changesCount
        try db.execute(sql: "DELETE FROM api_tokens WHERE user_id IN \(list)", arguments: arguments)
        let tokens = db.changesCount
        try db.execute(sql: "DELETE FROM users WHERE id IN \(list)", arguments: arguments)
        return ["users": db.changesCount, "api_tokens": tokens, "chat_messages (agent name removed)": chat, "ticket_messages (agent name removed)": tickets,
                "chat_conversations (assignee name removed)": conversations]
    }
}
