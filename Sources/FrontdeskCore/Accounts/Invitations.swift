import Foundation
import GRDB

/// An admin's invitation of an e-mail address to the console with a role (table `invitations`).
/// The link's token is stored only as its SHA-256; the link works once and until `expiresAt`.
package struct Invitation: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "invitations"

    package var id: Int64?
    package var email: String
    package var role: Role
    package var tokenHash: String
    package var invitedBy: Int64?
    package var createdAt: String
    package var expiresAt: String
    package var acceptedAt: String?
    package var revokedAt: String?
    /// The account the invitation became.
    package var userId: Int64?

    enum CodingKeys: String, CodingKey {
        case id, email, role
        case tokenHash = "token_hash"
        case invitedBy = "invited_by"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case acceptedAt = "accepted_at"
        case revokedAt = "revoked_at"
        case userId = "user_id"
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    /// `pending`, `accepted`, `revoked` or `expired` at `now`.
    package func status(at now: Date) -> String {
        if acceptedAt != nil { return "accepted" }
        if revokedAt != nil { return "revoked" }
        // Both are UTC RFC 3339 with milliseconds, so they order as strings.
        if expiresAt <= Timestamps.iso8601Milliseconds(now) { return "expired" }
        return "pending"
    }
}

/// Why an invitation link does not open the form.
package enum InvitationRefusal: Error, Equatable, Sendable {
    case unknown, used, expired, revoked
}

/// Invitations: creating one (its mail enqueued in the same transaction), listing, revoking and
/// redeeming the link into an account. The only place with their SQL.
package struct InvitationStore: Sendable {
    package let database: AppDatabase
    let hasher: PasswordHasher

    /// Hashes passwords the way the accounts do.
    package init(accounts: AccountStore) {
        self.database = accounts.database
        self.hasher = accounts.hasher
    }

    package static let migrations = [
        SchemaMigration("0043-invitations") { db in
            try db.execute(sql: """
                CREATE TABLE invitations (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    email TEXT NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('admin', 'agent')),
                    token_hash TEXT NOT NULL UNIQUE,
                    invited_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
                    created_at TEXT NOT NULL,
                    expires_at TEXT NOT NULL,
                    accepted_at TEXT,
                    revoked_at TEXT,
                    user_id INTEGER REFERENCES users(id) ON DELETE SET NULL
                ) STRICT;
                CREATE INDEX invitations_email ON invitations(email);
                """)
        },
    ]

    package static func hash(_ token: String) -> String { ContentDigest.sha256Hex(token) }

    /// Invites `email`: 409 `email_taken` when it has an account; an earlier pending invitation
    /// of the address is revoked, so only the newest link works. `enqueue` writes the mail.
    package func create(email: String, role: Role, invitedBy: Int64, token: String, validFor hours: Int, now: Date,
                        enqueue: @escaping @Sendable (Database, Invitation) throws -> Void) async throws -> Invitation {
        let stamp = Timestamps.iso8601Milliseconds(now)
        let expiry = Timestamps.iso8601Milliseconds(now.addingTimeInterval(TimeInterval(hours) * 3600))
        let hash = Self.hash(token)
        return try await database.writer.write { db in
            if try Int.fetchOne(db, sql: "SELECT 1 FROM users WHERE email = ? COLLATE NOCASE", arguments: [email]) != nil {
                throw FrontdeskError(.conflict, code: "email_taken", message: "An account with this email address already exists.",
                                     details: ["email": "is already in use"])
            }
            try db.execute(sql: "UPDATE invitations SET revoked_at = ? WHERE email = ? COLLATE NOCASE AND accepted_at IS NULL AND revoked_at IS NULL",
                           arguments: [stamp, email])
            var invitation = Invitation(id: nil, email: email, role: role, tokenHash: hash, invitedBy: invitedBy, createdAt: stamp,
                                        expiresAt: expiry, acceptedAt: nil, revokedAt: nil, userId: nil)
            try invitation.insert(db)
            try enqueue(db, invitation)
            return invitation
        }
    }

    /// Invitations newest first.
    package func list(limit: Int = 100) async throws -> [Invitation] {
        try await database.read { db in try Invitation.order(sql: "id DESC").limit(limit).fetchAll(db) }
    }

    /// Revokes a pending invitation; 404 when there is none, 409 when it was accepted.
    package func revoke(id: Int64, now: Date) async throws -> Invitation {
        try await database.writer.write { db in
            guard var invitation = try Invitation.fetchOne(db, key: id) else { throw FrontdeskError.notFound("The invitation") }
            if invitation.acceptedAt != nil {
                throw FrontdeskError(.conflict, code: "invitation_accepted", message: "This invitation was accepted already; disable the user instead.")
            }
            if invitation.revokedAt == nil {
                invitation.revokedAt = Timestamps.iso8601Milliseconds(now)
                try invitation.update(db)
            }
            return invitation
        }
    }

    /// The pending invitation of a link's token, or why there is none.
    package func pending(token: String, now: Date) async throws -> Result<Invitation, InvitationRefusal> {
        let hash = Self.hash(token)
        let found = try await database.read { db in try Invitation.filter(sql: "token_hash = ?", arguments: [hash]).fetchOne(db) }
        return Self.check(found, now: now)
    }

    static func check(_ invitation: Invitation?, now: Date) -> Result<Invitation, InvitationRefusal> {
        guard let invitation else { return .failure(.unknown) }
        switch invitation.status(at: now) {
        case "accepted": return .failure(.used)
        case "revoked": return .failure(.revoked)
        case "expired": return .failure(.expired)
        default: return .success(invitation)
        }
    }

    /// Spends the link: the account is created with the person's own name and password and the
    /// invitation marked accepted, in one transaction (a second use finds it accepted).
    package func accept(token: String, name: String, password: String, now: Date) async throws -> Result<User, InvitationRefusal> {
        if let problem = AccountStore.NewUser.passwordProblems(password)["password"] { throw FrontdeskError.validation(["password": problem]) }
        let passwordHash = try await hasher.hash(password)
        let stamp = Timestamps.iso8601Milliseconds(now)
        let hash = Self.hash(token)
        do {
            return try await database.writer.write { db in
                let found = try Invitation.filter(sql: "token_hash = ?", arguments: [hash]).fetchOne(db)
                switch Self.check(found, now: now) {
                case .failure(let refusal): return .failure(refusal)
                case .success(var invitation):
                    var user = User(id: nil, email: invitation.email, name: name, role: invitation.role, passwordHash: passwordHash, disabled: false,
                                    sessionEpoch: 0, createdAt: stamp, updatedAt: stamp)
                    try user.insert(db)
                    invitation.acceptedAt = stamp
                    invitation.userId = user.id
                    try invitation.update(db)
                    return .success(user)
                }
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw FrontdeskError(.conflict, code: "email_taken", message: "An account with this email address exists already; sign in instead.")
        }
    }
}

/// `invitations`: the e-mail address an admin invited (and the role). Exported with the person's
/// data and deleted on erasure; the token is only a hash and is never exported.
package struct InvitationsPersonalData: PersonalDataKind {
    package init() {}
    package let name = "accounts.invitations"
    package let database = PrivacyDatabase.main
    package let tables = ["invitations"]
    package let purpose = "Invite a person to the console by mail (e-mail address, role, when it was sent and accepted)."
    package let erasure = ErasureRule.delete

    package func export(_ subject: PrivacySubject, in db: Database) throws -> [String: [[String: JSONValue]]] {
        guard !subject.emails.isEmpty else { return ["invitations": []] }
        return ["invitations": try PersonalDataSQL.rows(db, "SELECT * FROM invitations WHERE lower(email) IN \(PersonalDataSQL.placeholders(subject.emails.count)) ORDER BY id",
                                                       PersonalDataSQL.values(subject.emails), omitting: ["token_hash"])]
    }

    package func erase(_ subject: PrivacySubject, in db: Database, now: Date) throws -> [String: Int] {
        guard !subject.emails.isEmpty else { return ["invitations": 0] }
        try db.execute(sql: "DELETE FROM invitations WHERE lower(email) IN \(PersonalDataSQL.placeholders(subject.emails.count))",
                       arguments: StatementArguments(PersonalDataSQL.values(subject.emails)))
        return ["invitations": db.changesCount]
    }
}
