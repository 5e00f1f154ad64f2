import Foundation
import FrontdeskCore
import FrontdeskTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Logging
import Synchronization
import Testing
@testable import FrontdeskServer

/// The console dashboard's additions to the analytics API: goal and funnel previews (what the
/// editor shows before saving) with the same rules and named errors as saving.
@Suite("Analytics dashboard API")
struct AnalyticsDashboardTests {
    /// 2027-01-15 08:00 UTC.
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    static let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"

    /// Three visitors (their browsers' versions differ, so their daily ids do): all see /landing,
    /// two /pricing, one signs up as pro and one as free.
    func sendVisits(_ client: some TestClientProtocol, _ env: TestEnvironment) async throws {
        let visits: [(String, [String])] = [("126.0", ["/landing", "/pricing", "signup:pro"]), ("125.0", ["/landing", "/pricing", "signup:free"]), ("124.0", ["/landing"])]
        for (version, steps) in visits {
            let events = steps.map { step -> String in
                if step.hasPrefix("signup:") { return #"{"type":"event","url":"https://www.example.com/pricing","name":"signup","props":{"plan":"\#(step.dropFirst(7))"}}"# }
                return #"{"type":"pageview","url":"https://www.example.com\#(step)"}"#
            }
            let r = try await client.executeRequest(uri: "/api/v1/events", method: .post,
                                                    headers: [.contentType: "text/plain", .userAgent: Self.firefox.replacingOccurrences(of: "126.0", with: version), .origin: "https://www.example.com"],
                                                    body: ByteBuffer(string: #"{"events":[\#(events.joined(separator: ","))]}"#))
            #expect(r.status == .accepted)
        }
        await env.runtime.analytics.ingest.flush()
    }

    @Test("a goal preview counts what the saved goal then reports; bad definitions and ranges are 422 naming each field")
    func goalPreview() async throws {
        let env = try TestEnvironment(flags: ["server.site_origins": "https://www.example.com"], now: { Self.start })
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            try await sendVisits(client, env)
            var console = ConsoleClient(client: client)
            #expect(try await console.signIn("owner@example.com") == .ok)
            let range = "from=2027-01-15&to=2027-01-15"
            let pricing = try await console.send(.get, "/api/v1/admin/analytics/goals/preview?kind=page&pattern=/pri*&\(range)")
            #expect(pricing.status == .ok)
            #expect(pricing.json?["conversions"] as? Int == 2)
            #expect(pricing.json?["visitors"] as? Int == 2)
            #expect(pricing.json?["conversionRate"] as? Double == 0.667)
            let pro = try await console.send(.get, "/api/v1/admin/analytics/goals/preview?kind=event&pattern=signup&propertyKey=plan&propertyValue=pro&\(range)")
            #expect(pro.json?["conversions"] as? Int == 1)
            let anyPlan = try await console.send(.get, "/api/v1/admin/analytics/goals/preview?kind=event&pattern=sign*&\(range)")
            #expect(anyPlan.json?["conversions"] as? Int == 2)
            // Saved, the goal reports what its preview said.
            #expect(try await console.send(.post, "/api/v1/admin/analytics/goals", json: #"{"name":"Pricing","kind":"page","pattern":"/pri*"}"#).status == .created)
            let results = try await console.send(.get, "/api/v1/admin/analytics/goals?\(range)")
            #expect((results.json?["items"] as? [[String: Any]])?.first?["conversions"] as? Int == 2)
            // Nothing was stored by the previews.
            #expect((results.json?["items"] as? [[String: Any]])?.count == 1)

            let bad = try await console.send(.get, "/api/v1/admin/analytics/goals/preview?kind=page&pattern=pricing&propertyKey=plan&from=2027-01-20&to=2027-01-10")
            #expect(bad.status == .unprocessableContent)
            #expect(bad.envelope?.error.details == ["pattern": "must be a path starting with / (* matches any characters)", "propertyValue": "is required with propertyKey",
                                                     "propertyKey": "is allowed on event goals only", "to": "must not be before from"])
            let unknown = try await console.send(.get, "/api/v1/admin/analytics/goals/preview?kind=%20page&pattern=/x&colour=red")
            #expect(Set((unknown.envelope?.error.details ?? [:]).keys) == ["kind", "colour"])
            let event = try await console.send(.get, "/api/v1/admin/analytics/goals/preview?kind=event&pattern=%3Cscript%3E")
            #expect(event.envelope?.error.details["pattern"]?.hasPrefix("must be an event name") == true)
            let missing = try await console.send(.get, "/api/v1/admin/analytics/goals/preview")
            #expect(missing.envelope?.error.details == ["kind": "is required", "pattern": "is required"])
            let signedOut = try await client.executeRequest(uri: "/api/v1/admin/analytics/goals/preview?kind=page&pattern=/", method: .get, headers: [:], body: nil)
            #expect(signedOut.status == .unauthorized)
        }
    }

    @Test("a funnel preview of existing goals counts visits per step in order; bad steps are 422 naming steps or steps[i]")
    func funnelPreview() async throws {
        let env = try TestEnvironment(flags: ["server.site_origins": "https://www.example.com"], now: { Self.start })
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            try await sendVisits(client, env)
            var console = ConsoleClient(client: client)
            #expect(try await console.signIn("owner@example.com") == .ok)
            var ids: [Int] = []
            for body in [#"{"name":"Landing","kind":"page","pattern":"/landing"}"#, #"{"name":"Pricing","kind":"page","pattern":"/pricing"}"#,
                         #"{"name":"Pro","kind":"event","pattern":"signup","propertyKey":"plan","propertyValue":"pro"}"#] {
                ids.append(try await console.send(.post, "/api/v1/admin/analytics/goals", json: body).json?["id"] as? Int ?? 0)
            }
            let range = "from=2027-01-15&to=2027-01-15"
            let preview = try await console.send(.get, "/api/v1/admin/analytics/funnels/preview?steps=\(ids.map(String.init).joined(separator: ","))&\(range)")
            #expect(preview.status == .ok)
            let steps = preview.json?["steps"] as? [[String: Any]]
            #expect(steps?.map { $0["goal"] as? String } == ["Landing", "Pricing", "Pro"])
            #expect(steps?.map { $0["visits"] as? Int } == [3, 2, 1])
            #expect(steps?.map { $0["dropOff"] as? Int } == [0, 1, 1])
            #expect(steps?.map { $0["conversionRate"] as? Double } == [1, 0.667, 0.333])
            // Saved, the funnel reports what its preview said.
            let funnel = try await console.send(.post, "/api/v1/admin/analytics/funnels", json: #"{"name":"Sign-up","steps":[\#(ids.map(String.init).joined(separator: ","))]}"#)
            let saved = try await console.send(.get, "/api/v1/admin/analytics/funnels/\(funnel.json?["id"] as? Int ?? 0)/results?\(range)")
            #expect((saved.json?["steps"] as? [[String: Any]])?.map { $0["visits"] as? Int } == [3, 2, 1])

            for (query, details) in [("steps=\(ids[0])", ["steps": "must hold 2 to 8 goal ids, comma-separated, not 1"]),
                                     ("steps=1,2,3,4,5,6,7,8,9", ["steps": "must hold 2 to 8 goal ids, comma-separated, not 9"]),
                                     ("steps=01,2", ["steps": "must be goal ids (positive integers), comma-separated"]),
                                     ("steps=%2B1,2", ["steps": "must be goal ids (positive integers), comma-separated"]),
                                     ("steps=\(ids[0]),999", ["steps[1]": "names no goal"]),
                                     ("", ["steps": "is required: 2 to 8 goal ids in order, comma-separated"]),
                                     ("steps=1,2&from=2027-13-01", ["from": "must be a date like 2027-01-31"])] {
                let r = try await console.send(.get, "/api/v1/admin/analytics/funnels/preview?\(query)")
                #expect(r.status == .unprocessableContent, "\(query)")
                #expect(r.envelope?.error.details == details, "\(query)")
            }
        }
    }

    @Test("a panel's CSV follows the screen's filters and defuses cells a spreadsheet would run as formulas")
    func csvExport() async throws {
        let env = try TestEnvironment(flags: ["server.site_origins": "https://www.example.com"], now: { Self.start })
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            for (version, campaign) in [("126.0", "=HYPERLINK(%22https://evil.example%22)"), ("125.0", "spring"), ("124.0", "spring")] {
                let body = #"{"events":[{"type":"pageview","url":"https://www.example.com/offer?utm_source=news&utm_campaign=\#(campaign)"}]}"#
                let r = try await client.executeRequest(uri: "/api/v1/events", method: .post,
                                                        headers: [.contentType: "text/plain", .userAgent: Self.firefox.replacingOccurrences(of: "126.0", with: version), .origin: "https://www.example.com"],
                                                        body: ByteBuffer(string: body))
                #expect(r.status == .accepted)
            }
            await env.runtime.analytics.ingest.flush()
            var console = ConsoleClient(client: client)
            #expect(try await console.signIn("owner@example.com") == .ok)
            let csv = try await console.send(.get, "/api/v1/admin/analytics/export?report=breakdown&by=utm_campaign&format=csv&from=2027-01-15&to=2027-01-15")
            let rows = CSV.parse(csv.text)
            #expect(rows.first == ["utm_campaign", "visitors", "visits", "pageviews", "bounces", "events", "engaged_seconds"])
            #expect(rows.dropFirst().map { $0.prefix(2) } == [["spring", "2"], ["'=HYPERLINK(\"https://evil.example\")", "1"]])
            // With a filter, as the screen's CSV link sends it: only the filtered visits.
            let filtered = try await console.send(.get, "/api/v1/admin/analytics/export?report=breakdown&by=utm_campaign&format=csv&from=2027-01-15&to=2027-01-15&utm_campaign=spring")
            #expect(CSV.parse(filtered.text).dropFirst().map { $0.prefix(2) } == [["spring", "2"]])
            let series = try await console.send(.get, "/api/v1/admin/analytics/export?report=timeseries&interval=day&format=csv&from=2027-01-14&to=2027-01-15&utm_campaign=!spring")
            #expect(CSV.parse(series.text) == [["day", "visitors", "visits", "pageviews", "bounces", "events"], ["2027-01-14", "0", "0", "0", "0", "0"], ["2027-01-15", "1", "1", "1", "1", "0"]])
        }
    }

    @Test("realtime lists the visits active in the last five minutes without visitor ids; the push sends nothing while no agent listens")
    func realtimeVisits() async throws {
        let clock = Mutex(Self.start)
        let env = try TestEnvironment(flags: ["server.site_origins": "https://www.example.com"], now: { clock.withLock { $0 } })
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            try await sendVisits(client, env)
            var console = ConsoleClient(client: client)
            #expect(try await console.signIn("owner@example.com") == .ok)
            let now = try await console.send(.get, "/api/v1/admin/analytics/realtime")
            #expect(now.json?["visitors"] as? Int == 3)
            let visits = now.json?["visits"] as? [[String: Any]] ?? []
            #expect(visits.count == 3)
            #expect(Set(visits.compactMap { $0["page"] as? String }) == ["/pricing", "/landing"])
            #expect(visits.map { $0["startedAt"] as? String } == Array(repeating: "2027-01-15T08:00:00Z", count: 3))
            #expect(visits.map { $0["source"] as? String } == Array(repeating: "Direct", count: 3))
            #expect(visits.allSatisfy { Set($0.keys) == ["page", "source", "country", "device", "pageviews", "startedAt", "lastSeenAt"] })
            // Six minutes later nobody is on the site.
            clock.withLock { $0 = Self.start.addingTimeInterval(360) }
            let later = try await console.send(.get, "/api/v1/admin/analytics/realtime")
            #expect(later.json?["visitors"] as? Int == 0)
            #expect((later.json?["visits"] as? [Any])?.isEmpty == true)
            let push = AnalyticsRealtimePushService(queries: env.runtime.analytics.queries, hub: env.runtime.chat, interval: .seconds(3), clock: ContinuousClock(),
                                                    now: { clock.withLock { $0 } }, logger: Logger(label: "test"))
            var last: RealtimeNow?
            #expect(try await push.round(last: &last) == nil)
        }
    }

    @Test("the tracking settings screen reads what the server counts with; an unknown parameter is a named 422")
    func trackingSettings() async throws {
        let env = try TestEnvironment(flags: ["server.site_origins": "https://www.example.com", "tracking.timezone": "Europe/Berlin", "tracking.raw_retention_days": "90"],
                                      now: { Self.start })
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            var console = ConsoleClient(client: client)
            #expect(try await console.signIn("owner@example.com") == .ok)
            let r = try await console.send(.get, "/api/v1/admin/analytics/settings")
            #expect(r.status == .ok)
            #expect(r.json?["timezone"] as? String == "Europe/Berlin")
            #expect(r.json?["rawRetentionDays"] as? Int == 90)
            #expect(r.json?["hourlyDetailDays"] as? Int == 31)
            #expect(r.json?["siteOrigins"] as? [String] == ["https://www.example.com"])
            #expect((r.json?["geoip"] as? [String: Any])?["configured"] as? Bool == false)
            let bad = try await console.send(.get, "/api/v1/admin/analytics/settings?colour=red")
            #expect(bad.envelope?.error.details == ["colour": "is not a known parameter"])
        }
    }
}
