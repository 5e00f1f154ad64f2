import Foundation
import GRDB

/// How long sent mail is kept (`[retention]`).
package enum MailRetention {
    package static let sentMail = Setting<Int>.integer(
        "retention.sent_mail_days", env: "FRONTDESK_RETENTION_SENT_MAIL_DAYS", default: 30, range: 0...3650,
        doc: "Days a sent mail's outbox row and its .eml file in the mail spool are kept, then deleted by the retention sweeper (0 keeps them until erased).")
}

/// `mail_outbox` and the `.eml` files of the mail spool: mail to the person, and mail about them
/// (the owner's notification of their contact message names them in its body and Reply-To).
package struct MailPersonalData: PersonalDataKind {
    /// `<data_dir>/mail`, where the file transport writes `<time>-<outbox id>.eml`.
    let spoolDirectory: String
    package init(spoolDirectory: String) { self.spoolDirectory = spoolDirectory }
    package let name = "mail.outbox"
    package let database = PrivacyDatabase.main
    package let tables = ["mail_outbox"]
    package let purpose = "Deliver the site's mail (confirmations, replies, notifications) through the configured SMTP relay, retry it, and show the owner what was sent."
    package let erasure = ErasureRule.delete
    package var retention: Setting<Int>? { MailRetention.sentMail }

    /// Mail to one of the subject's addresses, or whose text names an address or a name of
    /// theirs (the owner's notice of a review names the reviewer, not their address).
    private func matching(_ s: PrivacySubject) -> (String, [any DatabaseValueConvertible]) {
        let needles = (s.emails.sorted() + Self.names(s)).map { $0.lowercased() }
        guard !needles.isEmpty else { return ("0", []) }
        var parts = ["lower(to_address) IN \(PersonalDataSQL.placeholders(s.emails.count))"]
        var args = PersonalDataSQL.values(s.emails)
        for needle in needles {
            parts.append("instr(lower(text_body), ?) > 0 OR instr(lower(COALESCE(html_body, '')), ?) > 0 OR instr(lower(headers_json), ?) > 0 OR instr(lower(subject), ?) > 0")
            args += [needle, needle, needle, needle]
        }
        return ("(" + parts.joined(separator: " OR ") + ")", args)
    }

    /// The subject's names long enough to name them (a one- or two-letter name would match any mail).
    static func names(_ s: PrivacySubject) -> [String] {
        s.names.filter { $0.count >= 3 }.sorted()
    }

    package func export(_ subject: PrivacySubject, in db: Database) throws -> [String: [[String: JSONValue]]] {
        let (clause, args) = matching(subject)
        return ["mail_outbox": try PersonalDataSQL.rows(db, "SELECT * FROM mail_outbox WHERE \(clause) ORDER BY id", args, omitting: ["idempotency_key"])]
    }

    package func erase(_ subject: PrivacySubject, in db: Database, now: Date) throws -> [String: Int] {
        let (clause, args) = matching(subject)
        try db.execute(sql: "DELETE FROM mail_outbox WHERE \(clause)", arguments: StatementArguments(args))
        return ["mail_outbox": db.changesCount]
    }

    package func sweep(before cutoff: Date, limit: Int, in db: Database, now: Date) throws -> Int {
        try db.execute(sql: "DELETE FROM mail_outbox WHERE id IN (SELECT id FROM mail_outbox WHERE status = 'sent' AND sent_at < ? ORDER BY id LIMIT ?)",
                       arguments: [Timestamps.iso8601Milliseconds(cutoff), limit])
        return db.changesCount
    }

    /// The spool files of the subject's outbox rows (by id in the name) and any other spool file
    /// whose text names one of their addresses or names.
    package func files(_ subject: PrivacySubject, in db: Database) throws -> [String] {
        let needles = (subject.emails.sorted() + Self.names(subject)).map { $0.lowercased() }
        guard !needles.isEmpty else { return [] }
        let (clause, args) = matching(subject)
        let ids = Set(try Int64.fetchAll(db, sql: "SELECT id FROM mail_outbox WHERE \(clause)", arguments: StatementArguments(args)).map { "-\($0).eml" })
        let names = (try? FileManager.default.contentsOfDirectory(atPath: spoolDirectory)) ?? []
        var found: [String] = []
        for name in names.sorted() where name.hasSuffix(".eml") {
            let path = (spoolDirectory as NSString).appendingPathComponent(name)
            if ids.contains(where: { name.hasSuffix($0) }) {
                found.append(path)
                continue
            }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8).lowercased() else { continue }
            if needles.contains(where: { text.contains($0) }) { found.append(path) }
        }
        return found
    }

    /// Spool files written before `cutoff` (the sweeper's file half of `retention.sent_mail_days`):
    /// by the time in their name (`<yyyyMMddTHHmmss.SSSZ>-<id>.eml`, the transport's clock), else
    /// by their modification time.
    package func spoolFiles(before cutoff: Date, limit: Int) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: spoolDirectory)) ?? []
        var found: [String] = []
        for name in names.sorted() where name.hasSuffix(".eml") {
            let path = (spoolDirectory as NSString).appendingPathComponent(name)
            let written = Self.spoolTime(name) ?? ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date)
            if let written, written < cutoff {
                found.append(path)
                if found.count >= limit { break }
            }
        }
        return found
    }

    /// The time in a spool file's name, or nil.
    static func spoolTime(_ name: String) -> Date? {
        guard let stamp = name.split(separator: "-").first, stamp.count >= 15 else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = stamp.contains(".") ? "yyyyMMdd'T'HHmmss.SSS'Z'" : "yyyyMMdd'T'HHmmss'Z'"
        return formatter.date(from: String(stamp))
    }
}
