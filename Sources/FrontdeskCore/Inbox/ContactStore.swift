import Foundation
import GRDB

/// Stores and reads contact submissions; the only place that knows their SQL.
package struct ContactStore: Sendable {
    let database: AppDatabase
    let mailer: InboxMailer?
    /// Queues `contact.created` in the submission's transaction; nil when webhooks are off.
    package var webhooks: WebhookOutbox?

    package init(database: AppDatabase, mailer: InboxMailer? = nil) {
        self.database = database
        self.mailer = mailer
    }

    /// Stores a submission and queues the owner's notification in the same transaction; returns
    /// once committed. `also` runs inside that transaction too (the idempotency record).
    package func submit(_ input: NewContactSubmission, userAgent: String?, now: Date,
                       also: (@Sendable (Database, ContactSubmission) throws -> Void)? = nil) async throws -> ContactSubmission {
        let fieldsJSON = String(decoding: try JSONEncoder.sorted.encode(input.fields), as: UTF8.self)
        let record = ContactSubmission(
            id: nil, form: input.form, name: input.name, email: input.email, subject: input.subject,
            message: input.message, fields: fieldsJSON, status: .new, pageURL: input.pageURL,
            userAgent: userAgent.map { String($0.prefix(512)) }, createdAt: Timestamps.iso8601Milliseconds(now), processedAt: nil)
        let notify = try await mailer?.prepareContactNotification(input, now: now, database: database)
        let webhooks = self.webhooks
        return try await database.writer.write { db in
            var inserted = record
            try inserted.insert(db)
            try notify?(db, inserted.id ?? 0)
            try webhooks?.emit("contact.created", ["id": .number(Double(inserted.id ?? 0)), "form": .string(inserted.form), "name": .string(inserted.name),
                                                   "email": .string(inserted.email), "subject": inserted.subject.map(JSONValue.string) ?? .null,
                                                   "message": .string(inserted.message), "createdAt": .string(inserted.createdAt)], in: db)
            try also?(db, inserted)
            return inserted
        }
    }

    /// How many submissions are stored.
    package func count() async throws -> Int {
        try await database.read { db in try ContactSubmission.fetchCount(db) }
    }

    /// One submission by id.
    package func find(id: Int64) async throws -> ContactSubmission? {
        try await database.read { db in try ContactSubmission.fetchOne(db, key: id) }
    }

    // MARK: - Admin

    package static let sortable = ["createdAt", "name", "email", "status"]
    package static let filters: [String: Set<String>?] = ["status": Set(ContactStatus.rawValues), "form": nil]
    static let sortColumns = ["createdAt": "created_at", "name": "name", "email": "email", "status": "status"]

    func filter(_ query: ListQuery) -> SQLFilter {
        var filter = SQLFilter()
        if let status = query.filters["status"] { filter.add("status = ?", status) }
        if let form = query.filters["form"] { filter.add("form = ?", form) }
        filter.search(query.likePattern, columns: ["name", "email", "subject", "message", "fields"])
        return filter
    }

    package func list(_ query: ListQuery) async throws -> Page<ContactSubmission> {
        try await database.page(ContactSubmission.self, select: "SELECT * FROM contact_submissions", from: "contact_submissions", filter: filter(query),
                                order: query.order(Self.sortColumns, default: "created_at"), query: query)
    }

    /// Up to `limit` rows matching `query` with ids after `after`, by id: CSV export pages through
    /// with this so a large export never holds more than one batch.
    package func exportBatch(_ query: ListQuery, after: Int64, limit: Int = 500) async throws -> [ContactSubmission] {
        try await database.batch(ContactSubmission.self, table: "contact_submissions", filter: filter(query), after: after, limit: limit)
    }

    /// Marks a submission processed (or new again).
    package func setStatus(id: Int64, status: ContactStatus, now: Date) async throws -> ContactSubmission {
        return try await database.writer.write { db in
            guard var row = try ContactSubmission.fetchOne(db, key: id) else { throw FrontdeskError.notFound("The submission") }
            row.status = status
            row.processedAt = status == .processed ? Timestamps.iso8601Milliseconds(now) : nil
            try row.update(db)
            return row
        }
    }

    package func delete(id: Int64) async throws {
        let deleted = try await database.writer.write { db in try ContactSubmission.deleteOne(db, key: id) }
        if !deleted { throw FrontdeskError.notFound("The submission") }
    }
}
