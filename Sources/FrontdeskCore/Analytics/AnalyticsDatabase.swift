import Foundation
import GRDB
import Logging
import Metrics

/// The second SQLite file, `analytics.sqlite`: raw page views and events, visits, rollups,
/// goals and funnels. It has its own `DatabasePool` (so a flood of beacons never waits on, or
/// delays, a chat message in `frontdesk.sqlite`), its own migrations (ids `a0001-…`) and its
/// own writers: the batch writer for events and a group-commit writer for goal and funnel edits.
///
/// The layout is compact by design (≤ 60 bytes per raw event after `VACUUM`): every string a
/// dashboard groups by (path, source, country, browser, …) is stored once in `analytics_strings`
/// and referred to by integer id; times are integer Unix seconds; the rollup tables are
/// `WITHOUT ROWID` with their natural keys.
package final class AnalyticsDatabase: Sendable {
    package let pool: DatabasePool
    package let path: String
    /// Goal and funnel edits (the batch writer uses `pool` directly, one transaction per batch).
    package let writer: GroupCommitWriter

    /// Opens (creating if needed) `analytics.sqlite` at `path` and applies its migrations.
    package init(path: String, synchronous: SynchronousMode = .normal, logger: Logger = Logger(label: "frontdesk.analytics"),
                 metrics: any MetricsFactory = NOOPMetricsHandler.instance) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.maximumReaderCount = 4
        configuration.label = "analytics"
        let syncPragma = synchronous == .full ? "FULL" : "NORMAL"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(syncPragma)")
        }
        self.path = path
        self.pool = try DatabasePool(path: path, configuration: configuration)
        self.writer = GroupCommitWriter(pool: pool, logger: logger, metrics: metrics)
        try Self.migrator.migrate(pool)
    }

    /// Flushes the WAL into the main file and closes every connection.
    package func close() throws {
        try? pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        try pool.close()
    }

    /// Rewrites the file without free pages (for `analytics generate` and the size benchmark).
    package func vacuum() throws {
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "VACUUM")
            _ = try db.checkpoint(.truncate)
        }
    }

    /// The analytics schema history: append-only, ids `a0001-…`, raw table names only.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("a0001-analytics-core") { db in
            // kind: see `AnalyticsDimension` (1 page, 4 source, …); one id space for every kind.
            try db.execute(sql: """
                CREATE TABLE analytics_strings (
                    id INTEGER PRIMARY KEY,
                    kind INTEGER NOT NULL,
                    value TEXT NOT NULL,
                    UNIQUE (kind, value)
                ) STRICT;
                CREATE TABLE visitor_sessions (
                    id INTEGER PRIMARY KEY,
                    visitor INTEGER NOT NULL,
                    started_at INTEGER NOT NULL,
                    last_seen_at INTEGER NOT NULL,
                    entry_page INTEGER NOT NULL,
                    exit_page INTEGER NOT NULL,
                    pageviews INTEGER NOT NULL,
                    engaged_ms INTEGER NOT NULL,
                    source INTEGER NOT NULL,
                    referrer INTEGER NOT NULL,
                    utm_source INTEGER NOT NULL,
                    utm_medium INTEGER NOT NULL,
                    utm_campaign INTEGER NOT NULL,
                    country INTEGER NOT NULL,
                    device INTEGER NOT NULL,
                    browser INTEGER NOT NULL,
                    os INTEGER NOT NULL
                ) STRICT;
                CREATE INDEX visitor_sessions_started ON visitor_sessions(started_at);
                CREATE TABLE visitor_events (
                    id INTEGER PRIMARY KEY,
                    t INTEGER NOT NULL,
                    session_id INTEGER NOT NULL,
                    event_type INTEGER NOT NULL,
                    page INTEGER NOT NULL,
                    name INTEGER,
                    engaged_ms INTEGER,
                    scroll_depth INTEGER,
                    props TEXT
                ) STRICT;
                CREATE INDEX visitor_events_t ON visitor_events(t);
                CREATE TABLE analytics_hourly (
                    dim INTEGER NOT NULL,
                    hour INTEGER NOT NULL,
                    value INTEGER NOT NULL,
                    pageviews INTEGER NOT NULL DEFAULT 0,
                    visits INTEGER NOT NULL DEFAULT 0,
                    bounces INTEGER NOT NULL DEFAULT 0,
                    engaged_ms INTEGER NOT NULL DEFAULT 0,
                    events INTEGER NOT NULL DEFAULT 0,
                    visitors INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (dim, hour, value)
                ) WITHOUT ROWID, STRICT;
                CREATE TABLE analytics_daily (
                    dim INTEGER NOT NULL,
                    day INTEGER NOT NULL,
                    value INTEGER NOT NULL,
                    pageviews INTEGER NOT NULL DEFAULT 0,
                    visits INTEGER NOT NULL DEFAULT 0,
                    bounces INTEGER NOT NULL DEFAULT 0,
                    engaged_ms INTEGER NOT NULL DEFAULT 0,
                    events INTEGER NOT NULL DEFAULT 0,
                    visitors INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (dim, day, value)
                ) WITHOUT ROWID, STRICT;
                CREATE TABLE analytics_day_sketches (
                    day INTEGER PRIMARY KEY,
                    registers BLOB NOT NULL
                ) STRICT;
                CREATE TABLE analytics_goals (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL UNIQUE,
                    kind TEXT NOT NULL CHECK (kind IN ('page', 'event')),
                    pattern TEXT NOT NULL,
                    property_key TEXT,
                    property_value TEXT,
                    created_at INTEGER NOT NULL
                ) STRICT;
                CREATE TABLE analytics_funnels (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL UNIQUE,
                    steps TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                ) STRICT;
                INSERT INTO analytics_strings (id, kind, value) VALUES (0, 0, '(none)'), (1, 99, '(other)');
                """)
        }
        return migrator
    }
}

/// What the rollups are kept per; the raw value is the `dim` column and the string kind.
package enum AnalyticsDimension: Int, Sendable, CaseIterable {
    case total = 0
    case page = 1
    case entryPage = 2
    case exitPage = 3
    case source = 4
    case referrer = 5
    case utmSource = 6
    case utmMedium = 7
    case utmCampaign = 8
    case country = 9
    case device = 10
    case browser = 11
    case os = 12
    case eventName = 13

    /// The API's name for it (`breakdown?by=…`).
    package var apiName: String {
        switch self {
        case .total: return "total"
        case .page: return "page"
        case .entryPage: return "entry_page"
        case .exitPage: return "exit_page"
        case .source: return "source"
        case .referrer: return "referrer"
        case .utmSource: return "utm_source"
        case .utmMedium: return "utm_medium"
        case .utmCampaign: return "utm_campaign"
        case .country: return "country"
        case .device: return "device"
        case .browser: return "browser"
        case .os: return "os"
        case .eventName: return "event"
        }
    }

    package static let breakdowns: [AnalyticsDimension] = allCases.filter { $0 != .total }

    package init?(apiName: String) {
        guard let found = Self.allCases.first(where: { $0.apiName == apiName && $0 != .total }) else { return nil }
        self = found
    }

    /// The string kind its values are stored under (entry and exit pages are pages).
    package var stringKind: Int {
        switch self {
        case .entryPage, .exitPage: return AnalyticsDimension.page.rawValue
        default: return rawValue
        }
    }

    /// The `visitor_sessions` column of a visit-level dimension.
    package var sessionColumn: String? {
        switch self {
        case .entryPage: return "entry_page"
        case .exitPage: return "exit_page"
        case .source: return "source"
        case .referrer: return "referrer"
        case .utmSource: return "utm_source"
        case .utmMedium: return "utm_medium"
        case .utmCampaign: return "utm_campaign"
        case .country: return "country"
        case .device: return "device"
        case .browser: return "browser"
        case .os: return "os"
        case .total, .page, .eventName: return nil
        }
    }

    /// Dimensions fixed when a visit starts, rolled up at its start hour.
    package static let visitFixed: [AnalyticsDimension] = [.entryPage, .source, .referrer, .utmSource, .utmMedium, .utmCampaign, .country, .device, .browser, .os]
}

/// The value strings stand for: "(none)" (id 0, no value: no referrer, no UTM) and "(other)"
/// (the tail folded past the per-hour cap).
package enum AnalyticsStrings {
    package static let noneID: Int64 = 0
    package static let none = "(none)"
    package static let other = "(other)"
    package static let otherID: Int64 = 1
    /// Kind of the "(other)" string: one id for every dimension.
    package static let otherKind = 99
}
