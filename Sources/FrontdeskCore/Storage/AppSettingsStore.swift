import Foundation
import GRDB

/// Small values Frontdesk keeps about its own data directory in `app_settings` (the demo-content
/// marker, install secrets): one key, one text value, the time it was written.
package struct AppSettingsStore: Sendable {
    let database: AppDatabase

    package init(database: AppDatabase) {
        self.database = database
    }

    package func value(for key: String) async throws -> String? {
        try await database.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM app_settings WHERE key = ?", arguments: [key])
        }
    }

    /// Writes `value` under `key`, replacing what was there.
    package func set(_ key: String, to value: String, now: Date) async throws {
        let stamp = Timestamps.iso8601Milliseconds(now)
        try await database.writer.write { db in
            try db.execute(sql: """
                INSERT INTO app_settings(key, value, updated_at) VALUES (?, ?, ?)
                ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                """, arguments: [key, value, stamp])
        }
    }
}

/// `serve --demo`'s content: each feature module seeds its own (`FeatureModule.seedDemo`), once
/// per data directory, and this key records that it was done.
package enum DemoContent {
    package static let seededKey = "demo.seeded"
}
