import Foundation
import GRDB

/// Notification banners: the table, every write (one named method, one transaction each) and
/// the reads the scheduler and the public document need. The only place with their SQL.
package struct EngageStore: Sendable {
    let database: AppDatabase
    /// The site's time zone: schedules are written as local date-times in it.
    package let timeZone: TimeZone
    /// Origins a call to action may leave the site for (the site's own, and the allow-list).
    package let allowedOrigins: Set<String>

    package init(database: AppDatabase, timeZone: TimeZone, allowedOrigins: Set<String>) {
        self.database = database
        self.timeZone = timeZone
        self.allowedOrigins = allowedOrigins
    }

    package static let migrations = [
        SchemaMigration("0050-notification-banners") { db in
            try db.execute(sql: """
                CREATE TABLE notification_banners (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    title TEXT NOT NULL,
                    type TEXT NOT NULL CHECK (type IN ('info', 'success', 'warning', 'error', 'promo')),
                    content_markdown TEXT NOT NULL,
                    content_html TEXT NOT NULL,
                    cta_label TEXT,
                    cta_url TEXT,
                    position TEXT NOT NULL CHECK (position IN ('top', 'bottom', 'inline')),
                    slot TEXT,
                    paths_json TEXT NOT NULL DEFAULT '[]',
                    locales_json TEXT NOT NULL DEFAULT '[]',
                    audience TEXT NOT NULL DEFAULT 'all' CHECK (audience IN ('all', 'new', 'returning')),
                    devices_json TEXT NOT NULL DEFAULT '[]',
                    priority INTEGER NOT NULL DEFAULT 0,
                    dismissible INTEGER NOT NULL DEFAULT 1,
                    version INTEGER NOT NULL DEFAULT 1,
                    status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
                    starts_local TEXT,
                    ends_local TEXT,
                    starts_at TEXT,
                    ends_at TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    CHECK ((position = 'inline') = (slot IS NOT NULL))
                ) STRICT;
                CREATE INDEX notification_banners_live ON notification_banners(status, starts_at, ends_at);
                """)
        },
    ]

    // MARK: Reads

    package func banners() async throws -> [Banner] {
        try await database.read { db in try Banner.fetchAll(db, sql: "SELECT * FROM notification_banners ORDER BY priority DESC, id") }
    }

    package func banner(id: Int64) async throws -> Banner {
        try await database.read { db in try Self.require(id, db) }
    }

    /// The banners live at `date`, best first (priority, then the newest).
    package func liveBanners(at date: Date) async throws -> [Banner] {
        try await database.read { db in
            try Banner.fetchAll(db, sql: "SELECT * FROM notification_banners WHERE status = 'published' ORDER BY priority DESC, id DESC")
        }.filter { $0.isLive(at: date) }
    }

    /// The first schedule edge (a start or an end of a published banner) after `date`, if any.
    package func nextEdge(after date: Date) async throws -> Date? {
        let now = Timestamps.iso8601(date)
        let text = try await database.read { db in
            try String.fetchOne(db, sql: """
                SELECT MIN(edge) FROM (
                    SELECT starts_at AS edge FROM notification_banners WHERE status = 'published' AND starts_at > ?
                    UNION ALL
                    SELECT ends_at FROM notification_banners WHERE status = 'published' AND ends_at > ?)
                """, arguments: [now, now])
        }
        return text.flatMap(EngageLimits.instant)
    }

    // MARK: Writes

    package func createBanner(_ input: BannerInput, now: Date) async throws -> Banner {
        let stamp = Timestamps.iso8601(now)
        var banner = Banner(id: nil, title: "", type: "info", contentMarkdown: "", contentHTML: "", ctaLabel: nil, ctaURL: nil, position: "top",
                            slot: nil, pathsJSON: "[]", localesJSON: "[]", audience: "all", devicesJSON: "[]", priority: 0, dismissible: true,
                            version: 1, status: "draft", startsLocal: nil, endsLocal: nil, startsAt: nil, endsAt: nil, createdAt: stamp, updatedAt: stamp)
        try apply(input, to: &banner)
        let ready = banner
        return try await database.writer.write { db in
            var row = ready
            try row.insert(db)
            return row
        }
    }

    package func updateBanner(id: Int64, _ input: BannerInput, now: Date) async throws -> Banner {
        try await database.writer.write { db in
            var banner = try Self.require(id, db)
            let seen = (banner.title, banner.type, banner.contentMarkdown, banner.ctaLabel, banner.ctaURL, banner.dismissible)
            try apply(input, to: &banner)
            if seen != (banner.title, banner.type, banner.contentMarkdown, banner.ctaLabel, banner.ctaURL, banner.dismissible) { banner.version += 1 }
            banner.updatedAt = Timestamps.iso8601(now)
            try banner.update(db)
            return banner
        }
    }

    /// Publishes (live inside its schedule) or withdraws a banner.
    package func setStatus(id: Int64, published: Bool, now: Date) async throws -> Banner {
        try await database.writer.write { db in
            var banner = try Self.require(id, db)
            banner.status = published ? "published" : "draft"
            banner.updatedAt = Timestamps.iso8601(now)
            try banner.update(db)
            return banner
        }
    }

    package func deleteBanner(id: Int64) async throws {
        try await database.writer.write { db in
            try db.execute(sql: "DELETE FROM notification_banners WHERE id = ?", arguments: [id])
            if db.changesCount == 0 { throw FrontdeskError.notFound("Banner \(id)") }
        }
    }

    // MARK: Rules between fields

    /// Applies `input` to `banner` and checks the whole: an inline banner names its slot, a top
    /// or bottom bar has none, the schedule's local times exist in the site's time zone and the
    /// end comes after the start, a call to action stays on the site or the allow-list.
    func apply(_ input: BannerInput, to banner: inout Banner) throws {
        var problems: [String: String] = [:]
        if let v = input.title { banner.title = v }
        if let v = input.type { banner.type = v }
        if let v = input.content {
            banner.contentMarkdown = v
            banner.contentHTML = SafeMarkdown.render(v)
        }
        if let v = input.ctaLabel { banner.ctaLabel = v }
        if let v = input.ctaURL { banner.ctaURL = v }
        if let v = input.position { banner.position = v }
        if let v = input.slot { banner.slot = v }
        if let v = input.paths { banner.pathsJSON = Banner.json(v) }
        if let v = input.locales { banner.localesJSON = Banner.json(v) }
        if let v = input.audience { banner.audience = v }
        if let v = input.devices { banner.devicesJSON = Banner.json(v) }
        if let v = input.priority { banner.priority = v }
        if let v = input.dismissible { banner.dismissible = v }
        if let v = input.startsAt { banner.startsLocal = v }
        if let v = input.endsAt { banner.endsLocal = v }
        if banner.position == "inline" && banner.slot == nil { problems["slot"] = "is required for an inline banner: the name of its <frontdesk-banner slot=\"…\">" }
        if banner.position != "inline" && banner.slot != nil { problems["slot"] = "must be null unless position is inline" }
        if let url = banner.ctaURL, let problem = EngageLimits.urlProblem(url, allowedOrigins: allowedOrigins) { problems["cta.url"] = problem }
        var start: Date?
        var end: Date?
        for (key, local) in [("startsAt", banner.startsLocal), ("endsAt", banner.endsLocal)] {
            guard let local else { continue }
            switch EngageLimits.localInstant(local, in: timeZone) {
            case .success(let date): if key == "startsAt" { start = date } else { end = date }
            case .failure(let problem): problems[key] = problem.message
            }
        }
        if let start, let end, end <= start { problems["endsAt"] = "must be after startsAt: the schedule ends before it starts" }
        banner.startsAt = banner.startsLocal == nil ? nil : start.map(Timestamps.iso8601)
        banner.endsAt = banner.endsLocal == nil ? nil : end.map(Timestamps.iso8601)
        if !problems.isEmpty { throw FrontdeskError.validation(problems) }
    }

    static func require(_ id: Int64, _ db: Database) throws -> Banner {
        guard let banner = try Banner.fetchOne(db, sql: "SELECT * FROM notification_banners WHERE id = ?", arguments: [id]) else {
            throw FrontdeskError.notFound("Banner \(id)")
        }
        return banner
    }
}

/// Holdout and variant assignment: a stable hash of the rule and the visitor id, so a visitor
/// keeps their group across pages and visits and the groups keep their configured shares.
package enum EngageAssignment {
    /// FNV-1a (32 bit) of `"<rule>:<visitor>"`, mixed by MurmurHash3's finaliser and reduced
    /// to a bucket 0..<10,000. 32-bit arithmetic, so the page can compute the same with
    /// `Math.imul` (`engage.ts`) and no request is needed.
    package static func bucket(rule: Int64, visitor: String) -> Int {
        var hash: UInt32 = 0x811c_9dc5
        for byte in "\(rule):\(visitor)".utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        hash ^= hash >> 16; hash = hash &* 0x85eb_ca6b
        hash ^= hash >> 13; hash = hash &* 0xc2b2_ae35
        hash ^= hash >> 16
        return Int(hash % 10_000)
    }

    /// Whether the visitor is in the holdout of `percent` (0–100) for `rule`.
    package static func isHeldOut(rule: Int64, visitor: String, percent: Double) -> Bool {
        Double(bucket(rule: rule, visitor: visitor)) < percent * 100
    }
}
