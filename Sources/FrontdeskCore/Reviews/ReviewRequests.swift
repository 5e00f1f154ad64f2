import Crypto
import Foundation
import GRDB

/// Review requests (the CSAT ask): once a ticket is resolved, or a chat whose visitor left an
/// e-mail address is closed, and the configured delay has passed, the customer is mailed a
/// single-use, expiring link to write a review. A review sent with the link's token is marked
/// verified — its author really was a customer. The token itself is never stored (the table
/// keeps its SHA-256), and each ticket or chat is asked at most once.
package struct ReviewRequests: Sendable {
    package enum Source: String, Sendable, CaseIterable {
        case ticket, chat
    }

    /// A ticket or chat waiting for its request.
    package struct Due: Sendable, Equatable {
        package let source: Source
        package let sourceID: Int64
        package let email: String
        package let name: String
        /// The ticket's subject; empty for a chat.
        package let about: String

        package init(source: Source, sourceID: Int64, email: String, name: String, about: String) {
            self.source = source; self.sourceID = sourceID; self.email = email; self.name = name; self.about = about
        }
    }

    let database: AppDatabase

    package init(database: AppDatabase) {
        self.database = database
    }

    package static let migration = SchemaMigration("0023-review-requests") { db in
        try db.execute(sql: """
            CREATE TABLE review_requests (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                source TEXT NOT NULL CHECK (source IN ('ticket', 'chat')),
                source_id INTEGER NOT NULL,
                email TEXT NOT NULL,
                name TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                used_at TEXT,
                review_id INTEGER REFERENCES reviews(id) ON DELETE SET NULL,
                UNIQUE (source, source_id)
            ) STRICT;
            """)
    }

    /// A new link token (URL-safe, 256 bits) and the hash the table keeps of it.
    package static func newToken() -> (token: String, hash: String) {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        let token = bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return (token, hash(token))
    }

    package static func hash(_ token: String) -> String {
        ContentDigest.hex(Data(SHA256.hash(data: Data(token.utf8))))
    }

    /// Tickets resolved (or closed) and chats closed from `since` (ISO 8601) until `before` — the delay
    /// after it — with an address, not asked yet; oldest first.
    package func due(_ sources: Set<Source>, since from: String, before: Date, limit: Int) async throws -> [Due] {
        let until = Timestamps.iso8601Milliseconds(before)
        return try await database.read { db in
            var found: [Due] = []
            if sources.contains(.ticket) {
                let rows = try Row.fetchAll(db, sql: """
                    SELECT t.id, t.email, t.name, t.subject FROM support_tickets t
                    WHERE t.status IN ('resolved', 'closed') AND t.resolved_at >= ? AND t.resolved_at < ? AND t.email != ''
                      AND NOT EXISTS (SELECT 1 FROM review_requests r WHERE r.source = 'ticket' AND r.source_id = t.id)
                    ORDER BY t.resolved_at LIMIT ?
                    """, arguments: [from, until, limit])
                found += rows.map { Due(source: .ticket, sourceID: $0[0], email: $0[1], name: $0[2], about: $0[3]) }
            }
            if sources.contains(.chat) {
                let rows = try Row.fetchAll(db, sql: """
                    SELECT c.id, c.visitor_email, COALESCE(c.visitor_name, '') FROM chat_conversations c
                    WHERE c.status = 'closed' AND c.closed_at >= ? AND c.closed_at < ? AND COALESCE(c.visitor_email, '') != ''
                      AND c.ticket_id IS NULL
                      AND NOT EXISTS (SELECT 1 FROM review_requests r WHERE r.source = 'chat' AND r.source_id = c.id)
                    ORDER BY c.closed_at LIMIT ?
                    """, arguments: [from, until, limit])
                found += rows.map { Due(source: .chat, sourceID: $0[0], email: $0[1], name: $0[2], about: "") }
            }
            return found
        }
    }

    /// Records the request and, in the same transaction, `enqueue`s its mail. False when the
    /// ticket or chat was asked already (another pass got there first).
    package func create(_ due: Due, tokenHash: String, now: Date, validFor: TimeInterval,
                        enqueue: @escaping @Sendable (Database, Int64) throws -> Void) async throws -> Bool {
        let stamp = Timestamps.iso8601Milliseconds(now), expires = Timestamps.iso8601Milliseconds(now.addingTimeInterval(validFor))
        return try await database.writer.write { db in
            try db.execute(sql: """
                INSERT INTO review_requests (source, source_id, email, name, token_hash, created_at, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, source_id) DO NOTHING
                """, arguments: [due.source.rawValue, due.sourceID, due.email, due.name, tokenHash, stamp, expires])
            guard db.changesCount == 1 else { return false }
            try enqueue(db, db.lastInsertedRowID)
            return true
        }
    }

    /// Inside a review's transaction: the request the token belongs to, marked used by
    /// `reviewID`. 422 naming `requestToken` when it is unknown, used or expired.
    package static func redeem(_ token: String, reviewID: Int64, now: Date, in db: Database) throws {
        let stamp = Timestamps.iso8601Milliseconds(now)
        guard let row = try Row.fetchOne(db, sql: "SELECT id, used_at, expires_at FROM review_requests WHERE token_hash = ?", arguments: [hash(token)]) else {
            throw FrontdeskError.validation(["requestToken": "is not a review link Frontdesk sent"])
        }
        if (row["used_at"] as String?) != nil {
            throw FrontdeskError.validation(["requestToken": "was used already: each review link writes one review"])
        }
        if (row["expires_at"] as String) <= stamp {
            throw FrontdeskError.validation(["requestToken": "has expired"])
        }
        try db.execute(sql: "UPDATE review_requests SET used_at = ?, review_id = ? WHERE id = ?", arguments: [stamp, reviewID, row["id"] as Int64])
    }
}
