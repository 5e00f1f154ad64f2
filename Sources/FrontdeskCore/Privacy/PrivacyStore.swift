import Crypto
import Foundation
import GRDB

/// What a privacy request names: one identifier of one kind.
package enum PrivacySubjectKey: Sendable, Equatable, Codable, CustomStringConvertible {
    case email(String)
    case userID(String)
    case visitor(String)
    case consent(String)
    case ticket(Int64)

    /// The kind's word: `email`, `user_id`, `visitor`, `consent`, `ticket`.
    package var kind: String {
        switch self {
        case .email: return "email"
        case .userID: return "user_id"
        case .visitor: return "visitor"
        case .consent: return "consent"
        case .ticket: return "ticket"
        }
    }

    package var value: String {
        switch self {
        case .email(let v): return v.lowercased()
        case .userID(let v), .visitor(let v), .consent(let v): return v
        case .ticket(let id): return String(id)
        }
    }

    package var description: String { "\(kind) \(value)" }

    /// Parses `kind` and `value` (the API's and the log's spelling); nil when either is not valid.
    package init?(kind: String, value: String) {
        let v = value.trimmingCharacters(in: .whitespaces)
        guard !v.isEmpty, v.count <= 320 else { return nil }
        switch kind {
        case "email":
            guard v.contains("@") else { return nil }
            self = .email(v.lowercased())
        case "user_id": self = .userID(v)
        case "visitor": self = .visitor(v)
        case "consent": self = .consent(v)
        case "ticket":
            guard let id = Int64(v), id > 0 else { return nil }
            self = .ticket(id)
        default: return nil
        }
    }

    /// The subject this key starts from, before links are followed.
    package var subject: PrivacySubject {
        switch self {
        case .email(let v): return PrivacySubject(emails: [v])
        case .userID(let v): return PrivacySubject(userIDs: [v])
        case .visitor(let v): return PrivacySubject(visitors: [v])
        case .consent(let v): return PrivacySubject(consentIDs: [v])
        case .ticket(let id): return PrivacySubject(ticketIDs: [id])
        }
    }
}

/// One erasure as `erasure_log` keeps it: no identifier, only a salted hash of the one the
/// request named (`sha256(salt ‖ kind:value)`), so the log proves an erasure of a given person
/// happened — whoever knows the address can check — without keeping who it was.
package struct ErasureLogEntry: Codable, Sendable, Equatable, FetchableRecord {
    package var id: Int64
    package var salt: String
    package var subjectHash: String
    package var actor: String
    package var counts: [String: Int]
    package var files: Int
    package var erasedAt: String

    package init(row: Row) throws {
        id = row["id"]
        salt = row["salt"]
        subjectHash = row["subject_hash"]
        actor = row["actor"]
        counts = (try? JSONDecoder().decode([String: Int].self, from: Data((row["counts"] as String).utf8))) ?? [:]
        files = row["files"]
        erasedAt = row["erased_at"]
    }

    /// Whether this entry is the erasure of `key`.
    package func matches(_ key: PrivacySubjectKey) -> Bool {
        PrivacyLog.hash(salt: salt, key: key) == subjectHash
    }
}

/// The privacy tables of `frontdesk.sqlite`: the erasure log and the request log.
package enum PrivacyLog {
    package static let migrations = [
        SchemaMigration("0060-privacy") { db in
            // erasure_log is append-only: the proof that an erasure was done, without the data.
            try db.execute(sql: """
                CREATE TABLE erasure_log (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    salt TEXT NOT NULL,
                    subject_hash TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    counts TEXT NOT NULL,
                    files INTEGER NOT NULL,
                    erased_at TEXT NOT NULL
                ) STRICT;
                CREATE TRIGGER erasure_log_no_update BEFORE UPDATE ON erasure_log
                BEGIN SELECT RAISE(ABORT, 'the erasure log is append-only'); END;
                CREATE TRIGGER erasure_log_no_delete BEFORE DELETE ON erasure_log
                BEGIN SELECT RAISE(ABORT, 'the erasure log is append-only'); END;
                CREATE TABLE privacy_requests (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL CHECK (kind IN ('access', 'erasure')),
                    origin TEXT NOT NULL CHECK (origin IN ('visitor', 'console')),
                    email TEXT,
                    subject_hash TEXT NOT NULL,
                    salt TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('unconfirmed', 'confirmed', 'approved', 'fulfilled', 'rejected', 'expired')),
                    confirm_token_hash TEXT,
                    download_token_hash TEXT,
                    download_expires_at TEXT,
                    downloaded_at TEXT,
                    erasure_id INTEGER REFERENCES erasure_log(id),
                    created_at TEXT NOT NULL,
                    confirmed_at TEXT,
                    due_at TEXT NOT NULL,
                    completed_at TEXT,
                    actor TEXT
                ) STRICT;
                CREATE INDEX privacy_requests_created ON privacy_requests(created_at);
                """)
        },
    ]

    /// `sha256(salt ‖ kind ‖ ":" ‖ value)` in hex.
    package static func hash(salt: String, key: PrivacySubjectKey) -> String {
        ContentDigest.sha256Hex(salt + key.kind + ":" + key.value)
    }

    /// A fresh random salt (16 bytes, hex).
    package static func freshSalt() -> String {
        var generator = SystemRandomNumberGenerator()
        return ContentDigest.hex((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// Appends an erasure to the log inside the erasure's transaction; the new entry's id.
    package static func appendErasure(_ db: Database, key: PrivacySubjectKey, actor: String, counts: [String: Int], files: Int, now: Date) throws -> Int64 {
        let salt = freshSalt()
        let json = String(decoding: try JSONEncoder.sorted.encode(counts), as: UTF8.self)
        try db.execute(sql: "INSERT INTO erasure_log (salt, subject_hash, actor, counts, files, erased_at) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [salt, hash(salt: salt, key: key), actor, json, files, Timestamps.iso8601Milliseconds(now)])
        return db.lastInsertedRowID
    }

    /// When each logged erasure happened, oldest first (none before the table exists).
    package static func erasureTimes(_ database: AppDatabase) async -> [String] {
        (try? await database.read { db in try String.fetchAll(db, sql: "SELECT erased_at FROM erasure_log ORDER BY id") }) ?? []
    }

    /// Every erasure, newest first.
    package static func erasures(_ db: Database) throws -> [ErasureLogEntry] {
        try ErasureLogEntry.fetchAll(db, sql: "SELECT * FROM erasure_log ORDER BY id DESC")
    }
}

/// `privacy_requests`: the access and erasure requests themselves. After an erasure the request
/// stays in the log (status, dates, the salted hash) without its address, as proof it was answered.
package struct PrivacyRequestsPersonalData: PersonalDataKind {
    package init() {}
    package let name = "privacy.requests"
    package let database = PrivacyDatabase.main
    package let tables = ["privacy_requests"]
    package let purpose = "Answer visitors' access and erasure requests within the legal deadline, and prove they were answered."
    package let erasure = ErasureRule.anonymise(reason: "the request's kind, status and dates stay in the request log as proof it was answered; the address is removed")

    private func matching(_ s: PrivacySubject) -> (String, [any DatabaseValueConvertible]) {
        ("lower(email) IN \(PersonalDataSQL.placeholders(s.emails.count))", PersonalDataSQL.values(s.emails))
    }

    package func export(_ subject: PrivacySubject, in db: Database) throws -> [String: [[String: JSONValue]]] {
        let (clause, args) = matching(subject)
        return ["privacy_requests": try PersonalDataSQL.rows(db, "SELECT id, kind, origin, email, status, created_at, confirmed_at, due_at, completed_at FROM privacy_requests WHERE \(clause) ORDER BY id", args)]
    }

    package func erase(_ subject: PrivacySubject, in db: Database, now: Date) throws -> [String: Int] {
        let (clause, args) = matching(subject)
        try db.execute(sql: "UPDATE privacy_requests SET email = NULL, confirm_token_hash = NULL, download_token_hash = NULL WHERE \(clause)",
                       arguments: StatementArguments(args))
        return ["privacy_requests": db.changesCount]
    }
}
