import Foundation
import GRDB

/// One visit active in the last five minutes, as the chat screen lists it: where the visitor is
/// now, where they came from, and since when. No visitor id leaves the engine.
package struct VisitorNow: Sendable, Codable, Equatable {
    /// The page of the visit's latest page view.
    package var page: String
    package var source: String
    package var country: String
    package var device: String
    package var pageviews: Int
    /// When the visit began and was last seen, ISO 8601 (the console computes "time on site").
    package var startedAt: String
    package var lastSeenAt: String
}

/// The realtime report with the visits behind it: what `GET …/analytics/realtime` answers and
/// the agent socket's `visitors.now` frame carries.
package struct RealtimeNow: Sendable, Codable, Equatable {
    package var visitors: Int
    package var pages: [AnalyticsQueries.Realtime.PageNow]
    /// The most recently active visits, newest first (at most `AnalyticsQueries.visitsNowLimit`).
    package var visits: [VisitorNow]
}

extension AnalyticsQueries.Realtime.PageNow: Equatable {
    package static func == (a: Self, b: Self) -> Bool { a.page == b.page && a.visitors == b.visitors }
}

extension AnalyticsQueries {
    package static let visitsNowLimit = 50

    /// Visitors in the last five minutes, their pages, and the latest visits in detail.
    package func realtimeNow(now: Int64) async throws -> RealtimeNow {
        let summary = try await realtime(now: now)
        let rows = try await database.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT p.value AS page, s.value AS source, c.value AS country, d.value AS device, v.pageviews, v.started_at, v.last_seen_at
                FROM visitor_sessions v
                JOIN analytics_strings p ON p.id = v.exit_page JOIN analytics_strings s ON s.id = v.source
                JOIN analytics_strings c ON c.id = v.country JOIN analytics_strings d ON d.id = v.device
                WHERE v.started_at >= ? AND v.last_seen_at >= ? AND v.last_seen_at <= ?
                ORDER BY v.last_seen_at DESC, v.id DESC LIMIT ?
                """, arguments: [now - 86_400, now - 300, now + 60, Self.visitsNowLimit])
        }
        let iso = ISO8601DateFormatter()
        let visits = rows.map { row -> VisitorNow in
            let started: Int64 = row["started_at"], seen: Int64 = row["last_seen_at"]
            return VisitorNow(page: row["page"], source: row["source"], country: row["country"], device: row["device"], pageviews: row["pageviews"],
                              startedAt: iso.string(from: Date(timeIntervalSince1970: TimeInterval(started))),
                              lastSeenAt: iso.string(from: Date(timeIntervalSince1970: TimeInterval(seen))))
        }
        return RealtimeNow(visitors: summary.visitors, pages: summary.pages, visits: visits)
    }
}
