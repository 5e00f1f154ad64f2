import Foundation
import GRDB

/// A newsletter sign-up (table `newsletter_subscriptions`): `pending` until the one-click
/// confirmation, then `confirmed`, `unsubscribed` when the person leaves.
package struct NewsletterSubscription: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "newsletter_subscriptions"

    package var id: Int64?
    package var email: String
    package var name: String?
    package var status: SubscriptionStatus
    /// JSON array of topic ids.
    package var topics: String
    package var token: String
    package var consentVersion: String
    package var source: String
    /// The sign-up's address truncated to its network (/24, /48): proof of consent without the person's address.
    package var clientNetwork: String?
    package var subscribedAt: String
    package var confirmedAt: String?
    package var unsubscribedAt: String?
    package var confirmationSentAt: String?
    package var updatedAt: String

    package enum Columns {
        static let email = Column(CodingKeys.email)
        static let status = Column(CodingKeys.status)
        static let token = Column(CodingKeys.token)
    }

    enum CodingKeys: String, CodingKey {
        case id, email, name, status, topics, token, source
        case consentVersion = "consent_version"
        case clientNetwork = "client_network"
        case subscribedAt = "subscribed_at"
        case confirmedAt = "confirmed_at"
        case unsubscribedAt = "unsubscribed_at"
        case confirmationSentAt = "confirmation_sent_at"
        case updatedAt = "updated_at"
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    /// The CSV export's columns (console and `frontdesk newsletter export`): a file `import` reads back.
    package static let exportHeader = ["email", "name", "topics", "status", "subscribed_at", "confirmed_at", "unsubscribed_at", "consent_version", "source"]
    package var exportFields: [String?] {
        [email, name, topicList.joined(separator: ";"), status.rawValue, subscribedAt, confirmedAt, unsubscribedAt, consentVersion, source]
    }

    package var topicList: [String] {
        (try? JSONDecoder().decode([String].self, from: Data(topics.utf8))) ?? []
    }
}

/// A validated sign-up.
package struct NewSubscription: Sendable, Equatable {
    package var email: String
    package var name: String?
    package var topics: [String]

    package static let fieldNames: Set<String> = ["email", "name", "topics"]

    package init(json: [String: JSONValue], topics allowed: [NewsletterSettings.Topic]) throws {
        var reader = FieldReader(json, allowed: Self.fieldNames)
        let email = reader.email("email", required: true)
        name = reader.text("name", required: false, maxLength: NewContactSubmission.Limits.name)
        topics = []
        if let raw = json["topics"], raw != .null {
            let ids = Set(allowed.map(\.id))
            if case .array(let items) = raw, items.count <= 50 {
                for item in items {
                    guard case .string(let id) = item, ids.contains(id) else {
                        reader.fail("topics", ids.isEmpty ? "must be empty: this newsletter has no topics" : "must list topics among: " + allowed.map(\.id).joined(separator: ", "))
                        break
                    }
                    if !topics.contains(id) { topics.append(id) }
                }
            } else {
                reader.fail("topics", "must be an array of topic ids")
            }
        }
        try reader.validate()
        self.email = email!
    }

    package init(email: String, name: String? = nil, topics: [String] = []) {
        self.email = email
        self.name = name
        self.topics = topics
    }
}

/// Newsletter sign-ups: double opt-in, one-click unsubscribe, expiry of unconfirmed sign-ups, import.
package struct NewsletterStore: Sendable {
    let database: AppDatabase
    let mailer: InboxMailer?
    /// Queues `newsletter.confirmed` / `newsletter.unsubscribed` in the change's transaction.
    package var webhooks: WebhookOutbox?
    let settings: NewsletterSettings

    package init(database: AppDatabase, mailer: InboxMailer?, settings: NewsletterSettings) {
        self.database = database
        self.mailer = mailer
        self.settings = settings
    }

    package enum SubscribeOutcome: Sendable, Equatable {
        /// A confirmation mail was queued.
        case confirmationSent
        /// Still pending and the last mail is recent: nothing sent (the answer to the visitor is the same).
        case resendSuppressed
        /// Already confirmed: nothing changed, nothing sent.
        case alreadyConfirmed
    }

    /// Signs up (or re-signs up) an address. A pending sign-up gets its confirmation again, at most
    /// once per `resend_minutes`; an unsubscribed address starts over as pending. A confirmed one
    /// is left as it is: anybody can post the form with anybody's address, so a post proves
    /// nothing about who sent it, and only the link in the subscriber's mail may change the row.
    /// The caller answers the same `pending` in every case, so nobody learns who is subscribed.
    @discardableResult
    package func subscribe(_ input: NewSubscription, clientNetwork: String?, now: Date,
                          also: (@Sendable (Database) throws -> Void)? = nil) async throws -> SubscribeOutcome {
        let stamp = Timestamps.iso8601Milliseconds(now)
        let topicsJSON = String(decoding: try JSONEncoder.sorted.encode(input.topics), as: UTF8.self)
        let resendAfter = now.addingTimeInterval(-Double(settings.resendMinutes * 60))
        let version = settings.consentVersion
        let mailer = self.mailer
        return try await database.writer.write { db in
            if var row = try NewsletterSubscription.filter(NewsletterSubscription.Columns.email == input.email).fetchOne(db) {
                switch row.status {
                case .confirmed:
                    try also?(db)
                    return .alreadyConfirmed
                case .pending:
                    if let sent = row.confirmationSentAt, sent > Timestamps.iso8601Milliseconds(resendAfter) {
                        try also?(db)
                        return .resendSuppressed
                    }
                default:
                    row.token = Secrets.urlSafeToken()
                    row.subscribedAt = stamp
                    row.confirmedAt = nil
                    row.unsubscribedAt = nil
                }
                row.status = .pending
                row.name = input.name ?? row.name
                row.topics = topicsJSON
                row.consentVersion = version
                row.clientNetwork = clientNetwork
                row.source = "form"
                row.confirmationSentAt = stamp
                row.updatedAt = stamp
                try row.update(db)
                try mailer?.newsletterConfirmation(email: row.email, token: row.token, in: db)
                try also?(db)
                return .confirmationSent
            }
            var row = NewsletterSubscription(
                id: nil, email: input.email, name: input.name, status: .pending, topics: topicsJSON, token: Secrets.urlSafeToken(),
                consentVersion: version, source: "form", clientNetwork: clientNetwork, subscribedAt: stamp, confirmedAt: nil,
                unsubscribedAt: nil, confirmationSentAt: stamp, updatedAt: stamp)
            try row.insert(db)
            try mailer?.newsletterConfirmation(email: row.email, token: row.token, in: db)
            try also?(db)
            return .confirmationSent
        }
    }

    /// The one click in the confirmation mail. Returns the row, or nil for an unknown token.
    /// Confirming twice is harmless; an unsubscribed address is not re-subscribed by an old link.
    package func confirm(token: String, now: Date) async throws -> NewsletterSubscription? {
        let webhooks = self.webhooks
        return try await database.writer.write { db in
            guard var row = try NewsletterSubscription.filter(NewsletterSubscription.Columns.token == token).fetchOne(db) else { return nil }
            if row.status == .pending {
                row.status = .confirmed
                row.confirmedAt = Timestamps.iso8601Milliseconds(now)
                row.updatedAt = row.confirmedAt!
                try row.update(db)
                try webhooks?.emit("newsletter.confirmed", Self.event(row), in: db)
            }
            return row
        }
    }

    /// One-click unsubscribe (RFC 8058 POST or the page's button). Nil for an unknown token.
    package func unsubscribe(token: String, now: Date) async throws -> NewsletterSubscription? {
        let webhooks = self.webhooks
        return try await database.writer.write { db in
            guard var row = try NewsletterSubscription.filter(NewsletterSubscription.Columns.token == token).fetchOne(db) else { return nil }
            if row.status != .unsubscribed {
                row.status = .unsubscribed
                row.unsubscribedAt = Timestamps.iso8601Milliseconds(now)
                row.updatedAt = row.unsubscribedAt!
                try row.update(db)
                try webhooks?.emit("newsletter.unsubscribed", Self.event(row), in: db)
            }
            return row
        }
    }

    /// A subscription as webhook events carry it (never its token).
    static func event(_ row: NewsletterSubscription) -> [String: JSONValue] {
        ["id": .number(Double(row.id ?? 0)), "email": .string(row.email), "status": .string(row.status.rawValue)]
    }

    package func find(token: String) async throws -> NewsletterSubscription? {
        try await database.read { db in try NewsletterSubscription.filter(NewsletterSubscription.Columns.token == token).fetchOne(db) }
    }

    /// Deletes sign-ups never confirmed within `pending_expiry_hours` of their last confirmation mail.
    @discardableResult
    package func purgeExpired(now: Date) async throws -> Int {
        let cutoff = Timestamps.iso8601Milliseconds(now.addingTimeInterval(-Double(settings.pendingExpiryHours * 3600)))
        return try await database.writer.write { db in
            try db.execute(sql: "DELETE FROM newsletter_subscriptions WHERE status = 'pending' AND COALESCE(confirmation_sent_at, subscribed_at) < ?",
                           arguments: [cutoff])
            return db.changesCount
        }
    }

    // MARK: - Admin

    package static let sortable = ["subscribedAt", "email", "status", "confirmedAt"]
    package static let filters: [String: Set<String>?] = ["status": Set(SubscriptionStatus.rawValues), "topic": nil]
    static let sortColumns = ["subscribedAt": "subscribed_at", "email": "email", "status": "status", "confirmedAt": "confirmed_at"]

    func filter(_ query: ListQuery) -> SQLFilter {
        var filter = SQLFilter()
        if let status = query.filters["status"] { filter.add("status = ?", status) }
        if let topic = query.filters["topic"] { filter.add("EXISTS (SELECT 1 FROM json_each(topics) WHERE value = ?)", topic) }
        filter.search(query.likePattern, columns: ["email", "name"])
        return filter
    }

    package func list(_ query: ListQuery) async throws -> Page<NewsletterSubscription> {
        try await database.page(NewsletterSubscription.self, select: "SELECT * FROM newsletter_subscriptions", from: "newsletter_subscriptions", filter: filter(query),
                                order: query.order(Self.sortColumns, default: "subscribed_at"), query: query)
    }

    package func counts() async throws -> [String: Int] {
        try await database.read { db in
            var counts = ["pending": 0, "confirmed": 0, "unsubscribed": 0]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM newsletter_subscriptions GROUP BY status") {
                counts[row["status"]] = row["n"]
            }
            return counts
        }
    }

    /// Up to `limit` rows matching `query` with ids after `after`, by id: CSV export pages through
    /// with this so a large export never holds more than one batch.
    package func exportBatch(_ query: ListQuery, after: Int64, limit: Int = 500) async throws -> [NewsletterSubscription] {
        try await database.batch(NewsletterSubscription.self, table: "newsletter_subscriptions", filter: filter(query), after: after, limit: limit)
    }

    package func delete(id: Int64) async throws {
        let deleted = try await database.writer.write { db in try NewsletterSubscription.deleteOne(db, key: id) }
        if !deleted { throw FrontdeskError.notFound("The subscriber") }
    }

    package struct ImportResult: Sendable, Encodable, Equatable {
        package var imported = 0
        package var skipped = 0
        package var errors: [ImportProblem] = []
    }

    package struct ImportProblem: Sendable, Encodable, Equatable {
        package let line: Int
        package let message: String
    }

    /// Imports rows from CSV (`email[,name[,topics]]`, a header row optional; topics separated by `;`).
    /// Rows become `confirmed` only when `confirmed` is true (the site owner vouches for earlier
    /// consent); otherwise `pending` with a confirmation mail. Existing addresses, and rows whose `status` column (an export's) says unsubscribed, are skipped.
    ///
    /// Rows are written 500 to a transaction, `progress(done, total)` after each; an import cut
    /// short can simply be run again (the rows already in are skipped).
    package func importCSV(_ text: String, confirmed: Bool, now: Date,
                           progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil) async throws -> ImportResult {
        let stamp = Timestamps.iso8601Milliseconds(now)
        let rows = CSV.parse(text)
        let allowed = Set(settings.topics.map(\.id))
        var result = ImportResult()
        var accepted: [(line: Int, NewSubscription)] = []
        // A file from the export carries a status column: who unsubscribed stays out.
        var statusColumn: Int?
        for (index, fields) in rows.enumerated() {
            let line = index + 1
            let first = fields.first?.trimmingCharacters(in: .whitespaces) ?? ""
            if index == 0, first.lowercased() == "email" {
                statusColumn = fields.firstIndex { $0.trimmingCharacters(in: .whitespaces).lowercased() == "status" }
                continue
            }
            if fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
            if let statusColumn, statusColumn < fields.count,
               fields[statusColumn].trimmingCharacters(in: .whitespaces).lowercased() == SubscriptionStatus.unsubscribed.rawValue {
                result.skipped += 1; continue
            }
            guard let email = EmailAddress.normalize(first) else {
                result.errors.append(ImportProblem(line: line, message: "\"\(first.prefix(80))\" is not a valid email address")); continue
            }
            let name = fields.count > 1 ? fields[1].trimmingCharacters(in: .whitespaces) : ""
            let topics = fields.count > 2 ? fields[2].split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } : []
            if let unknown = topics.first(where: { !allowed.contains($0) }) {
                result.errors.append(ImportProblem(line: line, message: "unknown topic \"\(unknown.prefix(40))\"")); continue
            }
            if name.count > NewContactSubmission.Limits.name {
                result.errors.append(ImportProblem(line: line, message: "the name is longer than \(NewContactSubmission.Limits.name) characters")); continue
            }
            accepted.append((line, NewSubscription(email: email, name: name.isEmpty ? nil : name, topics: topics)))
        }
        let version = settings.consentVersion
        let mailer = self.mailer
        let total = accepted.count
        progress?(0, total)
        for start in stride(from: 0, to: total, by: 500) {
            let rowsToImport = accepted[start..<min(total, start + 500)]
            let counts = try await database.writer.write { db -> (Int, Int) in
                var imported = 0
                var skipped = 0
                for (_, input) in rowsToImport {
                    if try NewsletterSubscription.filter(NewsletterSubscription.Columns.email == input.email).fetchCount(db) > 0 { skipped += 1; continue }
                    var row = NewsletterSubscription(
                        id: nil, email: input.email, name: input.name, status: confirmed ? .confirmed : .pending,
                        topics: String(decoding: try JSONEncoder.sorted.encode(input.topics), as: UTF8.self), token: Secrets.urlSafeToken(),
                        consentVersion: confirmed ? "import" : version, source: "import", clientNetwork: nil, subscribedAt: stamp,
                        confirmedAt: confirmed ? stamp : nil, unsubscribedAt: nil, confirmationSentAt: confirmed ? nil : stamp, updatedAt: stamp)
                    try row.insert(db)
                    if !confirmed { try mailer?.newsletterConfirmation(email: row.email, token: row.token, in: db) }
                    imported += 1
                }
                return (imported, skipped)
            }
            result.imported += counts.0
            result.skipped += counts.1
            progress?(min(total, start + 500), total)
        }
        return result
    }
}

/// RFC 4180 CSV: quoted fields with doubled quotes, CRLF or LF line ends. Cells that a spreadsheet
/// would run as a formula are prefixed with `'` on export (CSV injection).
package enum CSV {
    package static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var iterator = text.makeIterator()
        var pending: Character? = nil
        func next() -> Character? {
            if let p = pending { pending = nil; return p }
            return iterator.next()
        }
        while let c = next() {
            if quoted {
                if c == "\"" {
                    if let n = next() {
                        if n == "\"" { field.append("\"") } else { quoted = false; pending = n }
                    } else { quoted = false }
                } else { field.append(c) }
                continue
            }
            switch c {
            case "\"" where field.isEmpty: quoted = true
            case ",": row.append(field); field = ""
            case "\n", "\r\n": row.append(field); rows.append(row); row = []; field = ""
            case "\r": break
            default: field.append(c)
            }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }

    /// One CSV line (with CRLF) from cells.
    package static func line(_ cells: [String?]) -> String {
        cells.map { cell -> String in
            var value = cell ?? ""
            if let first = value.first, "=+-@\t\r".contains(first) { value = "'" + value }
            if value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
                return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            }
            return value
        }.joined(separator: ",") + "\r\n"
    }
}
