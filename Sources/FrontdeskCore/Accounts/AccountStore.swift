import Foundation
import GRDB

/// Admin and agent accounts: the only place that knows their SQL.
package struct AccountStore: Sendable {
    package let database: AppDatabase
    let hasher: PasswordHasher
    let now: @Sendable () -> Date

    package init(database: AppDatabase, hasher: PasswordHasher = PasswordHasher(), now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.hasher = hasher
        self.now = now
    }

    /// A validated new account.
    package struct NewUser: Sendable {
        package var email: String
        package var name: String
        package var password: String
        package var role: Role

        package static let fieldNames: Set<String> = ["email", "name", "password", "role"]

        package init(email: String, name: String = "", password: String, role: Role) throws {
            var problems: [String: String] = [:]
            guard let normalized = EmailAddress.normalize(email.trimmingCharacters(in: .whitespaces)) else {
                problems["email"] = "must be a valid email address like name@example.com"
                problems.merge(Self.passwordProblems(password)) { $1 }
                throw FrontdeskError.validation(problems)
            }
            problems.merge(Self.passwordProblems(password)) { $1 }
            if !problems.isEmpty { throw FrontdeskError.validation(problems) }
            self.email = normalized
            self.name = name
            self.password = password
            self.role = role
        }

        /// Validates a JSON body, naming every bad field.
        package init(json: [String: JSONValue]) throws {
            var reader = FieldReader(json, allowed: Self.fieldNames)
            let email = reader.email("email", required: true)
            let name = reader.text("name", required: false, maxLength: 200) ?? ""
            let password = Self.password(&reader, "password")
            var role: Role?
            if let raw = reader.text("role", required: true, maxLength: 20) {
                role = Role(rawValue: raw)
                if role == nil { reader.fail("role", "must be \"admin\" or \"agent\"") }
            }
            try reader.validate()
            self.email = email!
            self.name = name
            self.password = password!
            self.role = role!
        }

        static func password(_ reader: inout FieldReader, _ key: String) -> String? {
            guard let raw = reader.object[key], raw != .null else { reader.fail(key, "is required"); return nil }
            guard case .string(let value) = raw else { reader.fail(key, "must be a string, not \(raw.typeName)"); return nil }
            if let problem = passwordProblems(value)["password"] { reader.fail(key, problem); return nil }
            return value
        }

        package static func passwordProblems(_ password: String) -> [String: String] {
            if password.count < PasswordHasher.minimumLength {
                return ["password": "must be at least \(PasswordHasher.minimumLength) characters"]
            }
            if password.count > PasswordHasher.maximumLength {
                return ["password": "must be at most \(PasswordHasher.maximumLength) characters"]
            }
            return [:]
        }
    }

    /// Creates an account; 409 `email_taken` when the address is in use.
    package func create(_ input: NewUser) async throws -> User {
        let hash = try await hasher.hash(input.password)
        let stamp = Timestamps.iso8601Milliseconds(now())
        let user = User(id: nil, email: input.email, name: input.name, role: input.role, passwordHash: hash, disabled: false,
                        sessionEpoch: 0, createdAt: stamp, updatedAt: stamp)
        do {
            return try await database.writer.write { db in
                var inserted = user
                try inserted.insert(db)
                return inserted
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw FrontdeskError(.conflict, code: "email_taken", message: "An account with this email address already exists.",
                                 details: ["email": "is already in use"])
        }
    }

    /// Every account, oldest first.
    package func list() async throws -> [User] {
        try await database.read { db in try User.order(User.Columns.id).fetchAll(db) }
    }

    package func find(id: Int64) async throws -> User? {
        try await database.read { db in try User.fetchOne(db, key: id) }
    }

    package func find(email: String) async throws -> User? {
        guard let normalized = EmailAddress.normalize(email.trimmingCharacters(in: .whitespaces)) else { return nil }
        return try await database.read { db in
            try User.filter(sql: "email = ? COLLATE NOCASE", arguments: [normalized]).fetchOne(db)
        }
    }

    /// Whether any enabled admin exists (when none does, `serve` offers the setup link).
    package func adminExists() async throws -> Bool {
        try await database.read { db in
            try User.filter(User.Columns.role == Role.admin.rawValue && User.Columns.disabled == false).fetchCount(db) > 0
        }
    }

    /// The enabled user with these credentials, or nil. Spends the same hashing time whether
    /// or not the account exists, so response time does not reveal which addresses have accounts.
    package func authenticate(email: String, password: String) async throws -> User? {
        let user = try await find(email: email)
        let stored = user?.passwordHash ?? Self.dummyHash(iterations: hasher.iterations)
        let valid = try await hasher.verify(password, against: stored)
        guard let user, valid, !user.disabled else { return nil }
        if hasher.needsRehash(user.passwordHash), (try? await setPassword(id: user.id!, password: password)) != nil {
            return try await find(id: user.id!) ?? user
        }
        return user
    }

    /// Replaces a user's password (the caller ends their sessions).
    package func setPassword(id: Int64, password: String) async throws {
        if let problem = NewUser.passwordProblems(password)["password"] {
            throw FrontdeskError.validation(["password": problem])
        }
        let hash = try await hasher.hash(password)
        let stamp = Timestamps.iso8601Milliseconds(now())
        let changed = try await database.writer.write { db in
            try db.execute(sql: "UPDATE users SET password_hash = ?, updated_at = ?, session_epoch = session_epoch + 1 WHERE id = ?", arguments: [hash, stamp, id])
            return db.changesCount
        }
        if changed == 0 { throw FrontdeskError.notFound("The user") }
    }

    /// Changes role and/or the disabled flag; refuses to leave the site without an enabled admin.
    package func update(id: Int64, role: Role?, disabled: Bool?) async throws -> User {
        let stamp = Timestamps.iso8601Milliseconds(now())
        return try await database.writer.write { db in
            guard var user = try User.fetchOne(db, key: id) else { throw FrontdeskError.notFound("The user") }
            if let role { user.role = role }
            if let disabled {
                if disabled && !user.disabled { user.sessionEpoch += 1 }
                user.disabled = disabled
            }
            user.updatedAt = stamp
            try user.update(db)
            let admins = try User.filter(User.Columns.role == Role.admin.rawValue && User.Columns.disabled == false).fetchCount(db)
            if admins == 0 {
                throw FrontdeskError(.conflict, code: "last_admin", message: "This would leave no enabled admin. Make another user an admin first.")
            }
            return user
        }
    }

    /// Changes what a user may change about themselves: the display name.
    package func updateProfile(id: Int64, name: String) async throws -> User {
        let stamp = Timestamps.iso8601Milliseconds(now())
        return try await database.writer.write { db in
            guard var user = try User.fetchOne(db, key: id) else { throw FrontdeskError.notFound("The user") }
            user.name = name
            user.updatedAt = stamp
            try user.update(db)
            return user
        }
    }

    /// Whether `password` is this user's current one (for a self-service change).
    package func verifyPassword(id: Int64, password: String) async throws -> Bool {
        guard let user = try await find(id: id) else { return false }
        return try await hasher.verify(password, against: user.passwordHash)
    }

    /// A valid hash of a random password, made once per cost, verified against for unknown accounts.
    static func dummyHash(iterations: Int) -> String {
        dummyHashes.withLock { cache in
            if let hash = cache[iterations] { return hash }
            let salt = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            let hash = "pbkdf2-sha256$\(iterations)$\(salt)$\(Data(count: 32).base64EncodedString())"
            cache[iterations] = hash
            return hash
        }
    }

    private static let dummyHashes = Mutex<[Int: String]>([:])
}

import Synchronization
