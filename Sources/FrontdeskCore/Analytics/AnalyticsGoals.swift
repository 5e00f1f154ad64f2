import Foundation
import GRDB

/// A goal: a page view whose path matches a glob, or a custom event by name (optionally with
/// one property equal to a value).
package struct AnalyticsGoal: Sendable, Equatable, Codable {
    package enum Kind: String, Sendable, Codable { case page, event }
    package var id: Int64
    package var name: String
    package var kind: Kind
    package var pattern: String
    package var propertyKey: String?
    package var propertyValue: String?

    package init(id: Int64, name: String, kind: Kind, pattern: String, propertyKey: String?, propertyValue: String?) {
        self.id = id
        self.name = name
        self.kind = kind
        self.pattern = pattern
        self.propertyKey = propertyKey
        self.propertyValue = propertyValue
    }

    init(row: Row) {
        id = row["id"]
        name = row["name"]
        kind = Kind(rawValue: row["kind"]) ?? .page
        pattern = row["pattern"]
        propertyKey = row["property_key"]
        propertyValue = row["property_value"]
    }
}

/// A funnel: 2–8 goals a visit reaches in order.
package struct AnalyticsFunnel: Sendable, Equatable, Codable {
    package var id: Int64
    package var name: String
    package var steps: [Int64]
}

/// A goal's figures over a range.
package struct GoalResult: Sendable, Codable {
    package var goal: AnalyticsGoal
    package var conversions: Int
    package var visitors: Int
    /// Converting visitors / all visitors of the range, 0–1.
    package var conversionRate: Double
}

/// A funnel's figures over a range: how many visits reached each step in order.
package struct FunnelResult: Sendable, Codable {
    package struct Step: Sendable, Codable {
        package var goal: String
        package var visits: Int
        /// Visits of the previous step that did not reach this one.
        package var dropOff: Int
        /// Visits reaching this step / visits reaching the first, 0–1.
        package var conversionRate: Double
    }
    package var funnel: AnalyticsFunnel
    package var steps: [Step]
}

/// Goals and funnels: definitions (each write one transaction) and results from raw events.
package struct AnalyticsGoalStore: Sendable {
    package let database: AnalyticsDatabase
    package let queries: AnalyticsQueries
    package static let maxGoals = 100
    package static let maxFunnels = 50
    /// Funnels read at most this many matching events per step, so a huge range has a bounded cost.
    package static let funnelEventCap = 2_000_000

    package init(database: AnalyticsDatabase, queries: AnalyticsQueries) {
        self.database = database
        self.queries = queries
    }

    package func goals() async throws -> [AnalyticsGoal] {
        try await database.pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM analytics_goals ORDER BY id").map(AnalyticsGoal.init) }
    }

    package func createGoal(name: String, kind: AnalyticsGoal.Kind, pattern: String, propertyKey: String?, propertyValue: String?, now: Int64) async throws -> AnalyticsGoal {
        try await database.writer.write { db in
            let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM analytics_goals") ?? 0
            guard count < Self.maxGoals else {
                throw FrontdeskError(.conflict, code: "too_many_goals", message: "A site has at most \(Self.maxGoals) goals; delete one first.")
            }
            guard try Int.fetchOne(db, sql: "SELECT 1 FROM analytics_goals WHERE name = ?", arguments: [name]) == nil else {
                throw FrontdeskError(.conflict, code: "goal_exists", message: "A goal named \(name) exists already.")
            }
            try db.execute(sql: "INSERT INTO analytics_goals (name, kind, pattern, property_key, property_value, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [name, kind.rawValue, pattern, propertyKey, propertyValue, now])
            return AnalyticsGoal(id: db.lastInsertedRowID, name: name, kind: kind, pattern: pattern, propertyKey: propertyKey, propertyValue: propertyValue)
        }
    }

    package func deleteGoal(id: Int64) async throws {
        try await database.writer.write { db in
            let funnels = try String.fetchAll(db, sql: "SELECT steps FROM analytics_funnels")
            if funnels.contains(where: { Self.decodeSteps($0).contains(id) }) {
                throw FrontdeskError(.conflict, code: "goal_in_funnel", message: "The goal is a step of a funnel; delete the funnel first.")
            }
            try db.execute(sql: "DELETE FROM analytics_goals WHERE id = ?", arguments: [id])
            guard db.changesCount > 0 else { throw FrontdeskError.notFound("The goal") }
        }
    }

    /// The goal with this id or name, nil when none.
    static func lookup(_ db: Database, reference: String) throws -> AnalyticsGoal? {
        let row = try Int64(reference).flatMap { try Row.fetchOne(db, sql: "SELECT * FROM analytics_goals WHERE id = ?", arguments: [$0]) }
            ?? Row.fetchOne(db, sql: "SELECT * FROM analytics_goals WHERE name = ?", arguments: [reference])
        return row.map(AnalyticsGoal.init)
    }

    static func find(_ db: Database, reference: String) throws -> AnalyticsGoal {
        let row = try Int64(reference).flatMap { try Row.fetchOne(db, sql: "SELECT * FROM analytics_goals WHERE id = ?", arguments: [$0]) }
            ?? Row.fetchOne(db, sql: "SELECT * FROM analytics_goals WHERE name = ?", arguments: [reference])
        guard let row else {
            throw FrontdeskError.validation(["goal": "names no goal (give a goal's id or name)"])
        }
        return AnalyticsGoal(row: row)
    }

    package func goalResults(_ range: AnalyticsRange) async throws -> [GoalResult] {
        try await database.pool.read { db in
            return try Row.fetchAll(db, sql: "SELECT * FROM analytics_goals ORDER BY id").map(AnalyticsGoal.init).map { goal in
                let figures = try Self.figures(db, queries, goal, range)
                return GoalResult(goal: goal, conversions: figures.conversions, visitors: figures.visitors, conversionRate: figures.conversionRate)
            }
        }
    }

    // MARK: funnels

    static func decodeSteps(_ json: String) -> [Int64] {
        (try? JSONDecoder().decode([Int64].self, from: Data(json.utf8))) ?? []
    }

    package func funnels() async throws -> [AnalyticsFunnel] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM analytics_funnels ORDER BY id").map {
                AnalyticsFunnel(id: $0["id"], name: $0["name"], steps: Self.decodeSteps($0["steps"]))
            }
        }
    }

    package func createFunnel(name: String, steps: [Int64], now: Int64) async throws -> AnalyticsFunnel {
        try await database.writer.write { db in
            let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM analytics_funnels") ?? 0
            guard count < Self.maxFunnels else {
                throw FrontdeskError(.conflict, code: "too_many_funnels", message: "A site has at most \(Self.maxFunnels) funnels; delete one first.")
            }
            guard try Int.fetchOne(db, sql: "SELECT 1 FROM analytics_funnels WHERE name = ?", arguments: [name]) == nil else {
                throw FrontdeskError(.conflict, code: "funnel_exists", message: "A funnel named \(name) exists already.")
            }
            var missing: [String: String] = [:]
            for (index, step) in steps.enumerated() where try Int.fetchOne(db, sql: "SELECT 1 FROM analytics_goals WHERE id = ?", arguments: [step]) == nil {
                missing["steps[\(index)]"] = "names no goal"
            }
            if !missing.isEmpty { throw FrontdeskError.validation(missing) }
            let json = String(decoding: try JSONEncoder().encode(steps), as: UTF8.self)
            try db.execute(sql: "INSERT INTO analytics_funnels (name, steps, created_at) VALUES (?, ?, ?)", arguments: [name, json, now])
            return AnalyticsFunnel(id: db.lastInsertedRowID, name: name, steps: steps)
        }
    }

    package func deleteFunnel(id: Int64) async throws {
        try await database.writer.write { db in
            try db.execute(sql: "DELETE FROM analytics_funnels WHERE id = ?", arguments: [id])
            guard db.changesCount > 0 else { throw FrontdeskError.notFound("The funnel") }
        }
    }

    /// Visits (started in the range) that reached each step in order, from the raw events: for
    /// each step the matching events of the range (at most `funnelEventCap`), then per visit
    /// the earliest time it could complete step 1, step 2 after that, and so on.
    package func funnelResult(id: Int64, _ range: AnalyticsRange) async throws -> FunnelResult {
        try await database.pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM analytics_funnels WHERE id = ?", arguments: [id]) else {
                throw FrontdeskError.notFound("The funnel")
            }
            let funnel = AnalyticsFunnel(id: row["id"], name: row["name"], steps: Self.decodeSteps(row["steps"]))
            let goals = try funnel.steps.map { try Self.find(db, reference: String($0)) }
            let steps = try Self.reach(db, queries, goals, range)
            return FunnelResult(funnel: funnel, steps: steps)
        }
    }
}

/// Deletes raw events and visits older than `tracking.raw_retention_days`, in bounded batches
/// (each its own short transaction, so no long write lock and a WAL that stays within its
/// checkpoint bound). Daily rollups and the hourly totals are kept until deleted; the hourly
/// rows per dimension (page, source, … by hour) after `hourlyDetailDays`.
package struct AnalyticsRetention: Sendable {
    package let database: AnalyticsDatabase
    package let retentionDays: Int
    package let hourlyDetailDays: Int
    package let batchSize: Int

    package init(database: AnalyticsDatabase, retentionDays: Int, hourlyDetailDays: Int = 31, batchSize: Int = 5_000) {
        self.database = database
        self.retentionDays = retentionDays
        self.hourlyDetailDays = hourlyDetailDays
        self.batchSize = batchSize
    }

    /// Deletes what is past retention at `now`; returns (events, visits) deleted.
    @discardableResult
    package func sweep(now: Date) async throws -> (events: Int, visits: Int) {
        let cutoff = Int64(now.timeIntervalSince1970) - Int64(retentionDays) * 86_400
        var events = 0, visits = 0
        while true {
            let n = try await database.pool.write { [batchSize] db -> Int in
                try db.execute(sql: "DELETE FROM visitor_events WHERE id IN (SELECT id FROM visitor_events WHERE t < ? ORDER BY t LIMIT ?)",
                               arguments: [cutoff, batchSize])
                return db.changesCount
            }
            events += n
            if n < batchSize { break }
            await Task.yield()
        }
        while true {
            let n = try await database.pool.write { [batchSize] db -> Int in
                try db.execute(sql: """
                    DELETE FROM visitor_sessions WHERE id IN (SELECT id FROM visitor_sessions WHERE started_at < ? AND last_seen_at < ? ORDER BY started_at LIMIT ?)
                    """, arguments: [cutoff, cutoff, batchSize])
                return db.changesCount
            }
            visits += n
            if n < batchSize { break }
            await Task.yield()
        }
        let hourCutoff = (Int64(now.timeIntervalSince1970) - Int64(hourlyDetailDays) * 86_400) / 3600
        for dim in AnalyticsDimension.breakdowns {
            while true {
                let n = try await database.pool.write { [batchSize] db -> Int in
                    try db.execute(sql: """
                        DELETE FROM analytics_hourly WHERE (dim, hour, value) IN
                            (SELECT dim, hour, value FROM analytics_hourly WHERE dim = ? AND hour < ? LIMIT ?)
                        """, arguments: [dim.rawValue, hourCutoff, batchSize])
                    return db.changesCount
                }
                if n < batchSize { break }
                await Task.yield()
            }
        }
        if events + visits > 0 {
            try? await database.pool.writeWithoutTransaction { db in _ = try db.checkpoint(.passive) }
        }
        return (events, visits)
    }
}
