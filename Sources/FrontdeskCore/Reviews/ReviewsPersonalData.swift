import Foundation
import GRDB

/// The reviews' personal data: the reviews a person wrote (by e-mail) and the helpful votes and
/// reports a visitor gave (by the vote id their browser sent, stored only as a keyed hash).
package enum ReviewsPersonalData {
    package static func kinds(store: ReviewStore) -> [any PersonalDataKind] { [Reviews(), Votes(store: store), Requests()] }

    /// `review_requests`: the "how did we do?" mail's link after a resolved ticket or chat.
    package struct Requests: PersonalDataKind {
        package init() {}
        package let name = "reviews.requests"
        package let database = PrivacyDatabase.main
        package let tables = ["review_requests"]
        package let purpose = "Ask a customer once, after their ticket or chat was resolved, for a review through a single-use link."
        package let erasure = ErasureRule.delete

        private func matching(_ s: PrivacySubject) -> (String, [any DatabaseValueConvertible]) {
            ("lower(email) IN \(PersonalDataSQL.placeholders(s.emails.count))", PersonalDataSQL.values(s.emails))
        }

        package func export(_ subject: PrivacySubject, in db: Database) throws -> [String: [[String: JSONValue]]] {
            let (clause, args) = matching(subject)
            return ["review_requests": try PersonalDataSQL.rows(db, "SELECT * FROM review_requests WHERE \(clause) ORDER BY id", args, omitting: ["token_hash"])]
        }

        package func erase(_ subject: PrivacySubject, in db: Database, now: Date) throws -> [String: Int] {
            let (clause, args) = matching(subject)
            try db.execute(sql: "DELETE FROM review_requests WHERE \(clause)", arguments: StatementArguments(args))
            return ["review_requests": db.changesCount]
        }
    }

    /// `reviews`: what a person wrote, with the name they gave.
    package struct Reviews: PersonalDataKind {
        package init() {}
        package let name = "reviews.reviews"
        package let database = PrivacyDatabase.main
        package let tables = ["reviews"]
        package let purpose = "Publish visitors' reviews after moderation, under the name they gave; the e-mail is never shown."
        package let erasure = ErasureRule.delete

        private func matching(_ s: PrivacySubject) -> (String, [any DatabaseValueConvertible]) {
            ("lower(email) IN \(PersonalDataSQL.placeholders(s.emails.count))", PersonalDataSQL.values(s.emails))
        }

        package func link(_ subject: inout PrivacySubject, in db: Database) throws {
            let (clause, args) = matching(subject)
            for name in try String.fetchAll(db, sql: "SELECT name FROM reviews WHERE \(clause)", arguments: StatementArguments(args)) { subject.add(name: name) }
        }

        package func export(_ subject: PrivacySubject, in db: Database) throws -> [String: [[String: JSONValue]]] {
            let (clause, args) = matching(subject)
            return ["reviews": try PersonalDataSQL.rows(db, "SELECT * FROM reviews WHERE \(clause) ORDER BY id", args, omitting: ["content_hash"])]
        }

        package func erase(_ subject: PrivacySubject, in db: Database, now: Date) throws -> [String: Int] {
            let (clause, args) = matching(subject)
            // Votes on the review go with it (anyone's: they were about this review).
            try db.execute(sql: "DELETE FROM review_votes WHERE review_id IN (SELECT id FROM reviews WHERE \(clause))", arguments: StatementArguments(args))
            let votes = db.changesCount
            try db.execute(sql: "DELETE FROM reviews WHERE \(clause)", arguments: StatementArguments(args))
            return ["reviews": db.changesCount, "review_votes": votes]
        }
    }

    /// `review_votes`: one helpful vote or report per visitor per review.
    package struct Votes: PersonalDataKind {
        let store: ReviewStore
        package init(store: ReviewStore) { self.store = store }
        package let name = "reviews.votes"
        package let database = PrivacyDatabase.main
        package let tables = ["review_votes"]
        package let purpose = "Count each visitor's helpful vote or report once (the vote id is stored only as a keyed hash)."
        package let erasure = ErasureRule.delete

        private func matching(_ s: PrivacySubject) -> (String, [any DatabaseValueConvertible]) {
            let keys = Set(s.visitors.map(store.visitorKey))
            return ("visitor IN \(PersonalDataSQL.placeholders(keys.count))", PersonalDataSQL.values(keys))
        }

        package func export(_ subject: PrivacySubject, in db: Database) throws -> [String: [[String: JSONValue]]] {
            let (clause, args) = matching(subject)
            return ["review_votes": try PersonalDataSQL.rows(db, "SELECT review_id, kind, created_at FROM review_votes WHERE \(clause) ORDER BY created_at", args)]
        }

        package func erase(_ subject: PrivacySubject, in db: Database, now: Date) throws -> [String: Int] {
            // The review's helpful and report counts stay: they are counts, nobody's vote.
            let (clause, args) = matching(subject)
            try db.execute(sql: "DELETE FROM review_votes WHERE \(clause)", arguments: StatementArguments(args))
            return ["review_votes": db.changesCount]
        }
    }
}
