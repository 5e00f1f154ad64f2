import FrontdeskCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The console's analytics API (`/api/v1/admin/analytics/…`, signed in): summary, time series,
/// breakdowns, realtime, goals, funnels and exports. Every report takes the same range and
/// filters (`AnalyticsRequest`).
struct AnalyticsAdminController: Sendable {
    let analytics: AnalyticsRuntime
    let now: @Sendable () -> Date

    struct Summary: Encodable {
        let from: String
        let to: String
        let current: AnalyticsTotals
        let previous: AnalyticsTotals
    }

    struct Series: Encodable {
        let interval: String
        let from: String
        let to: String
        let points: [AnalyticsPoint]
    }

    func addRoutes(to routes: Routes) {
        let admin = routes.admin
        let queries = analytics.queries
        let days = queries.days
        admin.get("/analytics/summary") { request, _ in
            let query = try AnalyticsRequest(request.queryDictionary, days: days, now: now(), allowed: [])
            let current = try await queries.totals(query.range, filters: query.filters)
            let previous = try await queries.totals(query.range.previous(days: days), filters: query.filters)
            return try Response.json(Summary(from: query.fromString, to: query.toString, current: current, previous: previous))
        }
        admin.get("/analytics/timeseries") { request, _ in
            let query = try AnalyticsRequest(request.queryDictionary, days: days, now: now(), allowed: ["interval"])
            let points = try await queries.timeseries(query.range, interval: query.interval, filters: query.filters)
            return try Response.json(Series(interval: query.interval.rawValue, from: query.fromString, to: query.toString, points: points))
        }
        admin.get("/analytics/breakdown") { request, _ in
            let query = try AnalyticsRequest(request.queryDictionary, days: days, now: now(), allowed: ["by", "sort", "limit", "offset"], requireBy: true)
            return try Response.json(try await query.breakdown(queries))
        }
        admin.get("/analytics/realtime") { _, _ in
            try Response.json(try await queries.realtimeNow(now: Int64(now().timeIntervalSince1970)))
        }
        admin.get("/analytics/export") { request, _ in
            let query = try AnalyticsRequest(request.queryDictionary, days: days, now: now(),
                                              allowed: ["report", "format", "by", "sort", "limit", "offset", "interval"], requireBy: false)
            return try await export(query, queries: queries)
        }
        let goals = analytics.goals
        admin.get("/analytics/goals") { request, _ in
            let query = try AnalyticsRequest(request.queryDictionary, days: days, now: now(), allowed: [], filtersAllowed: false)
            return try Response.json(Items(items: try await goals.goalResults(query.range)))
        }
        admin.post("/analytics/goals") { request, context in
            var reader = FieldReader(try await request.jsonObject(context: context), allowed: AnalyticsDashboardController.goalFields.union(["name"]))
            let name = reader.text("name", required: true, maxLength: 100)
            let definition = AnalyticsDashboardController.readGoalDefinition(&reader)
            try reader.validate()
            let goal = try await goals.createGoal(name: name!, kind: definition!.kind, pattern: definition!.pattern, propertyKey: definition!.key, propertyValue: definition!.value,
                                                  now: Int64(now().timeIntervalSince1970))
            return try Response.json(goal, status: .created)
        }
        admin.delete("/analytics/goals/:id") { _, context in
            try await goals.deleteGoal(id: try AdminRoutes.id(context))
            return Response(status: .noContent)
        }
        admin.get("/analytics/funnels") { _, _ in
            try Response.json(Items(items: try await goals.funnels()))
        }
        admin.post("/analytics/funnels") { request, context in
            let object = try await request.jsonObject(context: context)
            var reader = FieldReader(object, allowed: ["name", "steps"])
            let name = reader.text("name", required: true, maxLength: 100)
            var steps: [Int64] = []
            switch object["steps"] {
            case .array(let items) where (2...8).contains(items.count):
                for (index, item) in items.enumerated() {
                    if case .number(let n) = item, n.rounded() == n, n >= 1, n <= 9e15 { steps.append(Int64(n)) } else {
                        reader.fail("steps[\(index)]", "must be a goal id (a positive integer)")
                    }
                }
            case .array(let items): reader.fail("steps", "must hold 2 to 8 goal ids, not \(items.count)")
            case nil, .null?: reader.fail("steps", "is required: 2 to 8 goal ids in order")
            case let other?: reader.fail("steps", "must be an array of goal ids, not \(other.typeName)")
            }
            try reader.validate()
            return try Response.json(try await goals.createFunnel(name: name!, steps: steps, now: Int64(now().timeIntervalSince1970)), status: .created)
        }
        admin.delete("/analytics/funnels/:id") { _, context in
            try await goals.deleteFunnel(id: try AdminRoutes.id(context))
            return Response(status: .noContent)
        }
        admin.get("/analytics/funnels/:id/results") { request, context in
            let id = try AdminRoutes.id(context)
            let query = try AnalyticsRequest(request.queryDictionary, days: days, now: now(), allowed: [], filtersAllowed: false)
            return try Response.json(try await goals.funnelResult(id: id, query.range))
        }
    }

    /// A breakdown or a time series as CSV or JSON, as a download.
    func export(_ query: AnalyticsRequest, queries: AnalyticsQueries) async throws -> Response {
        let report = query.report
        let header: [String]
        var lines: [[String]]
        let json: Data
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        if report == "breakdown" {
            let breakdown = try await query.breakdown(queries)
            header = [breakdown.by, "visitors", "visits", "pageviews", "bounces", "events", "engaged_seconds"]
            lines = breakdown.items.map { [$0.value, String($0.visitors), String($0.visits), String($0.pageviews), String($0.bounces), String($0.events), String($0.engagedSeconds)] }
            json = try encoder.encode(breakdown)
        } else {
            let points = try await queries.timeseries(query.range, interval: query.interval, filters: query.filters)
            header = [query.interval.rawValue, "visitors", "visits", "pageviews", "bounces", "events"]
            lines = points.map { [$0.bucket, String($0.visitors), String($0.visits), String($0.pageviews), String($0.bounces), String($0.events)] }
            json = try encoder.encode(Series(interval: query.interval.rawValue, from: query.fromString, to: query.toString, points: points))
        }
        var headers = HTTPFields()
        headers[.cacheControl] = "no-store"
        let name = "analytics-\(report)-\(query.fromString)-\(query.toString)"
        if query.format == "csv" {
            headers[.contentType] = "text/csv; charset=utf-8"
            headers[.contentDisposition] = "attachment; filename=\"\(name).csv\""
            lines.insert(header, at: 0)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: lines.map { CSV.line($0) }.joined())))
        }
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"\(name).json\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }
}

/// The query of an analytics report: `from`/`to` (local dates, both included; the last 30
/// days by default), the filters, and the report's own parameters; every bad one in one 422.
struct AnalyticsRequest {
    static let maxDays = 800
    var range: AnalyticsRange
    var fromString: String
    var toString: String
    var filters: [AnalyticsFilter] = []
    var interval: AnalyticsQueries.Interval = .day
    var by: AnalyticsDimension = .page
    var sort: AnalyticsQueries.SortKey = .visitors
    var descending = true
    var limit = 10
    var offset = 0
    var report = "breakdown"
    var format = "csv"

    init(_ parameters: [String: String], days: LocalDays, now: Date, allowed: Set<String>, requireBy: Bool = false, filtersAllowed: Bool = true) throws {
        var problems: [String: String] = [:]
        let today = days.day(ofUnix: Int64(now.timeIntervalSince1970))
        var from = today - 29, to = today
        if let value = parameters["from"] {
            if let day = AnalyticsCalendar.day(from: value) { from = day } else { problems["from"] = "must be a date like 2027-01-31" }
        }
        if let value = parameters["to"] {
            if let day = AnalyticsCalendar.day(from: value) { to = day } else { problems["to"] = "must be a date like 2027-01-31" }
        }
        if parameters["from"] != nil, parameters["to"] == nil, problems["from"] == nil { to = max(from, min(today, from + 29)) }
        if parameters["to"] != nil, parameters["from"] == nil, problems["to"] == nil { from = to - 29 }
        if to < from { problems["to"] = "must not be before from" }
        else if to - from + 1 > Self.maxDays { problems["to"] = "must be at most \(Self.maxDays) days after from" }
        for (name, value) in parameters {
            if name == "from" || name == "to" { continue }
            if let field = AnalyticsFilter.Field(rawValue: name) {
                guard filtersAllowed else { problems[name] = "is not a known parameter"; continue }
                let filter = AnalyticsFilter(field: field, raw: value)
                if filter.pattern.isEmpty || filter.pattern.count > 2048 { problems[name] = "must be 1 to 2048 characters (! in front negates)" } else { filters.append(filter) }
                continue
            }
            guard allowed.contains(name) else { problems[name] = "is not a known parameter"; continue }
            switch name {
            case "interval":
                if let i = AnalyticsQueries.Interval(rawValue: value) { interval = i } else { problems[name] = "must be hour, day, week or month" }
            case "by":
                if let d = AnalyticsDimension(apiName: value) { by = d } else {
                    problems[name] = "must be one of " + AnalyticsDimension.breakdowns.map(\.apiName).joined(separator: ", ")
                }
            case "sort":
                let key = value.hasPrefix("-") ? String(value.dropFirst()) : value
                if let s = AnalyticsQueries.SortKey(rawValue: key) { sort = s; descending = value.hasPrefix("-") } else {
                    problems[name] = "must be one of " + AnalyticsQueries.SortKey.allCases.flatMap { [$0.rawValue, "-" + $0.rawValue] }.joined(separator: ", ")
                }
            case "limit":
                if let n = Int(value), (1...1000).contains(n) { limit = n } else { problems[name] = "must be an integer from 1 to 1000" }
            case "offset":
                if let n = Int(value), (0...1_000_000).contains(n) { offset = n } else { problems[name] = "must be an integer from 0 to 1000000" }
            case "report":
                if ["breakdown", "timeseries"].contains(value) { report = value } else { problems[name] = "must be breakdown or timeseries" }
            case "format":
                if ["csv", "json"].contains(value) { format = value } else { problems[name] = "must be csv or json" }
            default:
                problems[name] = "is not a known parameter"
            }
        }
        if requireBy, parameters["by"] == nil { problems["by"] = "is required: one of " + AnalyticsDimension.breakdowns.map(\.apiName).joined(separator: ", ") }
        if interval == .hour, problems["to"] == nil, to - from + 1 > 31 { problems["interval"] = "hour buckets cover at most 31 days" }
        if !problems.isEmpty { throw FrontdeskError.validation(problems) }
        filters.sort { $0.field.rawValue < $1.field.rawValue }
        range = AnalyticsRange(fromDay: from, toDay: to, days: days)
        fromString = AnalyticsCalendar.dateString(from)
        toString = AnalyticsCalendar.dateString(to)
    }

    func breakdown(_ queries: AnalyticsQueries) async throws -> AnalyticsBreakdown {
        try await queries.breakdown(range, by: by, filters: filters, sort: sort, descending: descending, limit: limit, offset: offset)
    }
}
