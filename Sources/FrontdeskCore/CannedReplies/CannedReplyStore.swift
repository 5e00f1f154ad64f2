import Foundation
import GRDB

/// A ready-made chat answer an agent inserts by its shortcut (`/hello` in the composer). Shared
/// replies (`ownerId` nil) belong to the team and are kept by admins; personal ones by their owner.
package struct CannedReply: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "canned_replies"

    package var id: Int64?
    /// The owning user for a personal reply; nil for a shared one.
    package var ownerId: Int64?
    package var shortcut: String
    package var text: String
    package var createdAt: String
    package var updatedAt: String

    package var isShared: Bool { ownerId == nil }

    enum CodingKeys: String, CodingKey {
        case id, shortcut, text
        case ownerId = "owner_id"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// A validated reply from a request body: every field checked, each problem named.
package struct CannedReplyInput: Sendable, Equatable {
    package var shortcut: String?
    package var text: String?
    /// `true` for a team reply; nil when a change leaves the scope as it is.
    package var shared: Bool?

    package static let maxShortcutLength = 32
    package static let maxTextLength = 2000
    package static let fieldNames: Set<String> = ["shortcut", "text", "scope"]

    package init(shortcut: String?, text: String?, shared: Bool?) {
        self.shortcut = shortcut
        self.text = text
        self.shared = shared
    }

    /// `partial` for a PATCH: absent fields stay as they are.
    package init(json: [String: JSONValue], partial: Bool) throws {
        var reader = FieldReader(json, allowed: Self.fieldNames)
        var shortcut = reader.text("shortcut", required: !partial, maxLength: Self.maxShortcutLength)
        if let raw = shortcut {
            // The `/` an agent types is not part of the shortcut.
            let bare = raw.hasPrefix("/") ? String(raw.dropFirst()) : raw
            if let problem = Self.shortcutProblem(bare) { reader.fail("shortcut", problem); shortcut = nil } else { shortcut = bare.lowercased() }
        }
        let text = reader.text("text", required: !partial, maxLength: Self.maxTextLength, multiline: true)
        var shared: Bool?
        if let scope = reader.text("scope", required: false, maxLength: 20) {
            switch scope {
            case "shared": shared = true
            case "personal": shared = false
            default: reader.fail("scope", "must be \"shared\" or \"personal\"")
            }
        } else if json["scope"] == .null {
            // null is no scope: left out means "as it is", null is a mistake.
            reader.fail("scope", "must be \"shared\" or \"personal\", not null")
        }
        try reader.validate()
        self.shortcut = shortcut
        self.text = text
        self.shared = shared
    }

    /// Letters, digits, `-` and `_` only, so `/shortcut` is one word in the composer.
    static func shortcutProblem(_ value: String) -> String? {
        if value.isEmpty { return "must not be empty" }
        if value.unicodeScalars.count > maxShortcutLength { return "must be at most \(maxShortcutLength) characters" }
        let ok = value.unicodeScalars.allSatisfy { s in
            (s >= "a" && s <= "z") || (s >= "A" && s <= "Z") || (s >= "0" && s <= "9") || s == "-" || s == "_"
        }
        return ok ? nil : "may hold only letters, digits, - and _ (no spaces)"
    }
}

/// Canned replies: the team's shared ones and each user's own. The only place with their SQL.
package struct CannedReplyStore: Sendable {
    package let database: AppDatabase

    package init(database: AppDatabase) {
        self.database = database
    }

    package static let migrations = [
        SchemaMigration("0042-canned-replies") { db in
            // A shortcut is unique per scope: once among the shared replies, once among each
            // user's own (owner 0 stands for "shared" in the index, as NULLs never collide).
            try db.execute(sql: """
                CREATE TABLE canned_replies (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    owner_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
                    shortcut TEXT NOT NULL,
                    text TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                ) STRICT;
                CREATE UNIQUE INDEX canned_replies_scope_shortcut ON canned_replies(coalesce(owner_id, 0), shortcut);
                """)
        },
    ]

    /// The replies `userId` may use: the shared ones and their own, by shortcut.
    package func list(for userId: Int64) async throws -> [CannedReply] {
        try await database.read { db in
            try CannedReply.fetchAll(db, sql: "SELECT * FROM canned_replies WHERE owner_id IS NULL OR owner_id = ? ORDER BY shortcut, owner_id IS NOT NULL",
                                     arguments: [userId])
        }
    }

    package func find(id: Int64) async throws -> CannedReply? {
        try await database.read { db in try CannedReply.fetchOne(db, key: id) }
    }

    /// Adds a reply; 422 naming `shortcut` when its scope has it already.
    package func create(shortcut: String, text: String, ownerId: Int64?, now: Date) async throws -> CannedReply {
        let stamp = Timestamps.iso8601Milliseconds(now)
        let reply = CannedReply(id: nil, ownerId: ownerId, shortcut: shortcut, text: text, createdAt: stamp, updatedAt: stamp)
        return try await Self.unique(shared: ownerId == nil) {
            try await database.writer.write { db in
                var inserted = reply
                try inserted.insert(db)
                return inserted
            }
        }
    }

    /// Changes a reply's fields (and scope: `ownerId` is the new owner, or nil for shared).
    package func update(id: Int64, shortcut: String?, text: String?, ownerId: Int64??, now: Date) async throws -> CannedReply {
        let stamp = Timestamps.iso8601Milliseconds(now)
        let sharedAfter: Bool
        if let ownerId { sharedAfter = ownerId == nil } else { sharedAfter = try await find(id: id)?.isShared ?? false }
        return try await Self.unique(shared: sharedAfter) {
            try await database.writer.write { db in
                guard var reply = try CannedReply.fetchOne(db, key: id) else { throw FrontdeskError.notFound("The canned reply") }
                if let shortcut { reply.shortcut = shortcut }
                if let text { reply.text = text }
                if let ownerId { reply.ownerId = ownerId }
                reply.updatedAt = stamp
                try reply.update(db)
                return reply
            }
        }
    }

    /// Removes a reply; false when there was none.
    package func delete(id: Int64) async throws -> Bool {
        try await database.writer.write { db in try CannedReply.deleteOne(db, key: id) }
    }

    /// The few shared replies a new site starts with (the demo seed), skipping shortcuts taken.
    package func seedShared(_ replies: [(String, String)], now: Date) async throws {
        let stamp = Timestamps.iso8601Milliseconds(now)
        try await database.writer.write { db in
            for (shortcut, text) in replies {
                try db.execute(sql: "INSERT OR IGNORE INTO canned_replies (owner_id, shortcut, text, created_at, updated_at) VALUES (NULL, ?, ?, ?, ?)",
                               arguments: [shortcut, text, stamp, stamp])
            }
        }
    }

    /// Runs `write`, turning the scope's unique index into a 422 that names the field.
    static func unique<T>(shared: Bool, _ write: () async throws -> T) async throws -> T {
        do {
            return try await write()
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw FrontdeskError.validation(["shortcut": shared ? "is used by another shared reply" : "is used by another of your replies"])
        }
    }
}
