import Foundation
import GRDB

/// What an API token may touch: one feature's reads or writes (`tickets:read`, `tickets:write`).
/// A `write` scope does not imply `read`; a token asks for both when it needs both.
package enum TokenScopes {
    /// The features a token can be scoped to, each with `:read` and `:write`.
    package static let features = ["agents", "analytics", "chat", "consent", "contacts", "engage", "faq", "mail", "newsletter", "privacy", "reviews", "tickets",
                                     "users", "settings"]
    /// Scopes only an admin may put on a token: account management, site settings, and the
    /// privacy tools (every person's data, and erasure).
    package static let adminOnlyFeatures: Set<String> = ["users", "settings", "privacy"]
    /// Every scope a token can carry, sorted.
    package static let all: [String] = features.flatMap { ["\($0):read", "\($0):write"] }.sorted()

    /// Whether a user of `role` may create a token carrying `scope`.
    package static func allowed(_ scope: String, for role: Role) -> Bool {
        guard all.contains(scope) else { return false }
        let feature = String(scope.split(separator: ":").first ?? "")
        return role == .admin || !adminOnlyFeatures.contains(feature)
    }
}

/// Personal tokens act for their owner; service tokens (admins only) are meant for a machine
/// and say so in the list, but equally act as the admin who made them, so every change they
/// make is attributed to a person.
package enum TokenKind: String, Codable, Sendable, CaseIterable {
    case personal
    case service
}

/// One API token (table `api_tokens`). Only the SHA-256 of the secret is kept: the secret has
/// 256 bits of entropy, so a slow password hash would add nothing but latency on every request.
package struct APIToken: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "api_tokens"

    package var id: Int64?
    package var userId: Int64
    package var name: String
    package var kind: TokenKind
    /// The first characters of the secret (`fd_3kQ9xT2a`), shown in lists so a person can tell tokens apart.
    package var prefix: String
    package var secretHash: String
    /// Space-separated scopes.
    package var scopes: String
    package var createdAt: String
    package var expiresAt: String?
    package var revokedAt: String?
    package var lastUsedAt: String?
    /// The network the token was last used from (`203.0.113.0`), never the whole address.
    package var lastUsedNetwork: String?

    package var scopeList: [String] { scopes.split(separator: " ").map(String.init) }

    package func has(_ scope: String) -> Bool { scopeList.contains(scope) }

    enum CodingKeys: String, CodingKey {
        case id, name, kind, prefix, scopes
        case userId = "user_id"
        case secretHash = "secret_hash"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case revokedAt = "revoked_at"
        case lastUsedAt = "last_used_at"
        case lastUsedNetwork = "last_used_network"
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// A token as the API and the CLI show it: never the secret or its hash.
package struct PublicToken: Codable, Sendable, Equatable {
    package let id: Int64
    package let userId: Int64
    package let name: String
    package let kind: TokenKind
    package let prefix: String
    package let scopes: [String]
    package let createdAt: String
    package let expiresAt: String?
    package let revokedAt: String?
    package let lastUsedAt: String?
    package let lastUsedNetwork: String?

    package init(_ token: APIToken) {
        id = token.id ?? 0
        userId = token.userId
        name = token.name
        kind = token.kind
        prefix = token.prefix
        scopes = token.scopeList
        createdAt = token.createdAt
        expiresAt = token.expiresAt
        revokedAt = token.revokedAt
        lastUsedAt = token.lastUsedAt
        lastUsedNetwork = token.lastUsedNetwork
    }
}

/// Why a presented token does not authenticate.
package enum TokenRefusal: Error, Equatable, Sendable {
    case unknown
    case expired
    case revoked

    /// The 401 the API answers with.
    package var error: FrontdeskError {
        switch self {
        case .unknown: return FrontdeskError(.unauthorized, code: "invalid_token", message: "This API token is not valid.")
        case .expired: return FrontdeskError(.unauthorized, code: "token_expired", message: "This API token has expired. Create a new one in the console.")
        case .revoked: return FrontdeskError(.unauthorized, code: "token_revoked", message: "This API token was revoked.")
        }
    }
}

/// API tokens: creation (the secret is returned once), lookup by secret, use stamps and
/// revocation. The only place with their SQL.
package struct APITokenStore: Sendable {
    let database: AppDatabase
    let now: @Sendable () -> Date

    package init(database: AppDatabase, now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.now = now
    }

    package static let migrations = [
        SchemaMigration("0040-api-tokens") { db in
            try db.execute(sql: """
                CREATE TABLE api_tokens (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('personal', 'service')),
                    prefix TEXT NOT NULL,
                    secret_hash TEXT NOT NULL UNIQUE,
                    scopes TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    expires_at TEXT,
                    revoked_at TEXT,
                    last_used_at TEXT,
                    last_used_network TEXT
                ) STRICT;
                CREATE INDEX api_tokens_user ON api_tokens(user_id, created_at);
                """)
        },
    ]

    /// Every secret starts with this, so a leaked one is recognisable (secret scanners, logs).
    package static let secretPrefix = "fd_"
    /// Characters of the secret kept in clear as its display prefix.
    static let displayPrefixLength = 11
    /// Longest lifetime a token may be given, in days.
    package static let maxLifetimeDays = 3650

    /// A validated request for a new token.
    package struct NewToken: Sendable {
        package var name: String
        package var kind: TokenKind
        package var scopes: [String]
        /// Days until it expires; nil for a token that does not expire.
        package var expiresInDays: Int?

        package static let fieldNames: Set<String> = ["name", "kind", "scopes", "expiresInDays"]

        package init(name: String, kind: TokenKind = .personal, scopes: [String], expiresInDays: Int?, role: Role) throws {
            var problems: [String: String] = [:]
            let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { problems["name"] = "must not be empty" } else if trimmed.unicodeScalars.count > 100 { problems["name"] = "must be at most 100 characters" }
            Self.check(scopes: scopes, kind: kind, days: expiresInDays, role: role, into: &problems)
            if !problems.isEmpty { throw FrontdeskError.validation(problems) }
            try Self.checkRole(scopes: scopes, kind: kind, role: role)
            self.name = trimmed
            self.kind = kind
            self.scopes = Array(Set(scopes)).sorted()
            self.expiresInDays = expiresInDays
        }

        /// Validates a JSON body, naming every bad field; 403 when the scopes or kind need an admin.
        package init(json: [String: JSONValue], role: Role) throws {
            var reader = FieldReader(json, allowed: Self.fieldNames)
            let name = reader.text("name", required: true, maxLength: 100)
            var kind = TokenKind.personal
            switch json["kind"] {
            case nil: break
            case .string(let raw)?:
                if let parsed = TokenKind(rawValue: raw) { kind = parsed } else { reader.fail("kind", "must be \"personal\" or \"service\"") }
            case let other?: reader.fail("kind", "must be \"personal\" or \"service\", not \(other.typeName)")
            }
            var scopes: [String] = []
            switch json["scopes"] {
            case nil, .null?: reader.fail("scopes", "is required")
            case .array(let items)?:
                for item in items {
                    guard case .string(let scope) = item else { reader.fail("scopes", "must be an array of strings"); break }
                    scopes.append(scope)
                }
            case let other?: reader.fail("scopes", "must be an array of strings, not \(other.typeName)")
            }
            var days: Int?
            switch json["expiresInDays"] {
            case nil, .null?: break
            case .number(let n)?:
                if n.rounded() == n, n >= 1, n <= Double(APITokenStore.maxLifetimeDays) { days = Int(n) } else {
                    reader.fail("expiresInDays", "must be a whole number from 1 to \(APITokenStore.maxLifetimeDays)")
                }
            case let other?: reader.fail("expiresInDays", "must be a whole number, not \(other.typeName)")
            }
            var problems = reader.problems
            if problems["scopes"] == nil { Self.check(scopes: scopes, kind: kind, days: days, role: role, into: &problems) }
            if !problems.isEmpty { throw FrontdeskError.validation(problems) }
            try Self.checkRole(scopes: scopes, kind: kind, role: role)
            self.name = name ?? ""
            self.kind = kind
            self.scopes = Array(Set(scopes)).sorted()
            self.expiresInDays = days
        }

        static func check(scopes: [String], kind: TokenKind, days: Int?, role: Role, into problems: inout [String: String]) {
            if scopes.isEmpty { problems["scopes"] = "must name at least one scope" }
            if scopes.count > TokenScopes.all.count { problems["scopes"] = "must have at most \(TokenScopes.all.count) entries" }
            if let unknown = scopes.first(where: { !TokenScopes.all.contains($0) }) {
                problems["scopes"] = "has the unknown scope \"\(unknown.prefix(40))\"; known scopes are \(TokenScopes.all.joined(separator: ", "))"
            }
            if let days, !(1...APITokenStore.maxLifetimeDays).contains(days) {
                problems["expiresInDays"] = "must be a whole number from 1 to \(APITokenStore.maxLifetimeDays)"
            }
        }

        static func checkRole(scopes: [String], kind: TokenKind, role: Role) throws {
            if kind == .service && role != .admin {
                throw FrontdeskError(.forbidden, code: "forbidden", message: "Only admins may create service tokens.")
            }
            if let scope = scopes.sorted().first(where: { !TokenScopes.allowed($0, for: role) }) {
                throw FrontdeskError(.forbidden, code: "scope_not_allowed", message: "Only admins may create tokens with the scope \(scope).",
                                     details: ["scope": scope])
            }
        }
    }

    /// A token just made, with its secret (shown once, never stored).
    package struct Created: Sendable {
        package let token: APIToken
        package let secret: String
    }

    /// Creates a token for `userId`; the secret is in the answer and nowhere else.
    package func create(_ input: NewToken, forUser userId: Int64) async throws -> Created {
        let secret = Self.secretPrefix + Secrets.urlSafeToken(byteCount: 32)
        let created = now()
        var token = APIToken(id: nil, userId: userId, name: input.name, kind: input.kind, prefix: String(secret.prefix(Self.displayPrefixLength)),
                             secretHash: Self.hash(secret), scopes: input.scopes.joined(separator: " "),
                             createdAt: Timestamps.iso8601Milliseconds(created),
                             expiresAt: input.expiresInDays.map { Timestamps.iso8601Milliseconds(created.addingTimeInterval(Double($0) * 86_400)) },
                             revokedAt: nil, lastUsedAt: nil, lastUsedNetwork: nil)
        token = try await database.writer.write { [token] db in
            var inserted = token
            try inserted.insert(db)
            return inserted
        }
        return Created(token: token, secret: secret)
    }

    /// Lower-case hex SHA-256 of the whole secret.
    package static func hash(_ secret: String) -> String { ContentDigest.sha256Hex(secret) }

    /// The live token with this secret, or why there is none.
    package func authenticate(secret: String) async throws -> Result<APIToken, TokenRefusal> {
        guard secret.hasPrefix(Self.secretPrefix), secret.utf8.count <= 200 else { return .failure(.unknown) }
        let hash = Self.hash(secret)
        let found = try await database.read { db in try APIToken.filter(Column("secret_hash") == hash).fetchOne(db) }
        guard let token = found else { return .failure(.unknown) }
        if token.revokedAt != nil { return .failure(.revoked) }
        if let expires = token.expiresAt, expires <= Timestamps.iso8601Milliseconds(now()) { return .failure(.expired) }
        return .success(token)
    }

    /// Seconds between two stamps of a token's last use: a token used 50 times a second costs
    /// one write a minute, not 50.
    package static let useStampInterval: TimeInterval = 60

    /// Records a use from `network` when the last stamp is older than `useStampInterval` or from elsewhere.
    package func noteUse(_ token: APIToken, network: String) async throws {
        let stamp = now()
        // Stored stamps are fixed-width UTC, so they order as strings.
        if let last = token.lastUsedAt, last > Timestamps.iso8601Milliseconds(stamp.addingTimeInterval(-Self.useStampInterval)),
           token.lastUsedNetwork == network { return }
        let text = Timestamps.iso8601Milliseconds(stamp)
        try await database.writer.write { db in
            try db.execute(sql: "UPDATE api_tokens SET last_used_at = ?, last_used_network = ? WHERE id = ?", arguments: [text, network, token.id])
        }
    }

    /// The tokens of one user (or every token when `userId` is nil), newest first.
    package func list(userId: Int64?) async throws -> [APIToken] {
        try await database.read { db in
            var request = APIToken.order(Column("id").desc)
            if let userId { request = request.filter(Column("user_id") == userId) }
            return try request.fetchAll(db)
        }
    }

    package func find(id: Int64) async throws -> APIToken? {
        try await database.read { db in try APIToken.fetchOne(db, key: id) }
    }

    /// Revokes a token (it answers 401 `token_revoked` from now on). Revoking twice keeps the first time.
    /// `ownedBy` limits the change to one user's tokens; 404 when no such token is theirs.
    package func revoke(id: Int64, ownedBy userId: Int64?) async throws -> APIToken {
        let stamp = Timestamps.iso8601Milliseconds(now())
        return try await database.writer.write { db in
            guard var token = try APIToken.fetchOne(db, key: id), userId == nil || token.userId == userId else { throw FrontdeskError.notFound("The token") }
            if token.revokedAt == nil {
                token.revokedAt = stamp
                try token.update(db)
            }
            return token
        }
    }
}
