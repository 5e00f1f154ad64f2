import Foundation
import GRDB

/// `faq_votes`: one "was this helpful?" answer per visitor per entry, by the vote id their
/// browser sent (stored only as a keyed hash).
package struct FAQPersonalData: PersonalDataKind {
    let store: FAQStore
    package init(store: FAQStore) { self.store = store }
    package let name = "faq.votes"
    package let database = PrivacyDatabase.main
    package let tables = ["faq_votes"]
    package let purpose = "Count each visitor's \"was this helpful?\" answer once per entry (the vote id is stored only as a keyed hash)."
    package let erasure = ErasureRule.delete

    private func matching(_ s: PrivacySubject) -> (String, [any DatabaseValueConvertible]) {
        let keys = Set(s.visitors.map(store.visitorKey))
        return ("visitor IN \(PersonalDataSQL.placeholders(keys.count))", PersonalDataSQL.values(keys))
    }

    package func export(_ subject: PrivacySubject, in db: Database) throws -> [String: [[String: JSONValue]]] {
        let (clause, args) = matching(subject)
        return ["faq_votes": try PersonalDataSQL.rows(db, "SELECT entry_id, helpful, created_at FROM faq_votes WHERE \(clause) ORDER BY created_at", args)]
    }

    package func erase(_ subject: PrivacySubject, in db: Database, now: Date) throws -> [String: Int] {
        // The entry's helpful counts stay: they are counts, nobody's vote.
        let (clause, args) = matching(subject)
        try db.execute(sql: "DELETE FROM faq_votes WHERE \(clause)", arguments: StatementArguments(args))
        return ["faq_votes": db.changesCount]
    }
}
