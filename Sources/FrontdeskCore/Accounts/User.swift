import Foundation
import GRDB

/// What a console user may do: admins manage users and settings; agents answer visitors.
package enum Role: String, Codable, Sendable, CaseIterable {
    case admin
    case agent
}

/// An admin-console account (table `users`).
package struct User: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "users"

    package var id: Int64?
    package var email: String
    package var name: String
    package var role: Role
    package var passwordHash: String
    package var disabled: Bool
    /// Sessions remember the epoch they started in; a different epoch ends them.
    package var sessionEpoch: Int
    package var createdAt: String
    package var updatedAt: String

    package enum Columns {
        static let id = Column(CodingKeys.id)
        static let email = Column(CodingKeys.email)
        static let role = Column(CodingKeys.role)
        static let disabled = Column(CodingKeys.disabled)
    }

    enum CodingKeys: String, CodingKey {
        case id, email, name, role, disabled
        case passwordHash = "password_hash"
        case sessionEpoch = "session_epoch"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// A user as the API shows it: never the password hash.
package struct PublicUser: Codable, Sendable, Equatable {
    package let id: Int64
    package let email: String
    package let name: String
    package let role: Role
    package let disabled: Bool
    package let createdAt: String

    package init(_ user: User) {
        id = user.id ?? 0
        email = user.email
        name = user.name
        role = user.role
        disabled = user.disabled
        createdAt = user.createdAt
    }
}
