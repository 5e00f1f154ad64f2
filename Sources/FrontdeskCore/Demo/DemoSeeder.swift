import Foundation
import GRDB

/// Seeds the content `frontdesk serve --demo` shows: a small bakery's settings and a few
/// contact messages, so an offline demo has something in every list. Running it twice adds nothing.
public struct DemoSeeder: Sendable {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func seed(now: Date) async throws {
        let stamp = Timestamps.iso8601Milliseconds(now)
        try await database.writer.write { db in
            let seeded = try Bool.fetchOne(db, sql: "SELECT 1 FROM app_settings WHERE key = 'demo.seeded'") ?? false
            guard !seeded else { return }
            try db.execute(sql: "INSERT INTO app_settings(key, value, updated_at) VALUES ('demo.seeded', 'true', ?), ('site.name', 'Lakeside Bakery', ?)",
                           arguments: [stamp, stamp])
            let samples: [(String, String, String, String)] = [
                ("Maria Keller", "maria@example.com", "Wedding cake", "Do you bake three-tier cakes for 80 guests in June?"),
                ("Tom Berg", "tom@example.org", "Gluten-free bread", "Which of your loaves are gluten-free?"),
                ("Aiko Tanaka", "aiko@example.net", "Opening hours", "Are you open on the 24th of December?"),
            ]
            for (name, email, subject, message) in samples {
                try db.execute(sql: """
                    INSERT INTO contact_submissions(name, email, subject, message, created_at) VALUES (?, ?, ?, ?, ?)
                    """, arguments: [name, email, subject, message, stamp])
            }
        }
    }

}
