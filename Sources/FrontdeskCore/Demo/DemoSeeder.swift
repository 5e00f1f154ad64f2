import Foundation
import GRDB

/// Seeds the content `frontdesk serve --demo` shows: a small bakery's settings, contact
/// messages, tickets with a thread and newsletter subscribers, so an offline demo has something
/// in every list. Nothing is mailed. Running it twice adds nothing.
package struct DemoSeeder: Sendable {
    let database: AppDatabase
    let tickets: TicketStore?

    package init(database: AppDatabase, tickets: TicketStore? = nil) {
        self.database = database
        self.tickets = tickets
    }

    package func seed(now: Date) async throws {
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
            let subscribers: [(String, String, String?)] = [
                ("lena@example.com", "confirmed", stamp), ("omar@example.org", "confirmed", stamp), ("jo@example.net", "pending", nil),
            ]
            for (email, status, confirmedAt) in subscribers {
                try db.execute(sql: """
                    INSERT INTO newsletter_subscriptions(email, status, topics, token, consent_version, source, subscribed_at, confirmed_at, updated_at)
                    VALUES (?, ?, '[]', ?, 'demo', 'admin', ?, ?, ?)
                    """, arguments: [email, status, Secrets.urlSafeToken(), stamp, confirmedAt, stamp])
            }
            guard let tickets else { return }
            let oven = try tickets.create(NewTicket(email: "peter@example.com", name: "Peter Hahn", subject: "Order #1042 not picked up",
                                                    description: "I could not come on Saturday. Can I pick up my order on Monday instead?", priority: "high"),
                                          source: "form", sourceID: nil, now: now, in: db)
            try db.execute(sql: """
                INSERT INTO ticket_messages(ticket_id, author, author_name, body, internal, created_at)
                VALUES (?, 'customer', 'Peter Hahn', 'It is two sourdough loaves and a plum cake.', 0, ?)
                """, arguments: [oven.ticket.id, stamp])
            _ = try tickets.create(NewTicket(email: "sara@example.org", name: "Sara Lind", subject: "Allergen list",
                                             description: "Do you have a list of allergens for your cakes?", priority: "low"),
                                   source: "form", sourceID: nil, now: now, in: db)
        }
    }

}
