import Foundation
import GRDB

/// What a console user may do: admins manage users and settings; agents answer visitors.
public enum Role: String, Codable, Sendable, CaseIterable {
    case admin
    case agent
}

/// An admin-console account (table `users`).
public struct User: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "users"

    public var id: Int64?
    public var email: String
    public var name: String
    public var role: Role
    public var passwordHash: String
    public var disabled: Bool
    /// Sessions remember the epoch they started in; a different epoch ends them.
    public var sessionEpoch: Int
    public var createdAt: String
    public var updatedAt: String

    public enum Columns {
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

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// A user as the API shows it: never the password hash.
public struct PublicUser: Codable, Sendable, Equatable {
    public let id: Int64
    public let email: String
    public let name: String
    public let role: Role
    public let disabled: Bool
    public let createdAt: String

    public init(_ user: User) {
        id = user.id ?? 0
        email = user.email
        name = user.name
        role = user.role
        disabled = user.disabled
        createdAt = user.createdAt
    }
}
