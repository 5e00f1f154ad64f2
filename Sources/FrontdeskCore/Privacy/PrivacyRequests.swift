import Foundation
import GRDB

/// One access or erasure request as the console's request log shows it.
package struct PrivacyRequest: Codable, Sendable, Equatable, FetchableRecord {
    package var id: Int64
    package var kind: String
    package var origin: String
    /// Emptied when the subject is erased.
    package var email: String?
    package var status: String
    package var createdAt: String
    package var confirmedAt: String?
    /// 30 days after the request (Art. 12(3)).
    package var dueAt: String
    package var completedAt: String?
    package var downloadExpiresAt: String?
    package var downloadedAt: String?
    package var erasureID: Int64?
    package var actor: String?

    package init(row: Row) {
        id = row["id"]
        kind = row["kind"]
        origin = row["origin"]
        email = row["email"]
        status = row["status"]
        createdAt = row["created_at"]
        confirmedAt = row["confirmed_at"]
        dueAt = row["due_at"]
        completedAt = row["completed_at"]
        downloadExpiresAt = row["download_expires_at"]
        downloadedAt = row["downloaded_at"]
        erasureID = row["erasure_id"]
        actor = row["actor"]
    }
}

/// The request log (`privacy_requests`): visitors' requests confirmed through a mailed link, the
/// console's own, and the single-use download links that answer an access request. Tokens are
/// stored only as SHA-256 hashes.
package struct PrivacyRequestStore: Sendable {
    let database: AppDatabase
    package init(database: AppDatabase) { self.database = database }

    /// Days within which a request must be answered (Art. 12(3)).
    package static let dueDays = 30
    /// Hours a confirmation link works.
    package static let confirmHours = 24

    static func hash(_ token: String) -> String { ContentDigest.sha256Hex("privacy-token:" + token) }

    /// Records a new request; a visitor's waits for `token` (mailed by `prepare`, in the same
    /// transaction) to be confirmed and does nothing until then. Returns the request's id.
    package func create(kind: String, email: String, origin: String, actor: String?, token: String = Secrets.urlSafeToken(), now: Date,
                        prepare: @escaping @Sendable (Database, Int64) throws -> Void = { _, _ in }) async throws -> Int64 {
        let stamp = Timestamps.iso8601Milliseconds(now)
        let due = Timestamps.iso8601Milliseconds(now.addingTimeInterval(Double(Self.dueDays) * 86_400))
        let salt = PrivacyLog.freshSalt()
        let status = origin == "visitor" ? "unconfirmed" : "confirmed"
        let id = try await database.writer.write { db -> Int64 in
            try db.execute(sql: """
                INSERT INTO privacy_requests (kind, origin, email, subject_hash, salt, status, confirm_token_hash, created_at, confirmed_at, due_at, actor)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [kind, origin, email.lowercased(), PrivacyLog.hash(salt: salt, key: .email(email)), salt, status,
                                 origin == "visitor" ? Self.hash(token) : nil, stamp, origin == "visitor" ? nil : stamp, due, actor])
            let id = db.lastInsertedRowID
            try prepare(db, id)
            return id
        }
        return id
    }

    /// Confirms the request of `token` (within `confirmHours`); nil for an unknown, used or expired one.
    package func confirm(token: String, now: Date) async throws -> PrivacyRequest? {
        let stamp = Timestamps.iso8601Milliseconds(now)
        let oldest = Timestamps.iso8601Milliseconds(now.addingTimeInterval(-Double(Self.confirmHours) * 3600))
        return try await database.writer.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM privacy_requests WHERE confirm_token_hash = ?", arguments: [Self.hash(token)]) else { return nil }
            let request = PrivacyRequest(row: row)
            if request.status != "unconfirmed" { return request }
            guard request.createdAt >= oldest else {
                try db.execute(sql: "UPDATE privacy_requests SET status = 'expired', confirm_token_hash = NULL, email = NULL WHERE id = ?", arguments: [request.id])
                return nil
            }
            try db.execute(sql: "UPDATE privacy_requests SET status = 'confirmed', confirmed_at = ? WHERE id = ?", arguments: [stamp, request.id])
            return try Row.fetchOne(db, sql: "SELECT * FROM privacy_requests WHERE id = ?", arguments: [request.id]).map(PrivacyRequest.init)
        }
    }

    /// The request log, newest first.
    package func list(limit: Int = 200) async throws -> [PrivacyRequest] {
        try await database.read { db in try PrivacyRequest.fetchAll(db, sql: "SELECT * FROM privacy_requests ORDER BY id DESC LIMIT ?", arguments: [limit]) }
    }

    package func find(id: Int64) async throws -> PrivacyRequest? {
        try await database.read { db in try PrivacyRequest.fetchOne(db, sql: "SELECT * FROM privacy_requests WHERE id = ?", arguments: [id]) }
    }

    /// Approves a confirmed access request: a fresh single-use download token valid for `hours`;
    /// `prepare` (the mail with the link) runs in the same transaction. Nil when the request is not
    /// a confirmed access request.
    package func approveAccess(id: Int64, token: String, hours: Int, actor: String, now: Date,
                               prepare: @escaping @Sendable (Database, PrivacyRequest) throws -> Void) async throws -> PrivacyRequest? {
        let expires = Timestamps.iso8601Milliseconds(now.addingTimeInterval(Double(hours) * 3600))
        return try await database.writer.write { db in
            guard let request = try PrivacyRequest.fetchOne(db, sql: "SELECT * FROM privacy_requests WHERE id = ?", arguments: [id]),
                  request.kind == "access", request.status == "confirmed" || request.status == "approved" else { return nil }
            try db.execute(sql: """
                UPDATE privacy_requests SET status = 'approved', download_token_hash = ?, download_expires_at = ?, actor = ? WHERE id = ?
                """, arguments: [Self.hash(token), expires, actor, id])
            let updated = try PrivacyRequest.fetchOne(db, sql: "SELECT * FROM privacy_requests WHERE id = ?", arguments: [id])!
            try prepare(db, updated)
            return updated
        }
    }

    /// Spends a download token: the request, once, before it expires; nil otherwise.
    package func redeemDownload(token: String, now: Date) async throws -> PrivacyRequest? {
        let stamp = Timestamps.iso8601Milliseconds(now)
        return try await database.writer.write { db in
            guard let request = try PrivacyRequest.fetchOne(db, sql: "SELECT * FROM privacy_requests WHERE download_token_hash = ?", arguments: [Self.hash(token)]),
                  request.downloadedAt == nil, let expires = request.downloadExpiresAt, expires > stamp else { return nil }
            try db.execute(sql: """
                UPDATE privacy_requests SET status = 'fulfilled', download_token_hash = NULL, downloaded_at = ?, completed_at = ? WHERE id = ?
                """, arguments: [stamp, stamp, request.id])
            return request
        }
    }

    /// Marks a confirmed erasure request done with the erasure that answered it.
    package func markErased(id: Int64, erasureID: Int64, actor: String, now: Date) async throws {
        try await database.writer.write { db in
            try db.execute(sql: """
                UPDATE privacy_requests SET status = 'fulfilled', completed_at = ?, erasure_id = ?, actor = ?, email = NULL, confirm_token_hash = NULL WHERE id = ?
                """, arguments: [Timestamps.iso8601Milliseconds(now), erasureID, actor, id])
        }
    }

    /// Rejects a request (not confirmed, or not answerable); the address is removed.
    package func reject(id: Int64, actor: String, now: Date) async throws -> Bool {
        try await database.writer.write { db in
            try db.execute(sql: """
                UPDATE privacy_requests SET status = 'rejected', completed_at = ?, actor = ?, email = NULL, confirm_token_hash = NULL, download_token_hash = NULL
                WHERE id = ? AND status IN ('unconfirmed', 'confirmed', 'approved')
                """, arguments: [Timestamps.iso8601Milliseconds(now), actor, id])
            return db.changesCount > 0
        }
    }
}
