import ArgumentParser
import Foundation
import FrontdeskCore
import FrontdeskServer

/// `frontdesk analytics …`: synthetic traffic and the query benchmark over `analytics.sqlite`.
struct AnalyticsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analytics",
        abstract: "Fill analytics.sqlite with synthetic traffic, or time the dashboard's queries on it.",
        subcommands: [Generate.self, QueryBench.self]
    )

    /// `frontdesk analytics generate --events N --months M`.
    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write synthetic visits through the real batch writer (for benchmarks and demos).",
            discussion: """
            Zipf page popularity over --paths paths, --visitors distinct visitors (30 % returning), sources,
            UTM campaigns, countries, devices, engagement reports and custom events, over the last --months
            months. Stop the server on the data directory first.

            Example:
              frontdesk analytics generate --data-dir /tmp/bench --events 1000000 --months 12
            """
        )
        @OptionGroup var data: DataOptions
        @Option(help: "Number of events (page views, engagement reports, custom events).") var events: Int = 1_000_000
        @Option(help: "Months of history ending now.") var months: Int = 12
        @Option(help: "Distinct page paths.") var paths: Int = 50_000
        @Option(help: "Distinct visitors.") var visitors: Int = 1_000_000
        @Flag(help: "VACUUM afterwards and print the bytes per raw event.") var vacuum = false

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            let config = try loadConfigOrExit(file: data.configFile(environment: environment), environment: environment, flags: data.flagValues)
            try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
            let analytics = try AnalyticsRuntime(config: config)
            var options = AnalyticsGenerator.Options(events: events, months: months, end: Date())
            options.paths = paths
            options.visitors = visitors
            var generator = AnalyticsGenerator(options)
            let ingest = analytics.ingest
            let started = ContinuousClock.now
            var written = 0
            try await generator.generate { hits in
                while !ingest.enqueue(hits) { await ingest.flush() }
                written += hits.count
                if ingest.pending >= 20_000 { await ingest.flush() }
                if written % 1_000_000 < hits.count { print("  \(written) events…") }
            }
            await ingest.flush()
            let seconds = Double((ContinuousClock.now - started).components.seconds) + Double((ContinuousClock.now - started).components.attoseconds) / 1e18
            print(String(format: "wrote %d events in %.1f s (%.0f events/s through the batch writer)", written, seconds, Double(written) / max(seconds, 0.001)))
            // What the server's hourly sweep would have done over those months.
            let swept = try await analytics.retention.sweep(now: Date())
            print("retention sweep: \(swept.events) raw events past tracking.raw_retention_days deleted; hourly rows per dimension kept for tracking.hourly_detail_days")
            if vacuum {
                try analytics.database.vacuum()
                let size = try FileManager.default.attributesOfItem(atPath: analytics.database.path)[.size] as? Int ?? 0
                print(String(format: "analytics.sqlite after VACUUM: %d bytes, %.1f bytes per raw event", size, Double(size) / Double(max(written, 1))))
            }
            try analytics.database.close()
        }
    }

    /// `frontdesk analytics query-bench`: p95 of the dashboard's queries, from the rollups and
    /// the same figures computed over the raw tables (the reference), with their ratio.
    struct QueryBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "query-bench", abstract: "Time the dashboard's queries against naive raw-table queries.")
        @OptionGroup var data: DataOptions
        @Option(help: "Runs per query.") var runs: Int = 20

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            let config = try loadConfigOrExit(file: data.configFile(environment: environment), environment: environment, flags: data.flagValues)
            let analytics = try AnalyticsRuntime(config: config)
            let queries = analytics.queries
            let days = queries.days
            let today = days.day(ofUnix: Int64(Date().timeIntervalSince1970))
            // A filter every visit passes sends the same questions down the raw-table path.
            let raw = [AnalyticsFilter(field: .device, raw: "!none-such")]
            func dashboard(_ range: AnalyticsRange, _ filters: [AnalyticsFilter]) async throws {
                _ = try await queries.totals(range, filters: filters)
                _ = try await queries.totals(range.previous(days: days), filters: filters)
                _ = try await queries.timeseries(range, interval: range.toDay - range.fromDay > 60 ? .month : .day, filters: filters)
                _ = try await queries.breakdown(range, by: .page, filters: filters)
                _ = try await queries.breakdown(range, by: .source, filters: filters)
            }
            func p95(_ runs: Int, _ body: () async throws -> Void) async throws -> Double {
                var times: [Double] = []
                for _ in 0..<runs {
                    let start = ContinuousClock.now
                    try await body()
                    let d = ContinuousClock.now - start
                    times.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
                }
                times.sort()
                return times[min(times.count - 1, Int((Double(times.count) * 0.95).rounded(.up)) - 1)]
            }
            let month = AnalyticsRange(fromDay: today - 29, toDay: today, days: days)
            let year = AnalyticsRange(fromDay: today - 364, toDay: today, days: days)
            print(String(format: "%-52@ %10@ %10@ %8@", "query (p95 of \(runs) runs)" as NSString, "rollups" as NSString, "raw" as NSString, "ratio" as NSString))
            for (name, range) in [("summary+series+top pages+top sources, 30 days", month), ("summary+series+top pages+top sources, 12 months", year)] {
                let fast = try await p95(runs) { try await dashboard(range, []) }
                let slow = try await p95(max(3, runs / 4)) { try await dashboard(range, raw) }
                print(String(format: "%-52@ %8.1f ms %8.1f ms %7.1fx", name as NSString, fast, slow, slow / fast))
            }
            let realtime = try await p95(runs) { _ = try await queries.realtime(now: Int64(Date().timeIntervalSince1970)) }
            print(String(format: "%-52@ %8.2f ms", "realtime (last 5 minutes)" as NSString, realtime))
            // A 4-step funnel over 30 days, from the raw events.
            let goals = analytics.goals
            var steps: [Int64] = []
            let existing = try await goals.goals()
            for (index, path) in ["/", "/section-2/page-2", "/section-3/page-3", "/section-4/page-4"].enumerated() {
                if let goal = existing.first(where: { $0.name == "bench step \(index)" }) { steps.append(goal.id); continue }
                steps.append(try await goals.createGoal(name: "bench step \(index)", kind: .page, pattern: path, propertyKey: nil, propertyValue: nil, now: 0).id)
            }
            let known = try await goals.funnels().first(where: { $0.name == "bench funnel" })
            let funnel: AnalyticsFunnel
            if let known { funnel = known } else { funnel = try await goals.createFunnel(name: "bench funnel", steps: steps, now: 0) }
            var result: FunnelResult?
            let funnelTime = try await p95(max(3, runs / 4)) { result = try await goals.funnelResult(id: funnel.id, month) }
            print(String(format: "%-52@ %8.1f ms  (steps: %@)", "4-step funnel, 30 days (raw events)" as NSString, funnelTime,
                         (result?.steps.map { String($0.visits) }.joined(separator: " → ") ?? "") as NSString))
            let events = try await analytics.database.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM visitor_events") ?? 0 }
            print("raw events in analytics.sqlite: \(events)")
            try analytics.database.close()
        }
    }
}
