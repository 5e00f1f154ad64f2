import Foundation
import GRDB

/// `visitor_sessions` and `visitor_events` in `analytics.sqlite`, for a visitor who consented to
/// a persistent id: their visits are stored under `VisitorSalt.consentedID(site:visitor:)`, so
/// they are found again from the id their browser holds and each site host. Cookieless visits
/// (a daily-rotating salted hash) cannot be tied to anybody and are not searched. The hourly and
/// daily rollups are counts and stay.
package struct AnalyticsPersonalData: PersonalDataKind {
    /// The hosts events are counted under (the site origins' hosts).
    let hosts: [String]
    package let retention: Setting<Int>?
    package init(hosts: [String], retention: Setting<Int>?) {
        self.hosts = hosts
        self.retention = retention
    }
    package let name = "analytics.visits"
    package let database = PrivacyDatabase.analytics
    package let tables = ["visitor_sessions", "visitor_events"]
    package let purpose = "Count visits and events for the site's statistics; a visitor who consented is recognised across days by a hash of their persistent id."
    package let erasure = ErasureRule.delete

    private func matching(_ s: PrivacySubject) -> (String, [any DatabaseValueConvertible]) {
        let ids = Set(s.visitors.flatMap { visitor in hosts.map { VisitorSalt.consentedID(site: $0, visitor: visitor) } })
        return ("visitor IN \(PersonalDataSQL.placeholders(ids.count))", PersonalDataSQL.values(ids))
    }

    package func export(_ subject: PrivacySubject, in db: Database) throws -> [String: [[String: JSONValue]]] {
        let (clause, args) = matching(subject)
        let sessions = "SELECT id FROM visitor_sessions WHERE \(clause)"
        return [
            "visitor_sessions": try PersonalDataSQL.rows(db, """
                SELECT s.id, s.started_at, s.last_seen_at, s.pageviews, s.engaged_ms, entry.value AS entry_page, exit.value AS exit_page,
                       src.value AS source, ref.value AS referrer, country.value AS country, device.value AS device, browser.value AS browser, os.value AS os
                FROM visitor_sessions s
                LEFT JOIN analytics_strings entry ON entry.id = s.entry_page LEFT JOIN analytics_strings exit ON exit.id = s.exit_page
                LEFT JOIN analytics_strings src ON src.id = s.source LEFT JOIN analytics_strings ref ON ref.id = s.referrer
                LEFT JOIN analytics_strings country ON country.id = s.country LEFT JOIN analytics_strings device ON device.id = s.device
                LEFT JOIN analytics_strings browser ON browser.id = s.browser LEFT JOIN analytics_strings os ON os.id = s.os
                WHERE s.\(clause) ORDER BY s.id
                """, args),
            "visitor_events": try PersonalDataSQL.rows(db, """
                SELECT e.id, e.t, e.session_id, e.event_type, page.value AS page, name.value AS name, e.engaged_ms, e.scroll_depth, e.props
                FROM visitor_events e LEFT JOIN analytics_strings page ON page.id = e.page LEFT JOIN analytics_strings name ON name.id = e.name
                WHERE e.session_id IN (\(sessions)) ORDER BY e.id
                """, args),
        ]
    }

    package func erase(_ subject: PrivacySubject, in db: Database, now: Date) throws -> [String: Int] {
        let (clause, args) = matching(subject)
        try db.execute(sql: "DELETE FROM visitor_events WHERE session_id IN (SELECT id FROM visitor_sessions WHERE \(clause))", arguments: StatementArguments(args))
        let events = db.changesCount
        try db.execute(sql: "DELETE FROM visitor_sessions WHERE \(clause)", arguments: StatementArguments(args))
        return ["visitor_sessions": db.changesCount, "visitor_events": events]
    }

    package func sweep(before cutoff: Date, limit: Int, in db: Database, now: Date) throws -> Int {
        let t = Int64(cutoff.timeIntervalSince1970)
        try db.execute(sql: "DELETE FROM visitor_events WHERE id IN (SELECT id FROM visitor_events WHERE t < ? ORDER BY t LIMIT ?)", arguments: [t, limit])
        var removed = db.changesCount
        if removed < limit {
            try db.execute(sql: """
                DELETE FROM visitor_sessions WHERE id IN (SELECT id FROM visitor_sessions WHERE started_at < ? AND last_seen_at < ? ORDER BY started_at LIMIT ?)
                """, arguments: [t, t, limit - removed])
            removed += db.changesCount
        }
        return removed
    }
}
