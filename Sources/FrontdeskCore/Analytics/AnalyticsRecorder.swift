import Foundation
import GRDB

/// One accepted event as queued for the batch writer: the validated event plus what the server
/// derived from the request. It holds no client address and no user-agent string.
package struct AnalyticsHit: Sendable {
    /// Unix seconds when the server received it.
    package var time: Int64
    /// The truncated-hash visitor id (cookieless daily, or the consented persistent one).
    package var visitor: Int64
    package var event: IngestEvent
    package var source: String
    /// Referring host + path, nil for none or an internal link.
    package var referrer: String?
    package var country: String?
    package var device: String
    package var browser: String
    package var os: String

    package init(time: Int64, visitor: Int64, event: IngestEvent, source: String, referrer: String?, country: String?,
                 device: String, browser: String, os: String) {
        self.time = time
        self.visitor = visitor
        self.event = event
        self.source = source
        self.referrer = referrer
        self.country = country
        self.device = device
        self.browser = browser
        self.os = os
    }
}

/// Turns batches of hits into rows: raw `visitor_events`, `visitor_sessions` (visits) and the
/// rollups, all in the caller's one transaction. Used by one writer at a time (the batch writer,
/// or `analytics generate` through it); it keeps the open visits and the current hour's and
/// day's unique-visitor sets in memory.
///
/// Rules (the README states them):
/// - A visit ends after 30 minutes without a page view or event; the next one starts a new visit.
///   An engagement report extends the visit it measured when its engaged time began within the
///   visit's 30 minutes (a reader who stayed 40 minutes on one page still has one visit).
/// - Bounce: a visit with exactly one page view and less than 10 s engaged.
/// - Page views, events and the page's engaged time count in the hour they happened; visits,
///   bounces, the visit's engaged time and its visitor count in the hour the visit started.
/// - Per dimension and hour (and per dimension and day for daily uniques) at most
///   `maxValuesPerPeriod` distinct values are kept; later new values are counted as `(other)`.
package final class AnalyticsRecorder: @unchecked Sendable {
    package static let visitTimeout: Int64 = 30 * 60
    package static let bounceEngagedMs = 10_000

    struct Visit {
        var id: Int64
        var startedAt: Int64
        var lastSeenAt: Int64
        var pageviews: Int
        var engagedMs: Int
        var entryPage: Int64
        var exitPage: Int64
        /// Raw string ids of the fixed dimensions, in `AnalyticsDimension.visitFixed` order.
        var fixed: [Int64]
        var isBounce: Bool { pageviews == 1 && engagedMs < AnalyticsRecorder.bounceEngagedMs }
    }

    struct RollupKey: Hashable { var dim: Int; var period: Int64; var value: Int64 }
    struct Metrics { var pageviews = 0, visits = 0, bounces = 0, engagedMs = 0, events = 0, visitors = 0 }
    struct UniqueKey: Hashable { var dim: Int; var value: Int64; var visitor: Int64 }
    struct FoldKey: Hashable { var daily: Bool; var period: Int64; var dim: Int }

    private let days: LocalDays
    package let maxValuesPerPeriod: Int
    private var strings: [Int: [String: Int64]] = [:]
    private var visits: [Int64: Visit] = [:]
    private var hourUniques: [Int64: Set<UniqueKey>] = [:]
    private var dayUniques: [Int64: Set<UniqueKey>] = [:]
    private var folds: [FoldKey: Set<Int64>] = [:]
    private var sketches: [Int64: HyperLogLog] = [:]
    private var dayOfHour: [Int64: Int64] = [:]
    private var loadedOpenVisits = false
    /// Engagement reports with no visit to extend (dropped).
    package private(set) var orphanEngagements = 0

    // The batch in progress.
    private var hourly: [RollupKey: Metrics] = [:]
    private var daily: [RollupKey: Metrics] = [:]
    private var touched: [Int64: Visit] = [:]
    private var dirtySketches: Set<Int64> = []

    package init(timeZone: TimeZone, maxValuesPerPeriod: Int) {
        self.days = LocalDays(timeZone: timeZone)
        self.maxValuesPerPeriod = maxValuesPerPeriod
    }

    /// Forgets everything cached (after a failed transaction, the database is the truth).
    package func reset() {
        strings = [:]; visits = [:]; hourUniques = [:]; dayUniques = [:]; folds = [:]; sketches = [:]
        loadedOpenVisits = false
        hourly = [:]; daily = [:]; touched = [:]; dirtySketches = []
    }

    /// Records `hits` (in arrival order) inside the caller's transaction.
    package func record(_ hits: [AnalyticsHit], in db: Database) throws {
        foldDatabase = db
        defer { foldDatabase = nil }
        hourly = [:]; daily = [:]; touched = [:]; dirtySketches = []
        if !loadedOpenVisits, let first = hits.first { try loadOpenVisits(db, now: first.time) }
        for hit in hits { try record(hit, db) }
        try flushBatch(db)
        if let last = hits.last { prune(now: last.time) }
    }

    private func record(_ hit: AnalyticsHit, _ db: Database) throws {
        let t = hit.time
        let hour = t / 3600
        let day = localDay(hour: hour)
        let page = try id(.page, hit.event.path, db)
        switch hit.event.kind {
        case .pageview:
            if var visit = active(hit.visitor, at: t) {
                let wasBounce = visit.isBounce
                let oldExit = visit.exitPage
                visit.pageviews += 1
                visit.lastSeenAt = max(visit.lastSeenAt, t)
                visit.exitPage = page
                moveExit(visit, from: oldExit, to: page)
                adjustBounce(visit, was: wasBounce)
                store(visit, visitor: hit.visitor)
            } else {
                try startVisit(hit, page: page, pageviews: 1, db)
            }
            let visit = visits[hit.visitor]!
            add(.total, hour, 0) { $0.pageviews += 1 }
            add(.page, hour, page) { $0.pageviews += 1 }
            for (index, dim) in AnalyticsDimension.visitFixed.enumerated() {
                add(dim, hour, visit.fixed[index]) { $0.pageviews += 1 }
            }
            unique(.page, page, hit.visitor, hour: hour, day: day)
            try insertEvent(hit, visit: visit.id, page: page, name: nil, db)
        case .event:
            if var visit = active(hit.visitor, at: t) {
                visit.lastSeenAt = max(visit.lastSeenAt, t)
                store(visit, visitor: hit.visitor)
            } else {
                try startVisit(hit, page: page, pageviews: 0, db)
            }
            let visit = visits[hit.visitor]!
            let name = try id(.eventName, hit.event.name ?? "", db)
            add(.total, hour, 0) { $0.events += 1 }
            add(.eventName, hour, name) { $0.events += 1 }
            unique(.eventName, name, hit.visitor, hour: hour, day: day)
            try insertEvent(hit, visit: visit.id, page: page, name: name, db)
        case .engagement:
            let engaged = hit.event.engagedMs ?? 0
            guard var visit = visits[hit.visitor], t - Int64(engaged / 1000) <= visit.lastSeenAt + Self.visitTimeout else {
                orphanEngagements += 1
                return
            }
            let wasBounce = visit.isBounce
            visit.engagedMs += engaged
            visit.lastSeenAt = max(visit.lastSeenAt, t)
            adjustBounce(visit, was: wasBounce)
            let start = visit.startedAt / 3600
            add(.total, start, 0) { $0.engagedMs += engaged }
            for (index, dim) in AnalyticsDimension.visitFixed.enumerated() {
                add(dim, start, visit.fixed[index]) { $0.engagedMs += engaged }
            }
            add(.page, hour, page) { $0.engagedMs += engaged }
            store(visit, visitor: hit.visitor)
            let name = try hit.event.name.map { try id(.eventName, $0, db) }
            try insertEvent(hit, visit: visit.id, page: page, name: name, db)
        }
    }

    /// The visitor's visit that is still open at `t` (seen within 30 minutes).
    private func active(_ visitor: Int64, at t: Int64) -> Visit? {
        guard let visit = visits[visitor], t - visit.lastSeenAt <= Self.visitTimeout else { return nil }
        return visit
    }

    private func store(_ visit: Visit, visitor: Int64) {
        visits[visitor] = visit
        touched[visit.id] = visit
    }

    private func startVisit(_ hit: AnalyticsHit, page: Int64, pageviews: Int, _ db: Database) throws {
        let e = hit.event
        let values: [(AnalyticsDimension, String?)] = [
            (.source, hit.source), (.referrer, hit.referrer), (.utmSource, e.utmSource), (.utmMedium, e.utmMedium), (.utmCampaign, e.utmCampaign),
            (.country, hit.country), (.device, hit.device), (.browser, hit.browser), (.os, hit.os),
        ]
        var fixed: [Int64] = [page]
        for (dim, value) in values { fixed.append(try value.map { try id(dim, $0, db) } ?? AnalyticsStrings.noneID) }
        try db.cachedStatement(sql: """
            INSERT INTO visitor_sessions (visitor, started_at, last_seen_at, entry_page, exit_page, pageviews, engaged_ms, source, referrer,
                utm_source, utm_medium, utm_campaign, country, device, browser, os) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: StatementArguments([hit.visitor, hit.time, hit.time, page, page, pageviews] + fixed.dropFirst().map { $0 as (any DatabaseValueConvertible)? }))
        let visit = Visit(id: db.lastInsertedRowID, startedAt: hit.time, lastSeenAt: hit.time, pageviews: pageviews, engagedMs: 0,
                          entryPage: page, exitPage: page, fixed: fixed)
        visits[hit.visitor] = visit
        let hour = hit.time / 3600
        let day = localDay(hour: hour)
        let bounce = visit.isBounce ? 1 : 0
        add(.total, hour, 0) { $0.visits += 1; $0.bounces += bounce }
        unique(.total, 0, hit.visitor, hour: hour, day: day)
        for (index, dim) in AnalyticsDimension.visitFixed.enumerated() {
            add(dim, hour, fixed[index]) { $0.visits += 1; $0.bounces += bounce }
            unique(dim, fixed[index], hit.visitor, hour: hour, day: day)
        }
        add(.exitPage, hour, page) { $0.visits += 1; $0.bounces += bounce }
        try sketchInsert(day: day, visitor: hit.visitor, db)
    }

    /// Keeps bounces right when a visit stops (or starts) being a bounce.
    private func adjustBounce(_ visit: Visit, was: Bool) {
        guard visit.isBounce != was else { return }
        let delta = visit.isBounce ? 1 : -1
        let hour = visit.startedAt / 3600
        add(.total, hour, 0) { $0.bounces += delta }
        for (index, dim) in AnalyticsDimension.visitFixed.enumerated() {
            add(dim, hour, visit.fixed[index]) { $0.bounces += delta }
        }
        add(.exitPage, hour, visit.exitPage) { $0.bounces += delta }
    }

    /// A new exit page moves the visit (and its bounce, when it is one) between exit-page rows.
    /// Called before `adjustBounce`, with the visit's state after the page view.
    private func moveExit(_ visit: Visit, from old: Int64, to new: Int64) {
        guard old != new else { return }
        let hour = visit.startedAt / 3600
        // The bounce flag moves with the row only as it was before this page view; adjustBounce
        // then corrects the new row.
        let wasBounce = visit.pageviews - 1 == 1 && visit.engagedMs < Self.bounceEngagedMs ? 1 : 0
        add(.exitPage, hour, old) { $0.visits -= 1; $0.bounces -= wasBounce }
        add(.exitPage, hour, new) { $0.visits += 1; $0.bounces += wasBounce }
    }

    private func add(_ dim: AnalyticsDimension, _ hour: Int64, _ value: Int64, _ change: (inout Metrics) -> Void) {
        let folded = fold(dim.rawValue, daily: false, period: hour, value: value)
        change(&hourly[RollupKey(dim: dim.rawValue, period: hour, value: folded), default: Metrics()])
        let day = localDay(hour: hour)
        let dayFolded = fold(dim.rawValue, daily: true, period: day, value: value)
        change(&daily[RollupKey(dim: dim.rawValue, period: day, value: dayFolded), default: Metrics()])
    }

    private func unique(_ dim: AnalyticsDimension, _ value: Int64, _ visitor: Int64, hour: Int64, day: Int64) {
        let hourValue = fold(dim.rawValue, daily: false, period: hour, value: value)
        if hourUniques[hour, default: []].insert(UniqueKey(dim: dim.rawValue, value: hourValue, visitor: visitor)).inserted {
            hourly[RollupKey(dim: dim.rawValue, period: hour, value: hourValue), default: Metrics()].visitors += 1
        }
        let dayValue = fold(dim.rawValue, daily: true, period: day, value: value)
        if dayUniques[day, default: []].insert(UniqueKey(dim: dim.rawValue, value: dayValue, visitor: visitor)).inserted {
            daily[RollupKey(dim: dim.rawValue, period: day, value: dayValue), default: Metrics()].visitors += 1
        }
    }

    /// The value itself while fewer than the cap are known for the dimension and period, else `(other)`.
    private func fold(_ dim: Int, daily: Bool, period: Int64, value: Int64) -> Int64 {
        if dim == AnalyticsDimension.total.rawValue { return value }
        let key = FoldKey(daily: daily, period: period, dim: dim)
        if folds[key] == nil { folds[key] = (try? loadFold(key)) ?? [] }
        if folds[key]!.contains(value) { return value }
        if folds[key]!.count < maxValuesPerPeriod {
            folds[key]!.insert(value)
            return value
        }
        return AnalyticsStrings.otherID
    }

    private var foldDatabase: Database?

    private func loadFold(_ key: FoldKey) throws -> Set<Int64> {
        guard let db = foldDatabase else { return [] }
        let sql = key.daily ? "SELECT value FROM analytics_daily WHERE dim = ? AND day = ?"
                            : "SELECT value FROM analytics_hourly WHERE dim = ? AND hour = ?"
        return Set(try Int64.fetchAll(db, sql: sql, arguments: [key.dim, key.period]).filter { $0 != AnalyticsStrings.otherID })
    }

    private func localDay(hour: Int64) -> Int64 {
        if let day = dayOfHour[hour] { return day }
        let day = Int64(days.day(ofUnix: hour * 3600))
        dayOfHour[hour] = day
        return day
    }

    private func sketchInsert(day: Int64, visitor: Int64, _ db: Database) throws {
        if sketches[day] == nil {
            let bytes = try Data.fetchOne(db, sql: "SELECT registers FROM analytics_day_sketches WHERE day = ?", arguments: [day])
            sketches[day] = bytes.flatMap { HyperLogLog(bytes: [UInt8]($0)) } ?? HyperLogLog()
        }
        if sketches[day]!.insert(visitor) { dirtySketches.insert(day) }
    }

    /// The id of a dimension string, inserting it on first sight.
    private func id(_ dim: AnalyticsDimension, _ value: String, _ db: Database) throws -> Int64 {
        let kind = dim.stringKind
        if let known = strings[kind]?[value] { return known }
        let found = try Int64.fetchOne(db, sql: "SELECT id FROM analytics_strings WHERE kind = ? AND value = ?", arguments: [kind, value])
        let id: Int64
        if let found { id = found } else {
            try db.execute(sql: "INSERT INTO analytics_strings (kind, value) VALUES (?, ?)", arguments: [kind, value])
            id = db.lastInsertedRowID
        }
        strings[kind, default: [:]][value] = id
        return id
    }

    private func insertEvent(_ hit: AnalyticsHit, visit: Int64, page: Int64, name: Int64?, _ db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO visitor_events (t, session_id, event_type, page, name, engaged_ms, scroll_depth, props) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            .execute(arguments: [hit.time, visit, hit.event.kind.rawValue, page, name, hit.event.engagedMs, hit.event.scrollDepth, hit.event.props])
    }

    /// Visits seen in the last two hours, so a restart continues them (consented visitors; a
    /// cookieless visitor's id changed with the salt).
    private func loadOpenVisits(_ db: Database, now: Int64) throws {
        loadedOpenVisits = true
        let rows = try Row.fetchAll(db, sql: """
            SELECT * FROM visitor_sessions WHERE last_seen_at >= ? ORDER BY last_seen_at
            """, arguments: [now - 7200])
        for row in rows {
            let fixed: [Int64] = [row["entry_page"], row["source"], row["referrer"], row["utm_source"], row["utm_medium"], row["utm_campaign"],
                                  row["country"], row["device"], row["browser"], row["os"]]
            visits[row["visitor"]] = Visit(id: row["id"], startedAt: row["started_at"], lastSeenAt: row["last_seen_at"], pageviews: row["pageviews"],
                                           engagedMs: row["engaged_ms"], entryPage: row["entry_page"], exitPage: row["exit_page"], fixed: fixed)
        }
    }

    private func flushBatch(_ db: Database) throws {
        for visit in touched.values {
            try db.cachedStatement(sql: "UPDATE visitor_sessions SET last_seen_at = ?, exit_page = ?, pageviews = ?, engaged_ms = ? WHERE id = ?")
                .execute(arguments: [visit.lastSeenAt, visit.exitPage, visit.pageviews, visit.engagedMs, visit.id])
        }
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO analytics_hourly (dim, hour, value, pageviews, visits, bounces, engaged_ms, events, visitors) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (dim, hour, value) DO UPDATE SET pageviews = pageviews + excluded.pageviews, visits = visits + excluded.visits,
                bounces = bounces + excluded.bounces, engaged_ms = engaged_ms + excluded.engaged_ms, events = events + excluded.events,
                visitors = visitors + excluded.visitors
            """)
        for (key, m) in hourly {
            try upsert.execute(arguments: [key.dim, key.period, key.value, m.pageviews, m.visits, m.bounces, m.engagedMs, m.events, m.visitors])
        }
        let upsertDay = try db.cachedStatement(sql: """
            INSERT INTO analytics_daily (dim, day, value, pageviews, visits, bounces, engaged_ms, events, visitors) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (dim, day, value) DO UPDATE SET pageviews = pageviews + excluded.pageviews, visits = visits + excluded.visits,
                bounces = bounces + excluded.bounces, engaged_ms = engaged_ms + excluded.engaged_ms, events = events + excluded.events,
                visitors = visitors + excluded.visitors
            """)
        for (key, m) in daily {
            try upsertDay.execute(arguments: [key.dim, key.period, key.value, m.pageviews, m.visits, m.bounces, m.engagedMs, m.events, m.visitors])
        }
        for day in dirtySketches {
            try db.execute(sql: "INSERT OR REPLACE INTO analytics_day_sketches (day, registers) VALUES (?, ?)",
                           arguments: [day, Data(sketches[day]!.registers)])
        }
    }

    /// Drops what no later event can touch: closed visits, past hours' and days' sets.
    private func prune(now: Int64) {
        if visits.count > 1024 {
            visits = visits.filter { now - $0.value.lastSeenAt <= 7200 }
        }
        let hour = now / 3600
        hourUniques = hourUniques.filter { $0.key >= hour - 1 }
        let day = localDay(hour: hour)
        dayUniques = dayUniques.filter { $0.key >= day - 1 }
        sketches = sketches.filter { $0.key >= day - 1 }
        folds = folds.filter { $0.key.daily ? $0.key.period >= day - 1 : $0.key.period >= hour - 1 }
        if dayOfHour.count > 10_000 { dayOfHour = [:] }
    }
}
