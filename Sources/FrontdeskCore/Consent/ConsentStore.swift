import Foundation
import GRDB
import Logging
import Synchronization

/// One published version of the banner (table `consent_versions`, never changed once written).
package struct ConsentVersion: Sendable, Equatable {
    package let version: Int
    package let configuration: ConsentConfiguration
    /// SHA-256 of the shown document per locale.
    package let textHashes: [String: String]
    /// The oldest version whose consent still counts: a version that adds a purpose or a service
    /// sets it to itself, so everyone who consented before is asked again.
    package let promptSince: Int
    /// `config` (from the TOML defaults) or `console` (published in the editor).
    package let source: String
    package let publishedAt: String
    package let publishedBy: Int64?
}

/// One proof of consent (table `consent_records`: append-only, UPDATE and DELETE refused by triggers).
package struct ConsentRecord: Codable, Sendable, Equatable, FetchableRecord {
    package var id: Int64
    package var consentID: String
    package var action: String
    /// Categories granted and denied, comma-separated in banner order.
    package var granted: String
    package var denied: String
    package var policyVersion: Int
    package var textHash: String
    package var locale: String
    package var pagePath: String
    package var createdAt: String
    /// The client's network, never its address: IPv4 /24, IPv6 /48.
    package var clientNetwork: String
    package var browserFamily: String
    package var gpc: Bool

    enum CodingKeys: String, CodingKey {
        case id, action, granted, denied, locale, gpc
        case consentID = "consent_id"
        case policyVersion = "policy_version"
        case textHash = "text_hash"
        case pagePath = "page_path"
        case createdAt = "created_at"
        case clientNetwork = "client_network"
        case browserFamily = "browser_family"
    }

    /// The columns of an export, in order.
    package static let exportHeader = ["id", "consent_id", "action", "granted", "denied", "policy_version", "text_hash", "locale", "page_path",
                                       "created_at", "client_network", "browser_family", "gpc"]
    package var exportFields: [String?] {
        [String(id), consentID, action, granted, denied, String(policyVersion), textHash, locale, pagePath, createdAt, clientNetwork, browserFamily, gpc ? "true" : "false"]
    }
}

/// A record as the console and the JSON export show it (camelCase, categories as arrays).
package struct ConsentRecordView: Codable, Sendable, Equatable {
    package let id: Int64
    package let consentId: String
    package let action: String
    package let granted: [String]
    package let denied: [String]
    package let version: Int
    package let hash: String
    package let locale: String
    package let pagePath: String
    package let createdAt: String
    package let clientNetwork: String
    package let browserFamily: String
    package let gpc: Bool

    package init(_ r: ConsentRecord) {
        id = r.id
        consentId = r.consentID
        action = r.action
        granted = r.granted.split(separator: ",").map(String.init)
        denied = r.denied.split(separator: ",").map(String.init)
        version = r.policyVersion
        hash = r.textHash
        locale = r.locale
        pagePath = r.pagePath
        createdAt = r.createdAt
        clientNetwork = r.clientNetwork
        browserFamily = r.browserFamily
        gpc = r.gpc
    }
}

/// A consent as the widget posts it, checked for form by the controller.
package struct NewConsent: Sendable, Equatable {
    package static let actions = ["accept_all", "reject_all", "custom", "withdraw", "expired"]
    package var consentID: String?
    package var action: String
    package var granted: [String]
    package var version: Int
    package var textHash: String
    package var locale: String
    package var pagePath: String
    package var gpc: Bool

    package init(consentID: String?, action: String, granted: [String], version: Int, textHash: String, locale: String, pagePath: String, gpc: Bool) {
        self.consentID = consentID
        self.action = action
        self.granted = granted
        self.version = version
        self.textHash = textHash
        self.locale = locale
        self.pagePath = pagePath
        self.gpc = gpc
    }
}

/// Which records a search, an export or the statistics cover. Dates are UTC days (`2026-12-01`), both inclusive.
package struct ConsentRecordFilter: Sendable, Equatable {
    package var consentID: String?
    package var from: String?
    package var to: String?

    package init(consentID: String? = nil, from: String? = nil, to: String? = nil) {
        self.consentID = consentID
        self.from = from
        self.to = to
    }

    /// True for a `YYYY-MM-DD` that is a real date.
    package static func isDay(_ text: String) -> Bool {
        guard text.count == 10 else { return false }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.date(from: text).map { formatter.string(from: $0) == text } ?? false
    }

    var sql: SQLFilter {
        var filter = SQLFilter()
        if let consentID { filter.add("consent_id = ?", consentID) }
        // created_at is ISO 8601 UTC, so text comparison is time order; `to` covers its whole day.
        if let from { filter.add("created_at >= ?", from) }
        if let to { filter.add("created_at < ?", to + "T99") }
        return filter
    }
}

/// One row of the statistics: a day and a policy version with the count of each action.
package struct ConsentDailyStatistics: Codable, Sendable, Equatable {
    package var day: String
    package var version: Int
    package var acceptAll = 0
    package var rejectAll = 0
    package var custom = 0
    package var withdraw = 0
    package var expired = 0

    /// Choices made in the banner (accept all, reject all, custom): the base of the rates.
    package var choices: Int { acceptAll + rejectAll + custom }
    package var acceptRate: Double { choices == 0 ? 0 : Double(acceptAll) / Double(choices) }
    package var rejectRate: Double { choices == 0 ? 0 : Double(rejectAll) / Double(choices) }
    package var customRate: Double { choices == 0 ? 0 : Double(custom) / Double(choices) }
}

/// A removal of consent records, as the removal log keeps it (table `consent_removals`).
package struct ConsentRemoval: Codable, Sendable, Equatable, FetchableRecord {
    package var id: Int64
    package var reason: String
    package var consentID: String?
    package var rows: Int
    package var removedAt: String

    enum CodingKeys: String, CodingKey {
        case id, reason, rows
        case consentID = "consent_id"
        case removedAt = "removed_at"
    }
}

/// Published banner versions, the editor's draft and the append-only proof-of-consent log; the
/// only place that knows their SQL.
package final class ConsentStore: Sendable {
    let database: AppDatabase
    let logger: Logger
    /// The latest published version, decoded once and replaced when a newer one exists.
    private let latestVersion = Mutex<ConsentVersion?>(nil)

    package init(database: AppDatabase, logger: Logger = Logger(label: "frontdesk.consent")) {
        self.database = database
        self.logger = logger
    }

    package static let migrations = [
        SchemaMigration("0013-consent") { db in
            try db.execute(sql: """
                CREATE TABLE consent_versions (
                    version INTEGER PRIMARY KEY,
                    configuration TEXT NOT NULL,
                    text_hashes TEXT NOT NULL,
                    prompt_since INTEGER NOT NULL,
                    source TEXT NOT NULL CHECK (source IN ('config', 'console')),
                    published_at TEXT NOT NULL,
                    published_by INTEGER
                ) STRICT;
                CREATE TRIGGER consent_versions_no_update BEFORE UPDATE ON consent_versions
                BEGIN SELECT RAISE(ABORT, 'consent versions are evidence and cannot be changed; publish a new version'); END;
                CREATE TRIGGER consent_versions_no_delete BEFORE DELETE ON consent_versions
                BEGIN SELECT RAISE(ABORT, 'consent versions are evidence and cannot be deleted'); END;
                CREATE TABLE consent_draft (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    configuration TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    updated_by INTEGER
                ) STRICT;
                CREATE TABLE consent_records (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    consent_id TEXT NOT NULL,
                    action TEXT NOT NULL CHECK (action IN ('accept_all', 'reject_all', 'custom', 'withdraw', 'expired')),
                    granted TEXT NOT NULL,
                    denied TEXT NOT NULL,
                    policy_version INTEGER NOT NULL REFERENCES consent_versions(version),
                    text_hash TEXT NOT NULL,
                    locale TEXT NOT NULL,
                    page_path TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    client_network TEXT NOT NULL,
                    browser_family TEXT NOT NULL,
                    gpc INTEGER NOT NULL CHECK (gpc IN (0, 1))
                ) STRICT;
                CREATE INDEX consent_records_consent_id ON consent_records(consent_id, id);
                CREATE INDEX consent_records_created ON consent_records(created_at);
                -- Deletions are allowed only while this one-row flag is set, which only the
                -- retention sweep and a privacy erasure do, inside their own transaction.
                CREATE TABLE consent_maintenance (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    deletions_allowed INTEGER NOT NULL CHECK (deletions_allowed IN (0, 1))
                ) STRICT;
                INSERT INTO consent_maintenance (id, deletions_allowed) VALUES (1, 0);
                CREATE TRIGGER consent_maintenance_no_delete BEFORE DELETE ON consent_maintenance
                BEGIN SELECT RAISE(ABORT, 'the consent maintenance flag cannot be deleted'); END;
                CREATE TRIGGER consent_records_no_update BEFORE UPDATE ON consent_records
                BEGIN SELECT RAISE(ABORT, 'consent records are append-only'); END;
                CREATE TRIGGER consent_records_no_delete BEFORE DELETE ON consent_records
                WHEN (SELECT deletions_allowed FROM consent_maintenance WHERE id = 1) IS NOT 1
                BEGIN SELECT RAISE(ABORT, 'consent records are append-only; only the retention sweep and a privacy erasure remove them'); END;
                CREATE TABLE consent_removals (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    reason TEXT NOT NULL CHECK (reason IN ('retention', 'erasure')),
                    consent_id TEXT,
                    rows INTEGER NOT NULL,
                    removed_at TEXT NOT NULL
                ) STRICT;
                CREATE TRIGGER consent_removals_no_update BEFORE UPDATE ON consent_removals
                BEGIN SELECT RAISE(ABORT, 'the consent removal log is append-only'); END;
                CREATE TRIGGER consent_removals_no_delete BEFORE DELETE ON consent_removals
                BEGIN SELECT RAISE(ABORT, 'the consent removal log is append-only'); END;
                """)
        },
    ]

    // MARK: - Versions

    /// Publishes `defaults` (the TOML configuration) as a new version when there is none yet, or
    /// when the latest was published from the configuration and the configuration changed since.
    /// A version published in the console stays until the next is published there.
    @discardableResult
    package func ensurePublished(defaults: ConsentConfiguration, now: Date) async throws -> ConsentVersion {
        if let latest = try await latest(), latest.source == "console" || latest.configuration == defaults { return latest }
        return try await publish(defaults, source: "config", by: nil, now: now)
    }

    /// Publishes `configuration` as the next version; refused (422) when it is not valid.
    package func publish(_ configuration: ConsentConfiguration, source: String, by user: Int64?, now: Date) async throws -> ConsentVersion {
        let problems = configuration.problems()
        if !problems.isEmpty { throw FrontdeskError.validation(problems) }
        let json = try Self.encode(configuration)
        let hashes = try Self.encode(configuration.textHashes)
        let published = try await database.writer.write { db -> ConsentVersion in
            let previous = try Self.fetchLatest(db)
            let number = (previous?.version ?? 0) + 1
            let promptSince = previous.map { configuration.purposes.isSubset(of: $0.configuration.purposes) ? $0.promptSince : number } ?? number
            let at = Timestamps.iso8601Milliseconds(now)
            try db.execute(sql: """
                INSERT INTO consent_versions (version, configuration, text_hashes, prompt_since, source, published_at, published_by)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [number, json, hashes, promptSince, source, at, user])
            return ConsentVersion(version: number, configuration: configuration, textHashes: configuration.textHashes, promptSince: promptSince,
                                  source: source, publishedAt: at, publishedBy: user)
        }
        latestVersion.withLock { $0 = published }
        logger.notice("consent version published", metadata: ["version": "\(published.version)", "prompt_since": "\(published.promptSince)",
                                                               "source": "\(source)", "by": "\(user.map(String.init) ?? "-")"])
        return published
    }

    /// The latest published version, or nil before the first.
    /// The decoded version is kept in memory; each call checks only the newest number, so a
    /// version published through another store (another process, a test) is seen at once.
    package func latest() async throws -> ConsentVersion? {
        let cached = latestVersion.withLock { $0 }
        let number = try await database.read { db in try Int.fetchOne(db, sql: "SELECT MAX(version) FROM consent_versions") }
        guard let number else { return nil }
        if let cached, cached.version == number { return cached }
        let latest = try await database.read { db in try Self.fetchLatest(db) }
        if let latest { latestVersion.withLock { $0 = latest } }
        return latest
    }

    /// One published version.
    package func version(_ number: Int) async throws -> ConsentVersion? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM consent_versions WHERE version = ?", arguments: [number]).map(Self.version)
        }
    }

    /// Every published version, newest first.
    package func versions() async throws -> [ConsentVersion] {
        try await database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM consent_versions ORDER BY version DESC").map(Self.version) }
    }

    static func fetchLatest(_ db: Database) throws -> ConsentVersion? {
        try Row.fetchOne(db, sql: "SELECT * FROM consent_versions ORDER BY version DESC LIMIT 1").map(version)
    }

    static func version(_ row: Row) throws -> ConsentVersion {
        ConsentVersion(version: row["version"], configuration: try JSONDecoder().decode(ConsentConfiguration.self, from: Data((row["configuration"] as String).utf8)),
                       textHashes: try JSONDecoder().decode([String: String].self, from: Data((row["text_hashes"] as String).utf8)),
                       promptSince: row["prompt_since"], source: row["source"], publishedAt: row["published_at"], publishedBy: row["published_by"])
    }

    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    // MARK: - Draft

    /// The editor's draft, or nil when none was saved since the last publish.
    package func draft() async throws -> (configuration: ConsentConfiguration, updatedAt: String)? {
        try await database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT configuration, updated_at FROM consent_draft WHERE id = 1") else { return nil }
            return (try JSONDecoder().decode(ConsentConfiguration.self, from: Data((row["configuration"] as String).utf8)), row["updated_at"])
        }
    }

    /// Saves the editor's draft (validated like a publish, so a draft can always be published).
    package func saveDraft(_ configuration: ConsentConfiguration, by user: Int64, now: Date) async throws {
        let problems = configuration.problems()
        if !problems.isEmpty { throw FrontdeskError.validation(problems) }
        let json = try Self.encode(configuration)
        try await database.writer.write { db in
            try db.execute(sql: """
                INSERT INTO consent_draft (id, configuration, updated_at, updated_by) VALUES (1, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET configuration = excluded.configuration, updated_at = excluded.updated_at, updated_by = excluded.updated_by
                """, arguments: [json, Timestamps.iso8601Milliseconds(now), user])
        }
    }

    /// Publishes the draft (or `configuration`) from the console and clears the draft, in one transaction.
    package func publishFromConsole(_ configuration: ConsentConfiguration, by user: Int64, now: Date) async throws -> ConsentVersion {
        let version = try await publish(configuration, source: "console", by: user, now: now)
        try await database.writer.write { db in try db.execute(sql: "DELETE FROM consent_draft") }
        return version
    }

    // MARK: - Proof of consent

    /// Why a consent post was refused; counted by the server per reason.
    package enum Refusal: String, Sendable, CaseIterable {
        case unknownVersion = "unknown_consent_version"
        case hashMismatch = "consent_hash_mismatch"
        case unknownCategory = "unknown_consent_category"
        case actionMismatch = "consent_action_mismatch"
    }

    /// Checks `consent` against the version it names and stores one proof row; returns it once
    /// committed. Refused (422) for a version that does not exist, a hash that is not the one of
    /// the texts that version showed in that locale, a category the version did not offer, or an
    /// action that contradicts the categories.
    package func record(_ consent: NewConsent, clientNetwork: String, browserFamily: String, now: Date) async throws -> ConsentRecord {
        guard let version = try await version(consent.version) else {
            throw refusal(.unknownVersion, "Version \(consent.version) of the consent banner was never published.", field: "version")
        }
        guard version.textHashes[consent.locale] == consent.textHash else {
            throw refusal(.hashMismatch, "The hash does not match the texts version \(consent.version) shows in \(consent.locale).", field: "hash")
        }
        let offered = version.configuration.offered
        let unknown = consent.granted.filter { !offered.contains($0) }
        if !unknown.isEmpty {
            throw refusal(.unknownCategory, "Version \(consent.version) does not offer " + unknown.joined(separator: ", ") + ".", field: "granted")
        }
        let granted = offered.filter { $0 == "necessary" || consent.granted.contains($0) }
        let denied = offered.filter { !granted.contains($0) }
        switch consent.action {
        case "accept_all" where !denied.isEmpty:
            throw refusal(.actionMismatch, "accept_all must grant every offered category.", field: "action")
        case "reject_all", "withdraw", "expired":
            if granted != ["necessary"] { throw refusal(.actionMismatch, "\(consent.action) grants only necessary.", field: "action") }
        default: break
        }
        let consentID = consent.consentID ?? Secrets.urlSafeToken(byteCount: 16)
        let at = Timestamps.iso8601Milliseconds(now)
        return try await database.writer.write { db in
            try db.execute(sql: """
                INSERT INTO consent_records (consent_id, action, granted, denied, policy_version, text_hash, locale, page_path, created_at,
                                             client_network, browser_family, gpc)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [consentID, consent.action, granted.joined(separator: ","), denied.joined(separator: ","), consent.version,
                                 consent.textHash, consent.locale, consent.pagePath, at, clientNetwork, browserFamily, consent.gpc ? 1 : 0])
            return ConsentRecord(id: db.lastInsertedRowID, consentID: consentID, action: consent.action, granted: granted.joined(separator: ","),
                                 denied: denied.joined(separator: ","), policyVersion: consent.version, textHash: consent.textHash, locale: consent.locale,
                                 pagePath: consent.pagePath, createdAt: at, clientNetwork: clientNetwork, browserFamily: browserFamily, gpc: consent.gpc)
        }
    }

    func refusal(_ reason: Refusal, _ message: String, field: String) -> FrontdeskError {
        FrontdeskError(.validation, code: reason.rawValue, message: message, details: [field: message])
    }

    /// One page of records under `filter`, newest first.
    package func records(_ filter: ConsentRecordFilter, page: Int, perPage: Int) async throws -> Page<ConsentRecord> {
        let query = ListQuery(page: page, perPage: perPage)
        return try await database.page(ConsentRecord.self, select: "SELECT * FROM consent_records", from: "consent_records", filter: filter.sql,
                                       order: "id DESC", query: query)
    }

    /// Up to `limit` records under `filter` with ids after `after`, by id (exports page through with this).
    package func exportBatch(_ filter: ConsentRecordFilter, after: Int64, limit: Int = 500) async throws -> [ConsentRecord] {
        try await database.batch(ConsentRecord.self, table: "consent_records", filter: filter.sql, after: after, limit: limit)
    }

    /// Counts per UTC day and policy version of each action under `filter`, by day then version.
    package func statistics(_ filter: ConsentRecordFilter) async throws -> [ConsentDailyStatistics] {
        let sql = filter.sql
        let rows = try await database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT substr(created_at, 1, 10) AS day, policy_version, action, COUNT(*) AS n FROM consent_records \(sql.sql)
                GROUP BY day, policy_version, action ORDER BY day, policy_version
                """, arguments: sql.statementArguments).map { row -> (String, Int, String, Int) in (row["day"], row["policy_version"], row["action"], row["n"]) }
        }
        var result: [ConsentDailyStatistics] = []
        for (day, version, action, count) in rows {
            if result.last?.day != day || result.last?.version != version { result.append(ConsentDailyStatistics(day: day, version: version)) }
            switch action {
            case "accept_all": result[result.count - 1].acceptAll = count
            case "reject_all": result[result.count - 1].rejectAll = count
            case "custom": result[result.count - 1].custom = count
            case "withdraw": result[result.count - 1].withdraw = count
            default: result[result.count - 1].expired = count
            }
        }
        return result
    }

    package func count() async throws -> Int {
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM consent_records") ?? 0 }
    }

    // MARK: - Removal (retention and erasure only)

    /// Deletes the records created before `cutoff` (the retention sweep) and logs that it did.
    @discardableResult
    package func sweep(before cutoff: Date, now: Date) async throws -> Int {
        try await remove(reason: "retention", consentID: nil, where: "created_at < ?", Timestamps.iso8601Milliseconds(cutoff), now: now)
    }

    /// Deletes every record of one consent id (a privacy erasure the visitor asked for) and logs that it did.
    @discardableResult
    package func erase(consentID: String, now: Date) async throws -> Int {
        try await remove(reason: "erasure", consentID: consentID, where: "consent_id = ?", consentID, now: now)
    }

    /// The one way rows leave `consent_records`: the triggers allow a DELETE only while the
    /// maintenance flag is set, and the flag is set and cleared inside this one transaction, so
    /// no other statement ever sees it set. The removal is logged in `consent_removals` (same
    /// transaction) and in the server log.
    private func remove(reason: String, consentID: String?, where clause: String, _ argument: String, now: Date) async throws -> Int {
        let removed = try await database.writer.write { db -> Int in
            try db.execute(sql: "UPDATE consent_maintenance SET deletions_allowed = 1 WHERE id = 1")
            try db.execute(sql: "DELETE FROM consent_records WHERE \(clause)", arguments: [argument])
            let rows = db.changesCount
            try db.execute(sql: "UPDATE consent_maintenance SET deletions_allowed = 0 WHERE id = 1")
            if rows > 0 || reason == "erasure" {
                try db.execute(sql: "INSERT INTO consent_removals (reason, consent_id, rows, removed_at) VALUES (?, ?, ?, ?)",
                               arguments: [reason, consentID, rows, Timestamps.iso8601Milliseconds(now)])
            }
            return rows
        }
        if removed > 0 || reason == "erasure" {
            logger.notice("consent records removed", metadata: ["reason": "\(reason)", "rows": "\(removed)", "consent_id": "\(consentID ?? "-")"])
        }
        return removed
    }

    /// The removal log, newest first.
    package func removals() async throws -> [ConsentRemoval] {
        try await database.read { db in try ConsentRemoval.fetchAll(db, sql: "SELECT * FROM consent_removals ORDER BY id DESC") }
    }
}
