import Foundation
import GRDB

/// What an unsaved goal would count over a range: the console's editor shows it before saving.
package struct GoalPreview: Sendable, Codable, Equatable {
    package var conversions: Int
    package var visitors: Int
    /// Converting visitors / all visitors of the range, 0–1.
    package var conversionRate: Double
}

/// What a funnel of existing goals would count over a range, before it is saved.
package struct FunnelPreview: Sendable, Codable {
    package var steps: [FunnelResult.Step]
}

extension AnalyticsGoalStore {
    /// The figures `goal` (not stored; its id is ignored) would have over `range`.
    package func preview(goal: AnalyticsGoal, _ range: AnalyticsRange) async throws -> GoalPreview {
        try await database.pool.read { db in try Self.figures(db, queries, goal, range) }
    }

    /// Visits reaching a goal and distinct visitors among them, as `goalResults` counts them.
    static func figures(_ db: Database, _ queries: AnalyticsQueries, _ goal: AnalyticsGoal, _ range: AnalyticsRange) throws -> GoalPreview {
        let all = try queries.totals(db, range, []).visitors
        let (sql, arguments) = try queries.goalEventCondition(db, goal, prefix: "e.")
        let row = try Row.fetchOne(db, sql: """
            SELECT count(DISTINCT e.session_id) AS c, count(DISTINCT s.visitor) AS u FROM visitor_events e JOIN visitor_sessions s ON s.id = e.session_id
            WHERE e.t >= ? AND e.t < ? AND \(sql)
            """, arguments: [range.startUnix, range.endUnix] + arguments)!
        let visitors: Int = row["u"]
        return GoalPreview(conversions: row["c"], visitors: visitors, conversionRate: all == 0 ? 0 : (Double(visitors) / Double(all) * 1000).rounded() / 1000)
    }

    /// The steps a funnel of these goals (ids, in order) would show over `range`; a step that
    /// names no goal is a 422 naming `steps[i]`.
    package func previewFunnel(steps: [Int64], _ range: AnalyticsRange) async throws -> FunnelPreview {
        try await database.pool.read { db in
            var goals: [AnalyticsGoal] = []
            var missing: [String: String] = [:]
            for (index, step) in steps.enumerated() {
                if let goal = try Self.lookup(db, reference: String(step)) { goals.append(goal) } else { missing["steps[\(index)]"] = "names no goal" }
            }
            if !missing.isEmpty { throw FrontdeskError.validation(missing) }
            return FunnelPreview(steps: try Self.reach(db, queries, goals, range))
        }
    }

    /// Visits (started in the range) that reached each goal in order, from the raw events: for
    /// each step the matching events of the range (at most `funnelEventCap`), then per visit
    /// the earliest time it could complete step 1, step 2 after that, and so on.
    static func reach(_ db: Database, _ queries: AnalyticsQueries, _ goals: [AnalyticsGoal], _ range: AnalyticsRange) throws -> [FunnelResult.Step] {
        var reachedAt: [Int64: Int64] = [:]   // visit → time it completed the last step so far
        var counts: [Int] = []
        for (index, goal) in goals.enumerated() {
            let (sql, arguments) = try queries.goalEventCondition(db, goal)
            let events = try Row.fetchCursor(db, sql: """
                SELECT session_id, t FROM visitor_events WHERE t >= ? AND t < ? AND \(sql)
                AND session_id IN (SELECT id FROM visitor_sessions WHERE started_at >= ? AND started_at < ?) ORDER BY t LIMIT ?
                """, arguments: [range.startUnix, range.endUnix + 86_400] + arguments + [range.startUnix, range.endUnix, funnelEventCap])
            var next: [Int64: Int64] = [:]
            while let event = try events.next() {
                let visit: Int64 = event["session_id"], t: Int64 = event["t"]
                if next[visit] != nil { continue }
                if index == 0 { next[visit] = t } else if let previous = reachedAt[visit], previous <= t { next[visit] = t }
            }
            reachedAt = next
            counts.append(next.count)
        }
        let first = counts.first ?? 0
        return counts.enumerated().map { index, count in
            FunnelResult.Step(goal: goals[index].name, visits: count, dropOff: index == 0 ? 0 : counts[index - 1] - count,
                              conversionRate: first == 0 ? 0 : (Double(count) / Double(first) * 1000).rounded() / 1000)
        }
    }
}
