import Foundation
import FrontdeskCore
import FrontdeskTestSupport
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ServiceLifecycle
import Testing
@testable import FrontdeskServer

private let beaconHeaders: HTTPFields = [.contentType: "text/plain;charset=UTF-8", .userAgent: firefox]
private let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"

@Suite("Analytics API", .timeLimit(.minutes(3)))
struct AnalyticsAPITests {
    /// 2027-01-15 08:00 UTC, the TestClock's default start.
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    func post(_ client: some TestClientProtocol, _ body: String, headers: HTTPFields = beaconHeaders) async throws -> TestResponse {
        try await client.executeRequest(uri: "/api/v1/events", method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    @Test("beacons as text/plain are queued (202), written by the batch writer and counted in the console's summary")
    func ingestAndSummary() async throws {
        let env = try TestEnvironment(flags: ["server.site_origins": "https://www.example.com"], now: { Self.start })
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            let batch = #"{"events":[{"type":"pageview","url":"https://www.example.com/blog/hello?utm_source=news&x=1","referrer":"https://www.google.com/search?q=secret"},"#
                + #"{"type":"event","url":"https://www.example.com/blog/hello","name":"signup","props":{"plan":"pro"}},"#
                + #"{"type":"engagement","url":"https://www.example.com/blog/hello","engagedMs":12000,"scrollDepth":80}]}"#
            let accepted = try await post(client, batch, headers: beaconHeaders.merging([.origin: "https://www.example.com"]))
            #expect(accepted.status == .accepted)
            #expect(accepted.json?["accepted"] as? Int == 3)
            #expect(accepted.headers[HTTPField.Name("RateLimit-Policy")!]?.hasPrefix("\"events\"") == true)
            #expect(accepted.headers[.accessControlAllowOrigin] == "https://www.example.com")
            let json = try await post(client, #"{"events":[{"type":"pageview","url":"https://www.example.com/"}]}"#, headers: [.contentType: "application/json", .userAgent: firefox])
            #expect(json.status == .accepted)
            await env.runtime.analytics.ingest.flush()
            var console = ConsoleClient(client: client)
            #expect(try await console.signIn("owner@example.com") == .ok)
            let summary = try await console.send(.get, "/api/v1/admin/analytics/summary?from=2027-01-15&to=2027-01-15")
            #expect(summary.status == .ok)
            let current = summary.json?["current"] as? [String: Any]
            #expect(current?["pageviews"] as? Int == 2)
            #expect(current?["visits"] as? Int == 1)
            #expect(current?["visitors"] as? Int == 1)
            #expect(current?["events"] as? Int == 1)
            #expect(current?["bounceRate"] as? Double == 0)
            #expect((summary.json?["previous"] as? [String: Any])?["visits"] as? Int == 0)
            let sources = try await console.send(.get, "/api/v1/admin/analytics/breakdown?by=source&from=2027-01-15&to=2027-01-15")
            #expect(((sources.json?["items"] as? [[String: Any]])?.first)?["value"] as? String == "news")
            let referrers = try await console.send(.get, "/api/v1/admin/analytics/breakdown?by=utm_source&from=2027-01-15&to=2027-01-15")
            #expect(((referrers.json?["items"] as? [[String: Any]])?.first)?["value"] as? String == "news")
            let pages = try await console.send(.get, "/api/v1/admin/analytics/breakdown?by=page&sort=-pageviews&from=2027-01-15&to=2027-01-15&page=/blog/*")
            #expect((pages.json?["items"] as? [[String: Any]])?.map { $0["value"] as? String } == ["/", "/blog/hello"])
            let series = try await console.send(.get, "/api/v1/admin/analytics/timeseries?interval=hour&from=2027-01-15&to=2027-01-15")
            let points = series.json?["points"] as? [[String: Any]]
            #expect(points?.count == 24)
            #expect(points?[8]["pageviews"] as? Int == 2)
            let realtime = try await console.send(.get, "/api/v1/admin/analytics/realtime")
            #expect(realtime.json?["visitors"] as? Int == 1)
            let csv = try await console.send(.get, "/api/v1/admin/analytics/export?report=breakdown&by=page&format=csv&from=2027-01-15&to=2027-01-15")
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(csv.text.hasPrefix("page,visitors,visits,pageviews,bounces,events,engaged_seconds\r\n") || csv.text.hasPrefix("page,visitors,visits,pageviews,bounces,events,engaged_seconds\n"))
            #expect(csv.text.contains("/blog/hello"))
            let props = try await env.runtime.analytics.database.pool.read { db in try String.fetchOne(db, sql: "SELECT props FROM visitor_events WHERE event_type = 1") }
            #expect(props == #"{"plan":"pro"}"#)
        }
    }

    @Test("bad beacons: 400 with the position, 413 over 64 KiB, 415, 422 naming each event and field, 403 for a foreign origin")
    func badInput() async throws {
        let env = try TestEnvironment(flags: ["server.site_origins": "https://www.example.com"])
        try await env.application().test(.router) { client in
            let malformed = try await post(client, "{\"events\": [\n{\"type\": }]}")
            #expect(malformed.status == .badRequest && malformed.envelope?.error.code == "malformed_json")
            #expect(malformed.envelope?.error.details["line"] == "2")
            let big = try await post(client, #"{"events":[{"type":"pageview","url":"https://www.example.com/\#(String(repeating: "a", count: 70_000))"}]}"#)
            #expect(big.status == .contentTooLarge)
            let wrongType = try await post(client, #"{"events":[]}"#, headers: [.contentType: "application/x-www-form-urlencoded"])
            #expect(wrongType.status == .unsupportedMediaType)
            let shapes = try await post(client, #"{"events":[{"type":"pageview","url":"https://www.example.com/"},{"type":"event","url":"https://www.example.com/"},"#
                                        + #"{"type":"engagement","url":"ftp://x","engagedMs":-1},{"type":"event","url":"https://a.example/","name":"bad<name>","props":{"k":[1]}},"#
                                        + #"{"type":"pageview","url":"https://a.example/","visitor":"short","extra":1}]}"#)
            #expect(shapes.status == .unprocessableContent)
            let details = shapes.envelope?.error.details ?? [:]
            #expect(Set(details.keys) == ["events[1].name", "events[2].url", "events[2].engagedMs", "events[3].name", "events[3].props.k", "events[4].visitor", "events[4].extra"])
            let tooMany = try await post(client, #"{"events":[\#(Array(repeating: #"{"type":"pageview","url":"https://www.example.com/"}"#, count: 51).joined(separator: ","))]}"#)
            #expect(tooMany.status == .unprocessableContent && tooMany.envelope?.error.details["events"] != nil)
            let manyProps = try await post(client, #"{"events":[{"type":"event","url":"https://www.example.com/","name":"x","props":{\#((0..<17).map { "\"k\($0)\":1" }.joined(separator: ","))}}]}"#)
            #expect(manyProps.envelope?.error.details["events[0].props"] == "must have at most 16 keys")
            let foreign = try await post(client, #"{"events":[{"type":"pageview","url":"https://www.example.com/"}]}"#, headers: beaconHeaders.merging([.origin: "https://evil.example"]))
            #expect(foreign.status == .forbidden && foreign.envelope?.error.code == "origin_not_allowed")
            await env.runtime.analytics.ingest.flush()
            let rows = try await env.runtime.analytics.database.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM visitor_events") }
            #expect(rows == 0)
        }
    }

    @Test("bots and prefetches are answered 202, dropped, and counted in /metrics")
    func bots() async throws {
        let env = try TestEnvironment()
        try await env.application().test(.router) { client in
            let body = #"{"events":[{"type":"pageview","url":"https://www.example.com/"}]}"#
            let bot = try await post(client, body, headers: [.contentType: "text/plain", .userAgent: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"])
            #expect(bot.status == .accepted)
            let headless = try await post(client, body, headers: [.contentType: "text/plain", .userAgent: "Mozilla/5.0 HeadlessChrome/126.0"])
            #expect(headless.status == .accepted)
            let prefetch = try await post(client, body, headers: beaconHeaders.merging([HTTPField.Name("Sec-Purpose")!: "prefetch"]))
            #expect(prefetch.status == .accepted)
            await env.runtime.analytics.ingest.flush()
            let rows = try await env.runtime.analytics.database.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM visitor_events") }
            #expect(rows == 0)
            let metrics = try await client.executeRequest(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(testMetricsToken)"], body: nil).text
            #expect(metrics.contains("frontdesk_analytics_bot_requests_dropped_total 3"))
        }
    }

    @Test("the events class limits a flooding address alone")
    func eventsRateLimit() async throws {
        let env = try TestEnvironment(flags: ["rate_limit.events_per_minute": "2", "rate_limit.events_burst": "2"])
        try await env.application().test(.router) { client in
            let body = #"{"events":[{"type":"pageview","url":"https://www.example.com/"}]}"#
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<4 { statuses.append(try await post(client, body).status) }
            #expect(statuses.prefix(2).allSatisfy { $0 == .accepted })
            #expect(statuses.last == .tooManyRequests)
            // The API class is untouched by the flood.
            let other = try await client.executeRequest(uri: "/api/v1/forms/contact", method: .get, headers: [:], body: nil)
            #expect(other.status == .ok)
        }
    }

    @Test("the console's goals and funnels: CRUD with named errors, results, signed-out 401")
    func goalsAndFunnels() async throws {
        let env = try TestEnvironment(now: { Self.start })
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            for path in ["/a", "/b"] { _ = try await post(client, #"{"events":[{"type":"pageview","url":"https://www.example.com\#(path)"}]}"#) }
            await env.runtime.analytics.ingest.flush()
            let signedOut = try await client.executeRequest(uri: "/api/v1/admin/analytics/goals", method: .get, headers: [:], body: nil)
            #expect(signedOut.status == .unauthorized)
            var console = ConsoleClient(client: client)
            #expect(try await console.signIn("owner@example.com") == .ok)
            let a = try await console.send(.post, "/api/v1/admin/analytics/goals", json: #"{"name":"Saw A","kind":"page","pattern":"/a"}"#)
            #expect(a.status == .created)
            let b = try await console.send(.post, "/api/v1/admin/analytics/goals", json: #"{"name":"Saw B","kind":"page","pattern":"/b"}"#)
            let bad = try await console.send(.post, "/api/v1/admin/analytics/goals", json: #"{"name":"x","kind":"click","pattern":"a","propertyKey":"k"}"#)
            #expect(bad.status == .unprocessableContent)
            #expect(Set((bad.envelope?.error.details ?? [:]).keys) == ["kind", "propertyValue"])
            let twice = try await console.send(.post, "/api/v1/admin/analytics/goals", json: #"{"name":"Saw A","kind":"page","pattern":"/a"}"#)
            #expect(twice.status == .conflict && twice.envelope?.error.code == "goal_exists")
            let results = try await console.send(.get, "/api/v1/admin/analytics/goals?from=2027-01-15&to=2027-01-15")
            #expect((results.json?["items"] as? [[String: Any]])?.map { $0["conversions"] as? Int } == [1, 1])
            let ids = [a.json?["id"] as? Int ?? 0, b.json?["id"] as? Int ?? 0]
            let funnel = try await console.send(.post, "/api/v1/admin/analytics/funnels", json: #"{"name":"A then B","steps":[\#(ids[0]),\#(ids[1])]}"#)
            #expect(funnel.status == .created)
            let oneStep = try await console.send(.post, "/api/v1/admin/analytics/funnels", json: #"{"name":"short","steps":[\#(ids[0])]}"#)
            #expect(oneStep.envelope?.error.details["steps"] != nil)
            let missing = try await console.send(.post, "/api/v1/admin/analytics/funnels", json: #"{"name":"ghost","steps":[\#(ids[0]),999]}"#)
            #expect(missing.envelope?.error.details["steps[1]"] == "names no goal")
            let id = funnel.json?["id"] as? Int ?? 0
            let result = try await console.send(.get, "/api/v1/admin/analytics/funnels/\(id)/results?from=2027-01-15&to=2027-01-15")
            #expect((result.json?["steps"] as? [[String: Any]])?.map { $0["visits"] as? Int } == [1, 1])
            #expect(try await console.send(.delete, "/api/v1/admin/analytics/goals/\(ids[0])").status == .conflict)
            #expect(try await console.send(.delete, "/api/v1/admin/analytics/funnels/\(id)").status == .noContent)
            #expect(try await console.send(.delete, "/api/v1/admin/analytics/goals/\(ids[0])").status == .noContent)
            let badQuery = try await console.send(.get, "/api/v1/admin/analytics/breakdown?by=shoe&from=2027-02-30&sort=size&limit=0&bogus=1")
            #expect(Set((badQuery.envelope?.error.details ?? [:]).keys) == ["by", "from", "sort", "limit", "bogus"])
        }
    }

    @Test("the batch writer commits every second on its clock and writes everything queued on graceful shutdown")
    func batchWriterService() async throws {
        let env = try TestEnvironment()
        let clock = TestClock()
        let ingest = env.runtime.analytics.ingest
        let service = AnalyticsBatchWriterService(ingest: ingest, clock: clock, logger: Logger(label: "test"))
        let group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        let event = IngestEvent(kind: .pageview, path: "/", host: "example.com", utmSource: nil, utmMedium: nil, utmCampaign: nil, referrer: nil, name: nil,
                                props: nil, engagedMs: nil, scrollDepth: nil, screen: nil, visitor: nil)
        func hits(_ n: Int) -> [AnalyticsHit] {
            (0..<n).map { AnalyticsHit(time: 1_800_000_000 + Int64($0), visitor: Int64($0), event: event, source: "Direct", referrer: nil, country: nil,
                                       device: "desktop", browser: "Firefox", os: "Linux") }
        }
        func written() async throws -> Int {
            try await env.runtime.analytics.database.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM visitor_events") ?? 0 }
        }
        await clock.waitForSleeper()
        #expect(ingest.enqueue(hits(10)))
        #expect(try await written() == 0)
        clock.advance(by: .seconds(1))
        await clock.waitForSleeper()   // it flushed, then went back to sleep
        #expect(try await written() == 10)
        #expect(ingest.enqueue(hits(25)))
        let path = env.runtime.analytics.database.path
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(ingest.pending == 0)
        // The service closed the pool; read the file afresh.
        let reopened = try DatabaseQueue(path: path)
        #expect(try await reopened.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM visitor_events") } == 35)
    }
}
