import Foundation
import GRDB

/// How a console user wants to be told about things, kept on the server so every browser of
/// theirs follows it. A user who never chose gets everything on.
package struct NotificationPreferences: Codable, Sendable, Equatable {
    /// The chime on a new chat or a visitor's message.
    package var sound: Bool
    /// A desktop notification when a new chat waits in the queue.
    package var desktopNewChats: Bool
    /// A desktop notification for a visitor's message in a conversation of mine.
    package var desktopMyMessages: Bool

    package static let defaults = NotificationPreferences(sound: true, desktopNewChats: true, desktopMyMessages: true)
    package static let fieldNames: Set<String> = ["sound", "desktopNewChats", "desktopMyMessages"]

    package init(sound: Bool, desktopNewChats: Bool, desktopMyMessages: Bool) {
        self.sound = sound
        self.desktopNewChats = desktopNewChats
        self.desktopMyMessages = desktopMyMessages
    }

    /// `self` with the booleans of a PATCH body applied, every bad field named.
    package func applying(_ json: [String: JSONValue]) throws -> NotificationPreferences {
        let reader = FieldReader(json, allowed: Self.fieldNames)
        var problems = reader.problems
        var changed = self
        for (key, value) in json where Self.fieldNames.contains(key) {
            guard case .bool(let flag) = value else { problems[key] = "must be true or false, not \(value.typeName)"; continue }
            switch key {
            case "sound": changed.sound = flag
            case "desktopNewChats": changed.desktopNewChats = flag
            default: changed.desktopMyMessages = flag
            }
        }
        if !problems.isEmpty { throw FrontdeskError.validation(problems) }
        return changed
    }
}

/// Each user's notification preferences (table `notification_preferences`). The only place with their SQL.
package struct NotificationPreferenceStore: Sendable {
    package let database: AppDatabase

    package init(database: AppDatabase) {
        self.database = database
    }

    package static let migrations = [
        SchemaMigration("0044-notification-preferences") { db in
            try db.execute(sql: """
                CREATE TABLE notification_preferences (
                    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
                    sound INTEGER NOT NULL,
                    desktop_new_chats INTEGER NOT NULL,
                    desktop_my_messages INTEGER NOT NULL,
                    updated_at TEXT NOT NULL
                ) STRICT;
                """)
        },
    ]

    /// The user's preferences, or the defaults when they never chose.
    package func preferences(userId: Int64) async throws -> NotificationPreferences {
        try await database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT sound, desktop_new_chats, desktop_my_messages FROM notification_preferences WHERE user_id = ?",
                                             arguments: [userId]) else { return .defaults }
            return NotificationPreferences(sound: row[0], desktopNewChats: row[1], desktopMyMessages: row[2])
        }
    }

    /// Stores the user's preferences.
    package func save(_ preferences: NotificationPreferences, userId: Int64, now: Date) async throws {
        try await database.writer.write { db in
            try db.execute(sql: """
                INSERT INTO notification_preferences (user_id, sound, desktop_new_chats, desktop_my_messages, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(user_id) DO UPDATE SET sound = excluded.sound, desktop_new_chats = excluded.desktop_new_chats,
                    desktop_my_messages = excluded.desktop_my_messages, updated_at = excluded.updated_at
                """, arguments: [userId, preferences.sound, preferences.desktopNewChats, preferences.desktopMyMessages, Timestamps.iso8601Milliseconds(now)])
        }
    }
}
