import Foundation
import GRDB

/// A date range in the site's time zone: whole local days, `from` and `to` included.
package struct AnalyticsRange: Sendable, Equatable {
    package var fromDay: Int
    package var toDay: Int
    package let startUnix: Int64
    package let endUnix: Int64

    package init(fromDay: Int, toDay: Int, days: LocalDays) {
        self.fromDay = fromDay
        self.toDay = toDay
        startUnix = days.start(ofDay: fromDay)
        endUnix = days.start(ofDay: toDay + 1)
    }

    /// The range of the same length just before this one.
    package func previous(days: LocalDays) -> AnalyticsRange {
        let length = toDay - fromDay + 1
        return AnalyticsRange(fromDay: fromDay - length, toDay: fromDay - 1, days: days)
    }

    /// Hours `[startHour, endHour)` of the hourly rollups the range covers.
    var startHour: Int64 { startUnix / 3600 }
    var endHour: Int64 { (endUnix + 3599) / 3600 }
}

/// One filter of the analytics API: `field=value`, negated with a leading `!` (`country=!DE`);
/// `*` in the value matches any characters (`page=/blog/*`). Filters combine with AND.
package struct AnalyticsFilter: Sendable, Equatable {
    package enum Field: String, Sendable, CaseIterable {
        case page, entryPage = "entry_page", exitPage = "exit_page", source, referrer, country, device, browser, os
        case utmSource = "utm_source", utmMedium = "utm_medium", utmCampaign = "utm_campaign", event, goal
    }

    package var field: Field
    package var pattern: String
    package var negated: Bool

    package init(field: Field, pattern: String, negated: Bool) {
        self.field = field
        self.pattern = pattern
        self.negated = negated
    }

    /// `"!/blog/*"` → negated `/blog/*`.
    package init(field: Field, raw: String) {
        self.field = field
        negated = raw.hasPrefix("!")
        pattern = negated ? String(raw.dropFirst()) : raw
    }

    var dimension: AnalyticsDimension? {
        switch field {
        case .page: return .page
        case .entryPage: return .entryPage
        case .exitPage: return .exitPage
        case .source: return .source
        case .referrer: return .referrer
        case .country: return .country
        case .device: return .device
        case .browser: return .browser
        case .os: return .os
        case .utmSource: return .utmSource
        case .utmMedium: return .utmMedium
        case .utmCampaign: return .utmCampaign
        case .event: return .eventName
        case .goal: return nil
        }
    }
}

/// The figures of a period.
package struct AnalyticsTotals: Sendable, Equatable, Codable {
    package var visitors: Int
    package var visits: Int
    package var pageviews: Int
    package var events: Int
    package var viewsPerVisit: Double
    /// Share of visits that bounced, 0–1.
    package var bounceRate: Double
    /// Average engaged seconds per visit.
    package var visitDuration: Double

    init(visitors: Int, visits: Int, pageviews: Int, events: Int, bounces: Int, engagedMs: Int) {
        self.visitors = visitors
        self.visits = visits
        self.pageviews = pageviews
        self.events = events
        viewsPerVisit = visits == 0 ? 0 : (Double(pageviews) / Double(visits) * 100).rounded() / 100
        bounceRate = visits == 0 ? 0 : (Double(bounces) / Double(visits) * 1000).rounded() / 1000
        visitDuration = visits == 0 ? 0 : (Double(engagedMs) / 1000 / Double(visits) * 10).rounded() / 10
    }
}

/// One bucket of a time series.
package struct AnalyticsPoint: Sendable, Equatable, Codable {
    package var bucket: String
    package var visitors: Int
    package var visits: Int
    package var pageviews: Int
    package var bounces: Int
    package var events: Int
}

/// One row of a breakdown.
package struct AnalyticsRow: Sendable, Equatable, Codable {
    package var value: String
    package var visitors: Int
    package var visits: Int
    package var pageviews: Int
    package var bounces: Int
    package var events: Int
    package var engagedSeconds: Double
}

/// A breakdown page, with the number of distinct values and whether the tail was folded.
package struct AnalyticsBreakdown: Sendable, Codable {
    package var by: String
    package var items: [AnalyticsRow]
    package var total: Int
    /// True when some hours held more distinct values than are kept: those are in `(other)`.
    package var folded: Bool
}

/// Reads the analytics: from the rollups when no filter is given (milliseconds at any size),
/// from the raw visits and events when filters are (bounded by the range).
package struct AnalyticsQueries: Sendable {
    package let database: AnalyticsDatabase
    package let days: LocalDays

    package init(database: AnalyticsDatabase, timeZone: TimeZone) {
        self.database = database
        self.days = LocalDays(timeZone: timeZone)
    }

    package enum Interval: String, Sendable, CaseIterable { case hour, day, week, month }
    package enum SortKey: String, Sendable, CaseIterable { case visitors, visits, pageviews, bounces, events, value }

    // MARK: summary

    package func totals(_ range: AnalyticsRange, filters: [AnalyticsFilter] = []) async throws -> AnalyticsTotals {
        try await database.pool.read { db in try totals(db, range, filters) }
    }

    func totals(_ db: Database, _ range: AnalyticsRange, _ filters: [AnalyticsFilter]) throws -> AnalyticsTotals {
        if filters.isEmpty {
            let row = try Row.fetchOne(db, sql: """
                SELECT coalesce(sum(pageviews), 0) AS pv, coalesce(sum(visits), 0) AS v, coalesce(sum(bounces), 0) AS b,
                       coalesce(sum(engaged_ms), 0) AS e, coalesce(sum(events), 0) AS ev
                FROM analytics_daily WHERE dim = 0 AND day >= ? AND day <= ?
                """, arguments: [range.fromDay, range.toDay])!
            let visitors = try uniqueVisitors(db, fromDay: range.fromDay, toDay: range.toDay)
            return AnalyticsTotals(visitors: visitors, visits: row["v"], pageviews: row["pv"], events: row["ev"], bounces: row["b"], engagedMs: row["e"])
        }
        let visits = try visitCondition(db, range, filters)
        let row = try Row.fetchOne(db, sql: """
            SELECT count(*) AS v, count(DISTINCT visitor) AS u, coalesce(sum(pageviews = 1 AND engaged_ms < 10000), 0) AS b,
                   coalesce(sum(engaged_ms), 0) AS e
            FROM visitor_sessions WHERE started_at >= ? AND started_at < ? AND \(visits.sql)
            """, arguments: [range.startUnix, range.endUnix] + visits.arguments)!
        let counts = try Row.fetchOne(db, sql: """
            SELECT coalesce(sum(event_type = 0), 0) AS pv, coalesce(sum(event_type = 1), 0) AS ev FROM visitor_events
            WHERE t >= ? AND t < ? AND session_id IN (SELECT id FROM visitor_sessions WHERE started_at >= ? AND started_at < ? AND \(visits.sql))
            """, arguments: [range.startUnix, range.endUnix, range.startUnix - 86_400, range.endUnix] + visits.arguments)!
        return AnalyticsTotals(visitors: row["u"], visits: row["v"], pageviews: counts["pv"], events: counts["ev"], bounces: row["b"], engagedMs: row["e"])
    }

    /// Distinct visitors over whole days: exact for one day, the merged day sketches otherwise.
    func uniqueVisitors(_ db: Database, fromDay: Int, toDay: Int) throws -> Int {
        if fromDay == toDay {
            return try Int.fetchOne(db, sql: "SELECT visitors FROM analytics_daily WHERE dim = 0 AND day = ? AND value = 0",
                                    arguments: [fromDay]) ?? 0
        }
        var merged = HyperLogLog()
        let rows = try Data.fetchAll(db, sql: "SELECT registers FROM analytics_day_sketches WHERE day >= ? AND day <= ?", arguments: [fromDay, toDay])
        for bytes in rows { if let sketch = HyperLogLog(bytes: [UInt8](bytes)) { merged.merge(sketch) } }
        return merged.estimate
    }

    // MARK: time series

    package func timeseries(_ range: AnalyticsRange, interval: Interval, filters: [AnalyticsFilter] = []) async throws -> [AnalyticsPoint] {
        try await database.pool.read { db in try timeseries(db, range, interval, filters) }
    }

    /// The bucket of a local day (day, week, month) as its first day.
    private func bucketDay(_ day: Int, _ interval: Interval) -> Int {
        switch interval {
        case .week: return days.weekStart(day)
        case .month: return days.monthStart(day)
        case .day, .hour: return day
        }
    }

    func timeseries(_ db: Database, _ range: AnalyticsRange, _ interval: Interval, _ filters: [AnalyticsFilter]) throws -> [AnalyticsPoint] {
        // Buckets keyed by UTC hour (for hour) or by the first local day of the bucket.
        var order: [Int64] = []
        var points: [Int64: AnalyticsPoint] = [:]
        // Local midnights of the range, so an hour finds its day without a calendar call.
        let starts = (range.fromDay...range.toDay + 1).map { days.start(ofDay: $0) }
        func dayOfHour(_ hour: Int64) -> Int {
            let t = hour * 3600
            var low = 0, high = starts.count - 1
            while low < high {
                let mid = (low + high + 1) / 2
                if starts[mid] <= t { low = mid } else { high = mid - 1 }
            }
            return range.fromDay + low
        }
        func key(forHour hour: Int64) -> Int64 {
            interval == .hour ? hour : Int64(bucketDay(dayOfHour(hour), interval))
        }
        if interval == .hour {
            var hour = range.startHour
            while hour < range.endHour {
                order.append(hour)
                points[hour] = AnalyticsPoint(bucket: days.hourLabel(ofUnix: hour * 3600), visitors: 0, visits: 0, pageviews: 0, bounces: 0, events: 0)
                hour += 1
            }
        } else {
            for day in range.fromDay...range.toDay {
                let k = Int64(bucketDay(day, interval))
                if points[k] == nil {
                    order.append(k)
                    points[k] = AnalyticsPoint(bucket: AnalyticsCalendar.dateString(Int(k)), visitors: 0, visits: 0, pageviews: 0, bounces: 0, events: 0)
                }
            }
        }
        if filters.isEmpty {
            if interval == .hour {
                let rows = try Row.fetchAll(db, sql: """
                    SELECT hour, pageviews, visits, bounces, events, visitors FROM analytics_hourly WHERE dim = 0 AND hour >= ? AND hour < ?
                    """, arguments: [range.startHour, range.endHour])
                for row in rows {
                    let k: Int64 = row["hour"]
                    points[k]?.pageviews += row["pageviews"]
                    points[k]?.visits += row["visits"]
                    points[k]?.bounces += row["bounces"]
                    points[k]?.events += row["events"]
                    points[k]?.visitors += row["visitors"]
                }
            } else {
                let rows = try Row.fetchAll(db, sql: """
                    SELECT day, pageviews, visits, bounces, events, visitors FROM analytics_daily WHERE dim = 0 AND day >= ? AND day <= ?
                    """, arguments: [range.fromDay, range.toDay])
                for row in rows {
                    let k = Int64(bucketDay(row["day"], interval))
                    points[k]?.pageviews += row["pageviews"]
                    points[k]?.visits += row["visits"]
                    points[k]?.bounces += row["bounces"]
                    points[k]?.events += row["events"]
                    if interval == .day { points[k]?.visitors += row["visitors"] }
                }
                if interval != .day {
                    for k in order {
                        let first = Int(k)
                        let last: Int
                        if interval == .week {
                            last = first + 6
                        } else {
                            let (y, m, _) = AnalyticsCalendar.civil(fromDays: first)
                            last = AnalyticsCalendar.daysFromCivil(year: m == 12 ? y + 1 : y, month: m == 12 ? 1 : m + 1, day: 1) - 1
                        }
                        points[k]?.visitors = try uniqueVisitors(db, fromDay: max(first, range.fromDay), toDay: min(last, range.toDay))
                    }
                }
            }
        } else {
            let visits = try visitCondition(db, range, filters)
            var visitors: [Int64: Set<Int64>] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT started_at, visitor, pageviews, engaged_ms FROM visitor_sessions WHERE started_at >= ? AND started_at < ? AND \(visits.sql)
                """, arguments: [range.startUnix, range.endUnix] + visits.arguments)
            while let row = try rows.next() {
                let started: Int64 = row["started_at"]
                let k = key(forHour: started / 3600)
                points[k]?.visits += 1
                let pv: Int = row["pageviews"], engaged: Int = row["engaged_ms"]
                if pv == 1 && engaged < AnalyticsRecorder.bounceEngagedMs { points[k]?.bounces += 1 }
                visitors[k, default: []].insert(row["visitor"])
            }
            for (k, set) in visitors { points[k]?.visitors = set.count }
            let events = try Row.fetchCursor(db, sql: """
                SELECT t, event_type FROM visitor_events WHERE t >= ? AND t < ? AND event_type < 2
                AND session_id IN (SELECT id FROM visitor_sessions WHERE started_at >= ? AND started_at < ? AND \(visits.sql))
                """, arguments: [range.startUnix, range.endUnix, range.startUnix - 86_400, range.endUnix] + visits.arguments)
            while let row = try events.next() {
                let t: Int64 = row["t"]
                let k = key(forHour: t / 3600)
                if row["event_type"] as Int == 0 { points[k]?.pageviews += 1 } else { points[k]?.events += 1 }
            }
        }
        return order.compactMap { points[$0] }
    }

    // MARK: breakdown

    package func breakdown(_ range: AnalyticsRange, by dimension: AnalyticsDimension, filters: [AnalyticsFilter] = [], sort: SortKey = .visitors,
                           descending: Bool = true, limit: Int = 10, offset: Int = 0) async throws -> AnalyticsBreakdown {
        try await database.pool.read { db in
            var rows: [Int64: AnalyticsRow] = [:]
            if filters.isEmpty {
                let grouped = try Row.fetchCursor(db, sql: """
                    SELECT value, sum(pageviews) AS pv, sum(visits) AS v, sum(bounces) AS b, sum(engaged_ms) AS e, sum(events) AS ev, sum(visitors) AS u
                    FROM analytics_daily WHERE dim = ? AND day >= ? AND day <= ? GROUP BY value
                    """, arguments: [dimension.rawValue, range.fromDay, range.toDay])
                while let row = try grouped.next() {
                    let engaged: Int = row["e"]
                    rows[row["value"]] = AnalyticsRow(value: "", visitors: row["u"], visits: row["v"], pageviews: row["pv"], bounces: row["b"], events: row["ev"],
                                                      engagedSeconds: Double(engaged) / 1000)
                }
                // Exit pages carry no visitor sets of their own: a visit has one exit, so visits stand in.
                if dimension == .exitPage { for (k, r) in rows { rows[k]?.visitors = r.visits } }
            } else {
                rows = try rawBreakdown(db, range, dimension, filters)
            }
            rows = rows.filter { $0.value.visits != 0 || $0.value.pageviews != 0 || $0.value.events != 0 || $0.value.visitors != 0 || $0.value.engagedSeconds != 0 }
            let folded = rows[AnalyticsStrings.otherID] != nil
            let labels = try labelsFor(db, Array(rows.keys))
            var list = rows.map { id, row -> AnalyticsRow in
                var row = row
                row.value = labels[id] ?? AnalyticsStrings.none
                return row
            }
            list.sort { a, b in
                let (x, y) = descending ? (b, a) : (a, b)
                switch sort {
                case .visitors: return x.visitors != y.visitors ? x.visitors < y.visitors : a.value < b.value
                case .visits: return x.visits != y.visits ? x.visits < y.visits : a.value < b.value
                case .pageviews: return x.pageviews != y.pageviews ? x.pageviews < y.pageviews : a.value < b.value
                case .bounces: return x.bounces != y.bounces ? x.bounces < y.bounces : a.value < b.value
                case .events: return x.events != y.events ? x.events < y.events : a.value < b.value
                case .value: return x.value < y.value
                }
            }
            let page = Array(list.dropFirst(offset).prefix(limit))
            return AnalyticsBreakdown(by: dimension.apiName, items: page, total: list.count, folded: folded)
        }
    }

    private func labelsFor(_ db: Database, _ ids: [Int64]) throws -> [Int64: String] {
        var labels: [Int64: String] = [:]
        for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            for row in try Row.fetchAll(db, sql: "SELECT id, value FROM analytics_strings WHERE id IN (\(marks))", arguments: StatementArguments(chunk)) {
                labels[row["id"]] = row["value"]
            }
        }
        return labels
    }

    private func rawBreakdown(_ db: Database, _ range: AnalyticsRange, _ dimension: AnalyticsDimension, _ filters: [AnalyticsFilter]) throws -> [Int64: AnalyticsRow] {
        let visits = try visitCondition(db, range, filters)
        var rows: [Int64: AnalyticsRow] = [:]
        if let column = dimension.sessionColumn {
            let grouped = try Row.fetchCursor(db, sql: """
                SELECT \(column) AS value, count(*) AS v, count(DISTINCT visitor) AS u, sum(pageviews) AS pv,
                       sum(pageviews = 1 AND engaged_ms < 10000) AS b, sum(engaged_ms) AS e
                FROM visitor_sessions WHERE started_at >= ? AND started_at < ? AND \(visits.sql) GROUP BY \(column)
                """, arguments: [range.startUnix, range.endUnix] + visits.arguments)
            while let row = try grouped.next() {
                let engaged: Int = row["e"]
                rows[row["value"]] = AnalyticsRow(value: "", visitors: row["u"], visits: row["v"], pageviews: row["pv"], bounces: row["b"], events: 0,
                                                  engagedSeconds: Double(engaged) / 1000)
            }
            return rows
        }
        let column = dimension == .page ? "e.page" : "e.name"
        let type = dimension == .page ? 0 : 1
        let grouped = try Row.fetchCursor(db, sql: """
            SELECT \(column) AS value, count(*) AS n, count(DISTINCT s.visitor) AS u, count(DISTINCT s.id) AS v
            FROM visitor_events e JOIN visitor_sessions s ON s.id = e.session_id
            WHERE e.t >= ? AND e.t < ? AND e.event_type = ?
              AND e.session_id IN (SELECT id FROM visitor_sessions WHERE started_at >= ? AND started_at < ? AND \(visits.sql))
            GROUP BY \(column)
            """, arguments: [range.startUnix, range.endUnix, type, range.startUnix - 86_400, range.endUnix] + visits.arguments)
        while let row = try grouped.next() {
            let n: Int = row["n"]
            rows[row["value"]] = AnalyticsRow(value: "", visitors: row["u"], visits: row["v"], pageviews: type == 0 ? n : 0, bounces: 0,
                                              events: type == 1 ? n : 0, engagedSeconds: 0)
        }
        return rows
    }

    // MARK: filters

    /// The SQL condition on `visitor_sessions` (no table prefix) that every filter holds for.
    func visitCondition(_ db: Database, _ range: AnalyticsRange, _ filters: [AnalyticsFilter]) throws -> (sql: String, arguments: StatementArguments) {
        var parts: [String] = []
        var arguments = StatementArguments()
        for filter in filters {
            let not = filter.negated ? "NOT " : ""
            switch filter.field {
            case .page, .event:
                let kind = filter.field == .page ? AnalyticsDimension.page : .eventName
                let ids = try matchingIDs(db, kind: kind.stringKind, pattern: filter.pattern)
                parts.append("id \(not)IN (SELECT session_id FROM visitor_events WHERE t >= ? AND t < ? AND event_type = ? AND \(kind == .page ? "page" : "name") IN (\(ids)))")
                arguments += [range.startUnix - 86_400, range.endUnix + 86_400, kind == .page ? 0 : 1]
            case .goal:
                // A goal that does not exist matches no event.
                let (sql, args) = try AnalyticsGoalStore.lookup(db, reference: filter.pattern).map { try goalEventCondition(db, $0) } ?? ("0", [])
                parts.append("id \(not)IN (SELECT session_id FROM visitor_events WHERE t >= ? AND t < ? AND \(sql))")
                arguments += [range.startUnix - 86_400, range.endUnix + 86_400]
                arguments += args
            default:
                let dimension = filter.dimension!
                let ids = try matchingIDs(db, kind: dimension.stringKind, pattern: filter.pattern)
                parts.append("\(dimension.sessionColumn!) \(not)IN (\(ids))")
            }
        }
        return (parts.isEmpty ? "1" : parts.joined(separator: " AND "), arguments)
    }

    /// The ids (as a SQL list) of strings of `kind` matching `pattern` (`*` any characters).
    private func matchingIDs(_ db: Database, kind: Int, pattern: String) throws -> String {
        var ids: [Int64]
        if pattern == AnalyticsStrings.none {
            ids = [AnalyticsStrings.noneID]
        } else if pattern.contains("*") {
            // GLOB with every other special character taken literally.
            let glob = pattern.map { c -> String in c == "*" ? "*" : c == "?" ? "[?]" : c == "[" ? "[[]" : String(c) }.joined()
            ids = try Int64.fetchAll(db, sql: "SELECT id FROM analytics_strings WHERE kind = ? AND value GLOB ?", arguments: [kind, glob])
        } else {
            ids = try Int64.fetchAll(db, sql: "SELECT id FROM analytics_strings WHERE kind = ? AND value = ?", arguments: [kind, pattern])
        }
        return ids.isEmpty ? "-1" : ids.map(String.init).joined(separator: ",")
    }

    /// The condition on `visitor_events` (columns prefixed with `prefix`) of a goal's completing events.
    func goalEventCondition(_ db: Database, _ goal: AnalyticsGoal, prefix p: String = "") throws -> (String, StatementArguments) {
        switch goal.kind {
        case .page:
            return ("\(p)event_type = 0 AND \(p)page IN (\(try matchingIDs(db, kind: AnalyticsDimension.page.rawValue, pattern: goal.pattern)))", [])
        case .event:
            let names = try matchingIDs(db, kind: AnalyticsDimension.eventName.rawValue, pattern: goal.pattern)
            if let key = goal.propertyKey, let value = goal.propertyValue {
                let path = "$.\"" + key.replacingOccurrences(of: "\"", with: "") + "\""
                return ("\(p)event_type = 1 AND \(p)name IN (\(names)) AND CAST(json_extract(\(p)props, ?) AS TEXT) = ?", [path, value])
            }
            return ("\(p)event_type = 1 AND \(p)name IN (\(names))", [])
        }
    }

    // MARK: realtime

    /// Visitors seen in the last five minutes and the pages they are on now.
    package struct Realtime: Sendable, Codable {
        package var visitors: Int
        package var pages: [PageNow]
        package struct PageNow: Sendable, Codable {
            package var page: String
            package var visitors: Int
        }
    }

    package func realtime(now: Int64) async throws -> Realtime {
        try await database.pool.read { db in
            let since = now - 300
            let visitors = try Int.fetchOne(db, sql: """
                SELECT count(DISTINCT visitor) FROM visitor_sessions WHERE started_at >= ? AND last_seen_at >= ?
                """, arguments: [now - 86_400, since]) ?? 0
            let pages = try Row.fetchAll(db, sql: """
                SELECT s.value AS page, count(DISTINCT v.visitor) AS n FROM visitor_sessions v JOIN analytics_strings s ON s.id = v.exit_page
                WHERE v.started_at >= ? AND v.last_seen_at >= ? GROUP BY v.exit_page ORDER BY n DESC, page LIMIT 20
                """, arguments: [now - 86_400, since])
            return Realtime(visitors: visitors, pages: pages.map { Realtime.PageNow(page: $0["page"], visitors: $0["n"]) })
        }
    }
}
