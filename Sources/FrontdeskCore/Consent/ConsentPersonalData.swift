import Foundation
import GRDB

/// `consent_records`: the append-only log of a visitor's banner choices, by consent id. The
/// triggers allow a DELETE only while the maintenance flag is set; the erasure sets and clears
/// it inside its own transaction and writes a `consent_removals` row (without the consent id).
package struct ConsentPersonalData: PersonalDataKind {
    package init() {}
    package let name = "consent.records"
    package let database = PrivacyDatabase.main
    package let tables = ["consent_records"]
    package let purpose = "Prove the consent each visitor gave or refused in the banner (choices, text version, time, truncated network, browser family)."
    package let erasure = ErasureRule.delete
    package var retention: Setting<Int>? { ConsentSettings.logRetentionDays }

    private func matching(_ s: PrivacySubject) -> (String, [any DatabaseValueConvertible]) {
        ("consent_id IN \(PersonalDataSQL.placeholders(s.consentIDs.count))", PersonalDataSQL.values(s.consentIDs))
    }

    package func export(_ subject: PrivacySubject, in db: Database) throws -> [String: [[String: JSONValue]]] {
        let (clause, args) = matching(subject)
        return ["consent_records": try PersonalDataSQL.rows(db, "SELECT * FROM consent_records WHERE \(clause) ORDER BY id", args)]
    }

    package func erase(_ subject: PrivacySubject, in db: Database, now: Date) throws -> [String: Int] {
        let (clause, args) = matching(subject)
        let rows = try remove(db, reason: "erasure", clause, args, now: now)
        return ["consent_records": rows]
    }

    package func sweep(before cutoff: Date, limit: Int, in db: Database, now: Date) throws -> Int {
        try remove(db, reason: "retention", "id IN (SELECT id FROM consent_records WHERE created_at < ? ORDER BY id LIMIT ?)",
                   [Timestamps.iso8601Milliseconds(cutoff), limit], now: now)
    }

    private func remove(_ db: Database, reason: String, _ clause: String, _ args: [any DatabaseValueConvertible], now: Date) throws -> Int {
        try db.execute(sql: "UPDATE consent_maintenance SET deletions_allowed = 1 WHERE id = 1")
        try db.execute(sql: "DELETE FROM consent_records WHERE \(clause)", arguments: StatementArguments(args))
        let rows = db.changesCount
        try db.execute(sql: "UPDATE consent_maintenance SET deletions_allowed = 0 WHERE id = 1")
        if rows > 0 {
            try db.execute(sql: "INSERT INTO consent_removals (reason, consent_id, rows, removed_at) VALUES (?, NULL, ?, ?)",
                           arguments: [reason, rows, Timestamps.iso8601Milliseconds(now)])
        }
        return rows
    }
}
