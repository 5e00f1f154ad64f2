import Foundation
import FrontdeskTestSupport
import GRDB
import Logging
import Metrics
import Testing
@testable import FrontdeskCore

/// A seeded generator (SplitMix64) so the property tests replay the same data every run.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `analytics.sqlite` in a temp directory with an ingest queue in front, as the server has it.
final class AnalyticsFixture: @unchecked Sendable {
    let directory = TempDirectory()
    let database: AnalyticsDatabase
    let ingest: AnalyticsIngest
    let queries: AnalyticsQueries
    let days: LocalDays

    init(timeZone: String = "UTC", maxValues: Int = 100_000, batchSize: Int = 100) throws {
        let zone = TimeZone(identifier: timeZone)!
        database = try AnalyticsDatabase(path: directory.file("analytics.sqlite"))
        ingest = AnalyticsIngest(database: database, timeZone: zone, maxValuesPerPeriod: maxValues, batchSize: batchSize,
                                 logger: Logger(label: "test"), metrics: NOOPMetricsHandler.instance)
        queries = AnalyticsQueries(database: database, timeZone: zone)
        days = LocalDays(timeZone: zone)
    }

    func record(_ hits: [AnalyticsHit]) async {
        for chunk in stride(from: 0, to: hits.count, by: 37).map({ Array(hits[$0..<min($0 + 37, hits.count)]) }) {
            #expect(ingest.enqueue(chunk))
        }
        await ingest.flush()
    }

    func range(_ from: String, _ to: String) -> AnalyticsRange {
        AnalyticsRange(fromDay: AnalyticsCalendar.day(from: from)!, toDay: AnalyticsCalendar.day(from: to)!, days: days)
    }

    deinit { try? database.close() }
}

/// 2027-01-15 00:00 UTC.
let day0: Int64 = 1_799_971_200

func hit(_ t: Int64, visitor: Int64, _ kind: IngestEvent.Kind = .pageview, path: String = "/", name: String? = nil, engagedMs: Int? = nil,
         props: String? = nil, source: String = "Direct", referrer: String? = nil, country: String? = nil, device: String = "desktop",
         browser: String = "Firefox", os: String = "Linux", utmCampaign: String? = nil) -> AnalyticsHit {
    AnalyticsHit(time: t, visitor: visitor,
                 event: IngestEvent(kind: kind, path: path, host: "www.example.com", utmSource: nil, utmMedium: nil, utmCampaign: utmCampaign,
                                    referrer: nil, name: name, props: props, engagedMs: engagedMs, scrollDepth: nil, screen: nil, visitor: nil),
                 source: source, referrer: referrer, country: country, device: device, browser: browser, os: os)
}

@Suite("Analytics engine")
struct AnalyticsEngineTests {
    // MARK: privacy

    @Test("the cookieless id is stable within a day and changes with the salt at the site's midnight; yesterday's salt is gone")
    func saltRotation() throws {
        let clock = TestClock(start: Date(timeIntervalSince1970: TimeInterval(day0 + 22 * 3600)))   // 2027-01-15 22:00 UTC = 17:00 New York
        let counter = SaltCounter()
        let salt = VisitorSalt(timeZone: TimeZone(identifier: "America/New_York")!, now: clock.wall, random: { counter.next() })
        let morning = salt.cookielessID(site: "example.com", address: "127.9.8.7", userAgent: "UA")
        #expect(salt.cookielessID(site: "example.com", address: "127.9.8.7", userAgent: "UA") == morning)
        #expect(salt.cookielessID(site: "example.com", address: "127.9.8.6", userAgent: "UA") != morning)
        #expect(salt.cookielessID(site: "other.example", address: "127.9.8.7", userAgent: "UA") != morning)
        #expect(salt.cookielessID(site: "example.com", address: "127.9.8.7", userAgent: "UA2") != morning)
        // 04:59 UTC next day is still the 15th in New York: same salt, same id.
        clock.advance(seconds: 6 * 3600 + 59 * 60)
        #expect(salt.cookielessID(site: "example.com", address: "127.9.8.7", userAgent: "UA") == morning)
        #expect(counter.calls == 1)
        let firstDay = try #require(salt.saltDay)
        // 05:01 UTC is 00:01 on the 16th there: a new salt, the old one overwritten.
        clock.advance(seconds: 2 * 60)
        let nextDay = salt.cookielessID(site: "example.com", address: "127.9.8.7", userAgent: "UA")
        #expect(nextDay != morning)
        #expect(counter.calls == 2)
        #expect(salt.saltDay == firstDay + 1)
        // Nothing the salt offers recomputes yesterday's id: every id asked for now is today's.
        for address in ["127.9.8.7", "127.9.8.6"] {
            #expect(salt.cookielessID(site: "example.com", address: address, userAgent: "UA") != morning)
        }
        // The consented id ignores the salt: the same visitor across days.
        #expect(VisitorSalt.consentedID(site: "example.com", visitor: "abcdefghijklmnop") == VisitorSalt.consentedID(site: "example.com", visitor: "abcdefghijklmnop"))
    }

    // MARK: visits

    @Test("a visit ends after 30 minutes without activity; entry, exit and page count follow the page views")
    func visitSplit() async throws {
        let f = try AnalyticsFixture()
        let t = day0 + 10 * 3600
        await f.record([hit(t, visitor: 1, path: "/a"), hit(t + 29 * 60, visitor: 1, path: "/b"),
                        hit(t + 29 * 60 + 30 * 60 + 1, visitor: 1, path: "/c"), hit(t + 29 * 60 + 30 * 60 + 2, visitor: 2, path: "/a")])
        let rows = try await f.database.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT v.visitor, v.pageviews, e.value AS entry, x.value AS exit FROM visitor_sessions v
                JOIN analytics_strings e ON e.id = v.entry_page JOIN analytics_strings x ON x.id = v.exit_page ORDER BY v.id
                """).map { "\($0["visitor"] as Int64) \($0["pageviews"] as Int) \($0["entry"] as String)→\($0["exit"] as String)" }
        }
        #expect(rows == ["1 2 /a→/b", "1 1 /c→/c", "2 1 /a→/a"])
        let totals = try await f.queries.totals(f.range("2027-01-15", "2027-01-15"))
        #expect(totals.visits == 3 && totals.pageviews == 4 && totals.visitors == 2)
    }

    @Test("closing the queue at shutdown writes what was queued and refuses what comes after, so a 202 is always written")
    func closedQueueRefuses() async throws {
        let f = try AnalyticsFixture()
        #expect(f.ingest.enqueue([hit(day0, visitor: 1), hit(day0 + 1, visitor: 2)]))
        await f.ingest.close()
        #expect(f.ingest.isClosed)
        #expect(!f.ingest.enqueue([hit(day0 + 2, visitor: 3)]))
        await f.ingest.flush()
        let events = try await f.database.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM visitor_events") }
        #expect(events == 2)
    }

    @Test("bounce: one page view and under 10 s engaged; a second page view or 10 s engaged is no bounce")
    func bounces() async throws {
        let f = try AnalyticsFixture()
        let t = day0 + 9 * 3600
        await f.record([
            hit(t, visitor: 1, path: "/one"), hit(t + 20, visitor: 1, .engagement, path: "/one", engagedMs: 9_999),        // bounce
            hit(t, visitor: 2, path: "/one"), hit(t + 20, visitor: 2, .engagement, path: "/one", engagedMs: 10_000),       // engaged: no bounce
            hit(t, visitor: 3, path: "/one"), hit(t + 60, visitor: 3, path: "/two"),                                       // two pages: no bounce
            hit(t, visitor: 4, path: "/one"),                                                                                // bounce
        ])
        let totals = try await f.queries.totals(f.range("2027-01-15", "2027-01-15"))
        #expect(totals.visits == 4)
        #expect(totals.bounceRate == 0.5)
        #expect(totals.visitDuration == 5.0)   // (9.999 + 10) s over 4 visits
        let exits = try await f.queries.breakdown(f.range("2027-01-15", "2027-01-15"), by: .exitPage, sort: .value, descending: false)
        #expect(exits.items.map { "\($0.value) \($0.visits) \($0.bounces)" } == ["/one 3 2", "/two 1 0"])
    }

    @Test("an engagement report extends the visit it measured; one with no visit is dropped")
    func engagementAttachment() async throws {
        let f = try AnalyticsFixture()
        let t = day0 + 12 * 3600
        // Read for 40 minutes, report on leaving: the engaged time began inside the visit.
        await f.record([hit(t, visitor: 1, path: "/long"), hit(t + 40 * 60, visitor: 1, .engagement, path: "/long", engagedMs: 40 * 60 * 1000),
                        hit(t, visitor: 2, .engagement, path: "/x", engagedMs: 1000)])
        let totals = try await f.queries.totals(f.range("2027-01-15", "2027-01-15"))
        #expect(totals.visits == 1 && totals.visitDuration == 2400 && totals.bounceRate == 0)
        let events = try await f.database.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM visitor_events") }
        #expect(events == 2)
    }

    // MARK: rollups

    /// Random traffic over three days: 80 visitors, 30 pages, gaps that sometimes end the visit.
    static func randomTraffic(seed: UInt64, count: Int) -> [AnalyticsHit] {
        var rng = SeededRandom(seed: seed)
        var t = day0 + 3600
        var hits: [AnalyticsHit] = []
        let sources = ["Direct", "google.com", "news.ycombinator.com", "newsletter"]
        let countries: [String?] = [nil, "DE", "FR", "US"]
        for _ in 0..<count {
            t += Int64.random(in: 0...240, using: &rng)
            let visitor = Int64.random(in: 1...80, using: &rng)
            let page = "/p\(Int.random(in: 0..<30, using: &rng))"
            let kind = Int.random(in: 0..<10, using: &rng)
            let engaged = Int.random(in: 0...30_000, using: &rng)
            let facts = (source: sources[Int(visitor) % 4], country: countries[Int(visitor / 4) % 4], device: ["desktop", "mobile", "tablet"][Int(visitor) % 3])
            switch kind {
            case 0...5: hits.append(hit(t, visitor: visitor, path: page, source: facts.source, country: facts.country, device: facts.device,
                                        utmCampaign: visitor % 5 == 0 ? "spring" : nil))
            case 6, 7: hits.append(hit(t, visitor: visitor, .engagement, path: page, engagedMs: engaged, source: facts.source, country: facts.country, device: facts.device))
            default: hits.append(hit(t, visitor: visitor, .event, path: page, name: ["signup", "download", "404"][kind % 3], source: facts.source,
                                     country: facts.country, device: facts.device))
            }
        }
        return hits
    }

    /// The hourly and daily rollups recounted from the raw visits and events, by the rules in AnalyticsRecorder.
    static func bruteForce(_ db: Database, days: LocalDays) throws -> (hourly: [String: [Int]], daily: [String: [Int]]) {
        struct Visit { var visitor: Int64; var started: Int64; var pageviews: Int; var engaged: Int; var exit: Int64; var fixed: [Int64] }
        var visits: [Int64: Visit] = [:]
        let fixedColumns = AnalyticsDimension.visitFixed.map { $0.sessionColumn! }
        for row in try Row.fetchAll(db, sql: "SELECT * FROM visitor_sessions") {
            visits[row["id"]] = Visit(visitor: row["visitor"], started: row["started_at"], pageviews: row["pageviews"], engaged: row["engaged_ms"],
                                      exit: row["exit_page"], fixed: fixedColumns.map { row[$0] })
        }
        var hourly: [String: [Int]] = [:]   // "dim/hour/value" → pv, visits, bounces, engaged, events, visitors
        var daily: [String: [Int]] = [:]    // "dim/day/value" → the same
        var hourSets: [String: Set<Int64>] = [:]
        var daySets: [String: Set<Int64>] = [:]
        func add(_ dim: AnalyticsDimension, _ hour: Int64, _ value: Int64, _ index: Int, _ amount: Int) {
            hourly["\(dim.rawValue)/\(hour)/\(value)", default: [0, 0, 0, 0, 0, 0]][index] += amount
            daily["\(dim.rawValue)/\(days.day(ofUnix: hour * 3600))/\(value)", default: [0, 0, 0, 0, 0, 0]][index] += amount
        }
        func visitor(_ dim: AnalyticsDimension, _ t: Int64, _ value: Int64, _ who: Int64) {
            hourSets["\(dim.rawValue)/\(t / 3600)/\(value)", default: []].insert(who)
            daySets["\(dim.rawValue)/\(days.day(ofUnix: t))/\(value)", default: []].insert(who)
        }
        for visit in visits.values {
            let hour = visit.started / 3600
            let bounce = visit.pageviews == 1 && visit.engaged < 10_000 ? 1 : 0
            for (dim, value) in [(AnalyticsDimension.total, Int64(0))] + zip(AnalyticsDimension.visitFixed, visit.fixed).map({ ($0, $1) }) {
                add(dim, hour, value, 1, 1)
                add(dim, hour, value, 2, bounce)
                add(dim, hour, value, 3, visit.engaged)
                visitor(dim, visit.started, value, visit.visitor)
            }
            add(.exitPage, hour, visit.exit, 1, 1)
            add(.exitPage, hour, visit.exit, 2, bounce)
        }
        for row in try Row.fetchAll(db, sql: "SELECT * FROM visitor_events") {
            let t: Int64 = row["t"], hour = t / 3600, page: Int64 = row["page"]
            let visit = visits[row["session_id"]]!
            switch row["event_type"] as Int {
            case 0:
                add(.total, hour, 0, 0, 1)
                add(.page, hour, page, 0, 1)
                for (dim, value) in zip(AnalyticsDimension.visitFixed, visit.fixed) { add(dim, hour, value, 0, 1) }
                visitor(.page, t, page, visit.visitor)
            case 1:
                let name: Int64 = row["name"]
                add(.total, hour, 0, 4, 1)
                add(.eventName, hour, name, 4, 1)
                visitor(.eventName, t, name, visit.visitor)
            default:
                add(.page, hour, page, 3, row["engaged_ms"])
            }
        }
        for (key, set) in hourSets { hourly[key, default: [0, 0, 0, 0, 0, 0]][5] = set.count }
        for (key, set) in daySets { daily[key, default: [0, 0, 0, 0, 0, 0]][5] = set.count }
        return (hourly.filter { $0.value != [0, 0, 0, 0, 0, 0] }, daily.filter { $0.value != [0, 0, 0, 0, 0, 0] })
    }

    @Test("the rollups equal a brute-force recount of the raw visits and events (random traffic, fixed seed)", arguments: [UInt64(7), 20261202])
    func rollupsMatchBruteForce(seed: UInt64) async throws {
        let f = try AnalyticsFixture(timeZone: "Europe/Berlin")
        await f.record(Self.randomTraffic(seed: seed, count: 3_000))
        let (kept, keptDaily, expected) = try await f.database.pool.read { db in
            let kept = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT * FROM analytics_hourly").compactMap { row -> (String, [Int])? in
                let values: [Int] = [row["pageviews"], row["visits"], row["bounces"], row["engaged_ms"], row["events"], row["visitors"]]
                return values == [0, 0, 0, 0, 0, 0] ? nil : ("\(row["dim"] as Int)/\(row["hour"] as Int64)/\(row["value"] as Int64)", values)
            })
            let keptDaily = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT * FROM analytics_daily").compactMap { row -> (String, [Int])? in
                let values: [Int] = [row["pageviews"], row["visits"], row["bounces"], row["engaged_ms"], row["events"], row["visitors"]]
                return values == [0, 0, 0, 0, 0, 0] ? nil : ("\(row["dim"] as Int)/\(row["day"] as Int)/\(row["value"] as Int64)", values)
            })
            return (kept, keptDaily, try Self.bruteForce(db, days: f.days))
        }
        #expect(kept.count > 500)
        #expect(kept.count == expected.hourly.count)
        let wrong = expected.hourly.filter { kept[$0.key] != $0.value }.prefix(5).map { "\($0.key): want \($0.value), kept \(kept[$0.key].map { "\($0)" } ?? "none")" }
        #expect(wrong == [])
        #expect(keptDaily.count == expected.daily.count)
        #expect(expected.daily.filter { keptDaily[$0.key] != $0.value }.count == 0)
        // The unfiltered answer (rollups) and the filtered one (raw tables) agree when the filter keeps everything.
        let range = f.range("2027-01-14", "2027-01-25")
        let everything = [AnalyticsFilter(field: .device, raw: "!no-such-device")]
        #expect(try await f.queries.totals(range) .pageviews == (try await f.queries.totals(range, filters: everything)).pageviews)
        let fromRollups = try await f.queries.breakdown(range, by: .source, sort: .value, descending: false)
        let fromRaw = try await f.queries.breakdown(range, by: .source, filters: everything, sort: .value, descending: false)
        #expect(fromRollups.items.map { [$0.visits, $0.pageviews, $0.bounces] } == fromRaw.items.map { [$0.visits, $0.pageviews, $0.bounces] })
    }

    @Test("past the cap of distinct values per dimension and hour, new values are counted as (other)")
    func otherFolding() async throws {
        let f = try AnalyticsFixture(maxValues: 10)
        let t = day0 + 15 * 3600
        await f.record((0..<15).map { hit(t + Int64($0), visitor: Int64($0 + 1), path: "/page-\($0)") })
        let pages = try await f.queries.breakdown(f.range("2027-01-15", "2027-01-15"), by: .page, sort: .pageviews, limit: 100)
        #expect(pages.folded)
        #expect(pages.total == 11)
        #expect(pages.items.first?.value == "(other)" && pages.items.first?.pageviews == 5)
        #expect(pages.items.reduce(0) { $0 + $1.pageviews } == 15)
        // The next hour has room again in the hourly rollup; the day's cap is still full, so the
        // daily rollup (what breakdowns read) counts the page in (other).
        await f.record([hit(t + 3600, visitor: 99, path: "/page-14")])
        let hourly = try await f.database.pool.read { db in
            try String.fetchAll(db, sql: """
                SELECT s.value FROM analytics_hourly h JOIN analytics_strings s ON s.id = h.value WHERE h.dim = 1 AND h.hour = ?
                """, arguments: [(t + 3600) / 3600])
        }
        #expect(hourly == ["/page-14"])
        let next = try await f.queries.breakdown(f.range("2027-01-15", "2027-01-15"), by: .page, sort: .pageviews, limit: 100)
        #expect(next.items.first?.value == "(other)" && next.items.first?.pageviews == 6)
    }

    @Test("HyperLogLog estimates stay within the stated bound, merged across days too")
    func hyperLogLog() {
        var rng = SeededRandom(seed: 42)
        for n in [100, 5_000, 200_000] {
            var sketch = HyperLogLog()
            for _ in 0..<n { sketch.insert(Int64(bitPattern: rng.next())) }
            let error = abs(Double(sketch.estimate - n)) / Double(n)
            #expect(error <= HyperLogLog.errorBound, "n=\(n) estimate=\(sketch.estimate)")
        }
        var a = HyperLogLog(), b = HyperLogLog()
        for i in 0..<30_000 { a.insert(Int64(i) &* 0x5851_F42D_4C95_7F2D) }
        for i in 20_000..<50_000 { b.insert(Int64(i) &* 0x5851_F42D_4C95_7F2D) }
        a.merge(b)
        #expect(abs(Double(a.estimate - 50_000)) / 50_000 <= HyperLogLog.errorBound)
    }

    @Test("multi-day visitors come from the merged day sketches, one day's from the exact count")
    func visitorsOverRanges() async throws {
        let f = try AnalyticsFixture()
        // 300 consented visitors every day for three days: the same people.
        var hits: [AnalyticsHit] = []
        for day in 0..<3 { for v in 0..<300 { hits.append(hit(day0 + Int64(day) * 86_400 + 3600 + Int64(v), visitor: Int64(v) &* 7919 &+ 11)) } }
        await f.record(hits)
        #expect(try await f.queries.totals(f.range("2027-01-16", "2027-01-16")).visitors == 300)
        let three = try await f.queries.totals(f.range("2027-01-15", "2027-01-17")).visitors
        #expect(abs(Double(three - 300)) / 300 <= HyperLogLog.errorBound)
        // Daily uniques per source sum per day: 300 a day.
        let sources = try await f.queries.breakdown(f.range("2027-01-15", "2027-01-17"), by: .source)
        #expect(sources.items.map(\.visitors) == [900])
    }

    // MARK: filters, time zones, goals, funnels, retention

    @Test("filters: glob, negation and AND")
    func filters() async throws {
        let f = try AnalyticsFixture()
        let t = day0 + 8 * 3600
        await f.record([
            hit(t, visitor: 1, path: "/blog/one", country: "DE"), hit(t + 1, visitor: 2, path: "/blog/two", country: "FR"),
            hit(t + 2, visitor: 3, path: "/shop", country: "DE"), hit(t + 3, visitor: 3, path: "/shop/cart", country: "DE"),
            hit(t + 4, visitor: 4, path: "/", country: nil, device: "mobile"),
        ])
        let range = f.range("2027-01-15", "2027-01-15")
        func visits(_ filters: [AnalyticsFilter]) async throws -> Int { try await f.queries.totals(range, filters: filters).visits }
        #expect(try await visits([AnalyticsFilter(field: .page, raw: "/blog/*")]) == 2)
        #expect(try await visits([AnalyticsFilter(field: .page, raw: "!/blog/*")]) == 2)
        #expect(try await visits([AnalyticsFilter(field: .page, raw: "/blog/*"), AnalyticsFilter(field: .country, raw: "DE")]) == 1)
        #expect(try await visits([AnalyticsFilter(field: .country, raw: "!DE")]) == 2)
        #expect(try await visits([AnalyticsFilter(field: .country, raw: "(none)")]) == 1)
        #expect(try await visits([AnalyticsFilter(field: .device, raw: "mobile")]) == 1)
        #expect(try await visits([AnalyticsFilter(field: .page, raw: "/nowhere")]) == 0)
        let pages = try await f.queries.breakdown(range, by: .page, filters: [AnalyticsFilter(field: .country, raw: "DE")], sort: .value, descending: false)
        #expect(pages.items.map(\.value) == ["/blog/one", "/shop", "/shop/cart"])
    }

    @Test("time-zone buckets across the spring DST change: a 23-hour day, hours labelled with their offset")
    func dstBuckets() async throws {
        let f = try AnalyticsFixture(timeZone: "Europe/Berlin")
        // 2027-03-28: clocks go from 02:00 to 03:00 in Berlin. 00:30 UTC = 01:30 CET, 01:30 UTC = 03:30 CEST, 22:30 UTC = 00:30 on the 29th.
        let march28 = Int64(AnalyticsCalendar.daysFromCivil(year: 2027, month: 3, day: 28)) * 86_400
        await f.record([hit(march28 + 1800, visitor: 1), hit(march28 + 5400, visitor: 2), hit(march28 + 22 * 3600 + 1800, visitor: 3),
                        hit(march28 - 3600 + 1800, visitor: 4)])   // 23:30 UTC on the 27th = 00:30 CET on the 28th
        let range = f.range("2027-03-28", "2027-03-28")
        let hours = try await f.queries.timeseries(range, interval: .hour)
        #expect(hours.count == 23)
        #expect(hours.first?.bucket == "2027-03-28T00:00+01:00")
        #expect(hours[2].bucket == "2027-03-28T03:00+02:00")
        #expect(hours.map(\.pageviews).reduce(0, +) == 3)
        #expect(hours[0].pageviews == 1 && hours[1].pageviews == 1 && hours[2].pageviews == 1)
        let daily = try await f.queries.timeseries(f.range("2027-03-27", "2027-03-29"), interval: .day)
        #expect(daily.map(\.bucket) == ["2027-03-27", "2027-03-28", "2027-03-29"])
        #expect(daily.map(\.pageviews) == [0, 3, 1])
        #expect(daily.map(\.visitors) == [0, 3, 1])
        let weeks = try await f.queries.timeseries(f.range("2027-03-27", "2027-03-29"), interval: .week)
        #expect(weeks.map(\.bucket) == ["2027-03-22", "2027-03-29"])
        #expect(weeks.map(\.pageviews) == [3, 1])
    }

    @Test("goals convert, funnels count visits reaching each step in order")
    func goalsAndFunnels() async throws {
        let f = try AnalyticsFixture()
        let goals = AnalyticsGoalStore(database: f.database, queries: f.queries)
        let t = day0 + 10 * 3600
        await f.record([
            hit(t, visitor: 1, path: "/a"), hit(t + 10, visitor: 1, path: "/b"), hit(t + 20, visitor: 1, .event, path: "/b", name: "signup", props: #"{"plan":"pro"}"#),
            hit(t, visitor: 2, path: "/a"), hit(t + 10, visitor: 2, path: "/b"),
            hit(t, visitor: 3, path: "/b"), hit(t + 10, visitor: 3, path: "/a"),
            hit(t, visitor: 4, .event, path: "/x", name: "signup", props: #"{"plan":"free"}"#),
        ])
        let a = try await goals.createGoal(name: "A", kind: .page, pattern: "/a", propertyKey: nil, propertyValue: nil, now: t)
        let b = try await goals.createGoal(name: "B", kind: .page, pattern: "/b", propertyKey: nil, propertyValue: nil, now: t)
        let signup = try await goals.createGoal(name: "Signup", kind: .event, pattern: "signup", propertyKey: nil, propertyValue: nil, now: t)
        let pro = try await goals.createGoal(name: "Pro", kind: .event, pattern: "signup", propertyKey: "plan", propertyValue: "pro", now: t)
        let range = f.range("2027-01-15", "2027-01-15")
        let results = try await goals.goalResults(range)
        #expect(results.map { "\($0.goal.name) \($0.conversions) \($0.conversionRate)" } == ["A 3 0.75", "B 3 0.75", "Signup 2 0.5", "Pro 1 0.25"])
        let funnel = try await goals.createFunnel(name: "Buy", steps: [a.id, b.id, signup.id], now: t)
        let result = try await goals.funnelResult(id: funnel.id, range)
        #expect(result.steps.map { "\($0.goal) \($0.visits) \($0.dropOff)" } == ["A 3 0", "B 2 1", "Signup 1 1"])
        await #expect(throws: FrontdeskError.self) { try await goals.deleteGoal(id: a.id) }
        #expect(try await f.queries.totals(range, filters: [AnalyticsFilter(field: .goal, raw: "Pro")]).visits == 1)
        #expect(try await f.queries.totals(range, filters: [AnalyticsFilter(field: .goal, raw: "!\(pro.id)")]).visits == 3)
    }

    @Test("retention deletes raw events and visits past the limit in bounded batches and keeps the rollups")
    func retention() async throws {
        let f = try AnalyticsFixture(batchSize: 1000)
        let old = (0..<120).map { hit(day0 + Int64($0) * 60, visitor: Int64($0 % 7)) }
        let recent = (0..<5).map { hit(day0 + 10 * 86_400 + Int64($0), visitor: 100) }
        await f.record(old + recent)
        let sweeper = AnalyticsRetention(database: f.database, retentionDays: 5, hourlyDetailDays: 3, batchSize: 25)
        let (events, visits) = try await sweeper.sweep(now: Date(timeIntervalSince1970: TimeInterval(day0 + 10 * 86_400 + 3600)))
        #expect(events == 120)
        #expect(visits > 0)
        let left = try await f.database.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM visitor_events") }
        #expect(left == 5)
        #expect(try await f.queries.totals(f.range("2027-01-15", "2027-01-15")).pageviews == 120)
        // Hourly rows per dimension went after 3 days; the hourly totals and the daily rollups stay.
        let (detail, totals) = try await f.database.pool.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM analytics_hourly WHERE dim <> 0 AND hour < ?", arguments: [(day0 + 5 * 86_400) / 3600]),
             try Int.fetchOne(db, sql: "SELECT sum(pageviews) FROM analytics_hourly WHERE dim = 0 AND hour < ?", arguments: [(day0 + 5 * 86_400) / 3600]))
        }
        #expect(detail == 0 && totals == 120)
        let pages = try await f.queries.breakdown(f.range("2027-01-15", "2027-01-15"), by: .page)
        #expect(pages.items.map(\.pageviews) == [120])
        #expect(try await f.queries.timeseries(f.range("2027-01-15", "2027-01-15"), interval: .hour).map(\.pageviews).reduce(0, +) == 120)
    }
}

/// Hands out distinct 32-byte salts and counts how many were made.
final class SaltCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var made = 0
    var calls: Int { lock.withLock { made } }
    func next() -> [UInt8] {
        lock.withLock {
            made += 1
            return [UInt8](repeating: UInt8(made), count: 32)
        }
    }
}
