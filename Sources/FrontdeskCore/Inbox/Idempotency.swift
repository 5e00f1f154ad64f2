import Foundation
import GRDB

/// `Idempotency-Key` on form POSTs: the first response is stored in the same transaction as what
/// the request created, and a retry with the same key gets that response back and stores
/// nothing. A key reused for a different body is refused (422), as the IETF draft
/// (draft-ietf-httpapi-idempotency-key-header) recommends.
///
/// Keys are per client: a record is found by HMAC(install secret, client address + key), so one
/// client's key never replays another client's response, and neither the address nor the key
/// is kept. What a stored response must not hold (a ticket's access token) the caller leaves
/// out and puts back on replay.
package struct IdempotencyStore: Sendable {
    let database: AppDatabase
    /// Derived from the install secret, used for nothing else.
    let secret: Data
    /// Keys are kept this long, then purged by the maintenance service.
    package static let retention: TimeInterval = 24 * 3600
    package static let maxKeyLength = 200

    package init(database: AppDatabase, secret: Data) {
        self.database = database
        self.secret = ContentDigest.hmacSHA256("frontdesk idempotency keys", key: secret)
    }

    package struct Claim: Sendable {
        package let scope: String
        /// HMAC of the client and its key: what the record is found by.
        package let key: String
        package let requestHash: String
    }

    package struct Stored: Sendable, Equatable {
        package let status: Int
        package let body: Data

        package init(status: Int, body: Data) {
            self.status = status
            self.body = body
        }
    }

    /// Checks a header value; nil when absent. `client` is who sent it (the client address).
    package func claim(scope: String, client: String, header: String?, body: Data) throws -> Claim? {
        guard let header else { return nil }
        let key = header.trimmingCharacters(in: .whitespaces)
        guard !key.isEmpty, key.count <= Self.maxKeyLength, key.unicodeScalars.allSatisfy({ $0.value >= 0x21 && $0.value <= 0x7E }) else {
            throw FrontdeskError(.badRequest, code: "invalid_idempotency_key",
                                 message: "Idempotency-Key must be 1 to \(Self.maxKeyLength) visible ASCII characters (a UUID is a good choice).")
        }
        // The key has only visible ASCII, so a space cannot be part of it: the pair is unambiguous.
        let scoped = ContentDigest.hex(ContentDigest.hmacSHA256("\(client) \(key)", key: secret))
        return Claim(scope: scope, key: scoped, requestHash: ContentDigest.sha256Hex(body))
    }

    /// The stored response for `claim`, if the request ran before.
    package func replay(_ claim: Claim) async throws -> Stored? {
        let found = try await database.read { db -> (hash: String, stored: Stored)? in
            guard let row = try Row.fetchOne(db, sql: "SELECT request_hash, status, body FROM idempotency_keys WHERE scope = ? AND key = ?",
                                             arguments: [claim.scope, claim.key]) else { return nil }
            return (row["request_hash"], Stored(status: row["status"], body: row["body"]))
        }
        guard let found else { return nil }
        guard found.hash == claim.requestHash else {
            throw FrontdeskError(.validation, code: "idempotency_key_reused",
                                 message: "This Idempotency-Key was already used for a different request; use a new key for new content.",
                                 details: ["Idempotency-Key": "was used with another body"])
        }
        return found.stored
    }

    /// Records the response inside the transaction that created its content.
    package func record(_ claim: Claim, status: Int, body: Data, now: Date, in db: Database) throws {
        try db.execute(sql: "INSERT INTO idempotency_keys(scope, key, request_hash, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [claim.scope, claim.key, claim.requestHash, status, body, Timestamps.iso8601Milliseconds(now)])
    }

    @discardableResult
    package func purge(now: Date) async throws -> Int {
        let cutoff = Timestamps.iso8601Milliseconds(now.addingTimeInterval(-Self.retention))
        return try await database.writer.write { db in
            try db.execute(sql: "DELETE FROM idempotency_keys WHERE created_at < ?", arguments: [cutoff])
            return db.changesCount
        }
    }
}
