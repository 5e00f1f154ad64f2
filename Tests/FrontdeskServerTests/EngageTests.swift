import Foundation
import FrontdeskCore
import FrontdeskTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing
@testable import FrontdeskServer

/// Collects what a scheduler publishes and lets a test wait for the next change without sleeping.
private final class ChangeLog: Sendable {
    let stream: AsyncStream<EngageChanges>
    let continuation: AsyncStream<EngageChanges>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: EngageChanges.self)
    }
}

@Suite("Engage: banners", .timeLimit(.minutes(3)))
struct EngageTests {
    /// 2027-03-27 12:00 UTC: Saturday before the spring change in Europe (Sunday 28 March, 02:00 CET → 03:00 CEST).
    static let beforeSpringChange = Date(timeIntervalSince1970: 1_806_148_800)

    @Test("the scheduler publishes at the start and withdraws at the end, in the site's time zone across a DST change")
    func schedulerEdgesAcrossDST() async throws {
        let clock = TestClock(start: Self.beforeSpringChange)
        let env = try TestEnvironment(flags: ["tracking.timezone": "Europe/Berlin"], now: clock.wall)
        let store = env.runtime.engage.store
        // Saturday 23:00 CET (22:00Z) to Sunday 23:00 CEST (21:00Z): one wall-clock day, 23 hours long.
        let created = try await store.createBanner(BannerInput(title: "Night notice", content: "We are *moving*.", startsAt: .some("2027-03-27T23:00"),
                                                               endsAt: .some("2027-03-28T23:00")), now: clock.date)
        #expect(created.startsAt == "2027-03-27T22:00:00Z")
        #expect(created.endsAt == "2027-03-28T21:00:00Z")
        let id = try #require(created.id)
        _ = try await store.setStatus(id: id, published: true, now: clock.date)

        let log = ChangeLog()
        let scheduler = EngageSchedulerService(store: store, clock: clock, now: clock.wall, logger: Logger(label: "test")) { log.continuation.yield($0) }
        var changes = log.stream.makeAsyncIterator()
        let running = Task { try await scheduler.run() }
        defer { running.cancel() }
        await clock.waitForSleeper()
        #expect(scheduler.nextEdge == EngageLimits.instant("2027-03-27T22:00:00Z"))
        #expect(try await store.liveBanners(at: clock.date).isEmpty)

        // 10 hours later: 22:00Z, the start.
        clock.advance(by: .seconds(10 * 3600))
        let published = try #require(await changes.next())
        #expect(published.published.map(\.id) == [id] && published.withdrawn.isEmpty)
        #expect(published.published.first?.html == "<p>We are <em>moving</em>.</p>\n")
        await clock.waitForSleeper()
        #expect(scheduler.nextEdge == EngageLimits.instant("2027-03-28T21:00:00Z"))

        // One minute before the end (22 h 59 min after the start) it is still live…
        clock.advance(by: .seconds(22 * 3600 + 59 * 60))
        await clock.waitForSleeper()
        #expect(try await store.liveBanners(at: clock.date).map(\.id) == [id])
        // …and at 23 hours — not 24: the night lost an hour — it is withdrawn.
        clock.advance(by: .seconds(60))
        let withdrawn = try #require(await changes.next())
        #expect(withdrawn.withdrawn == [id] && withdrawn.published.isEmpty)
        #expect(try await store.liveBanners(at: clock.date).isEmpty)
        await clock.waitForSleeper()
        #expect(scheduler.nextEdge == nil)
    }

    @Test("local times: a time the spring change skips is refused, one the autumn change repeats means the first")
    func localTimesAroundDST() throws {
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        #expect(EngageLimits.localInstant("2027-03-28T02:30", in: berlin) == .failure(.skipped("Europe/Berlin")))
        // 31 October 2027, 02:30 happens twice: first in CEST (00:30Z), then in CET (01:30Z).
        #expect(try EngageLimits.localInstant("2027-10-31T02:30", in: berlin).get() == EngageLimits.instant("2027-10-31T00:30:00Z"))
        #expect(try EngageLimits.localInstant("2027-07-01T09:00", in: berlin).get() == EngageLimits.instant("2027-07-01T07:00:00Z"))
        #expect(EngageLimits.localInstant("2027-02-30T09:00", in: berlin) == .failure(.malformed))
        #expect(EngageLimits.localInstant("2027-07-01 09:00", in: berlin) == .failure(.malformed))
    }

    @Test("the admin API refuses bad banners with 422 naming the field; the public document follows publish and unpublish with its ETag")
    func adminAndPublicAPI() async throws {
        let env = try TestEnvironment(["FRONTDESK_SITE_ORIGINS": "https://www.bakery.example"], flags: ["tracking.timezone": "Europe/Berlin"])
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            var console = ConsoleClient(client: client)
            #expect(try await console.signIn("owner@example.com") == .ok)
            let refusals: [(String, String)] = [
                (#"{"title":"x","content":"<script>alert(1)</script>"}"#, "content"),
                (#"{"title":"x","content":"hi","cta":{"label":"Go","url":"https://evil.example/steal"}}"#, "cta.url"),
                (#"{"title":"x","content":"hi","cta":{"label":"Go","url":"javascript:alert(1)"}}"#, "cta.url"),
                (#"{"title":"x","content":"hi","cta":{"label":"Go","url":"//evil.example/"}}"#, "cta.url"),
                (#"{"title":"x","content":"hi","cta":{"label":"Go"}}"#, "cta.url"),
                (#"{"title":"x","content":"hi","position":"inline"}"#, "slot"),
                (#"{"title":"x","content":"hi","slot":"side"}"#, "slot"),
                (#"{"title":"x","content":"hi","startsAt":"2027-05-02T10:00","endsAt":"2027-05-01T10:00"}"#, "endsAt"),
                (#"{"title":"x","content":"hi","startsAt":"2027-03-28T02:30"}"#, "startsAt"),
                (#"{"title":"x","content":"hi","startsAt":"tomorrow"}"#, "startsAt"),
                (#"{"title":"x","content":"hi","paths":["pricing"]}"#, "paths"),
                (#"{"title":"x","content":"hi","devices":["phone"]}"#, "devices"),
                (#"{"title":"x","content":"hi","type":""}"#, "type"),
                (#"{"title":"x","content":"hi","priority":1001}"#, "priority"),
                (#"{"title":"x","content":"hi","colour":"red"}"#, "colour"),
                (#"{"content":"hi"}"#, "title"),
            ]
            for (body, field) in refusals {
                let response = try await console.send(.post, "/api/v1/admin/engage/banners", json: body)
                #expect(response.status == .unprocessableContent && response.envelope?.error.details[field] != nil, "\(body) → \(response.status) \(response.envelope?.error.details ?? [:])")
            }
            let created = try await console.send(.post, "/api/v1/admin/engage/banners", json: #"""
                {"title":"Sale","type":"promo","content":"**20 %** off <3 [all](https://www.bakery.example/sale)","cta":{"label":"Shop","url":"/shop"},
                 "paths":["/shop/**"],"devices":["mobile","desktop"],"priority":5}
                """#)
            #expect(created.status == .created)
            let id = try #require(created.json?["id"] as? Int)
            #expect(created.json?["status"] as? String == "draft" && created.json?["version"] as? Int == 1)
            #expect((created.json?["html"] as? String)?.contains("<strong>20 %</strong> off &lt;3") == true)

            let empty = try await client.executeRequest(uri: "/api/v1/engage", method: .get, headers: [:], body: nil)
            #expect(empty.status == .ok && (empty.json?["banners"] as? [Any])?.isEmpty == true)
            let etag = try #require(empty.headers[.eTag])
            let same = try await client.executeRequest(uri: "/api/v1/engage", method: .get, headers: [.ifNoneMatch: etag], body: nil)
            #expect(same.status == .notModified)

            #expect(try await console.send(.post, "/api/v1/admin/engage/banners/\(id)/publish").status == .ok)
            let live = try await client.executeRequest(uri: "/api/v1/engage", method: .get, headers: [.ifNoneMatch: etag], body: nil)
            #expect(live.status == .ok)
            let banners = try #require(live.json?["banners"] as? [[String: Any]])
            #expect(banners.count == 1 && banners.first?["id"] as? Int == id)
            #expect((banners.first?["cta"] as? [String: Any])?["url"] as? String == "/shop")
            #expect((banners.first?["targeting"] as? [String: Any])?["devices"] as? [String] == ["mobile", "desktop"])

            // Editing what a visitor sees makes a new version (a dismissal of the old one no longer hides it).
            let edited = try await console.send(.patch, "/api/v1/admin/engage/banners/\(id)", json: #"{"content":"**30 %** off"}"#)
            #expect(edited.status == .ok && edited.json?["version"] as? Int == 2)
            let moved = try await console.send(.patch, "/api/v1/admin/engage/banners/\(id)", json: #"{"priority":7}"#)
            #expect(moved.json?["version"] as? Int == 2)
            let badPatch = try await console.send(.patch, "/api/v1/admin/engage/banners/\(id)", json: #"{"position":"inline"}"#)
            #expect(badPatch.status == .unprocessableContent && badPatch.envelope?.error.details["slot"] != nil)

            #expect(try await console.send(.post, "/api/v1/admin/engage/banners/\(id)/unpublish").status == .ok)
            let gone = try await client.executeRequest(uri: "/api/v1/engage", method: .get, headers: [:], body: nil)
            #expect((gone.json?["banners"] as? [Any])?.isEmpty == true)
            #expect(try await console.send(.delete, "/api/v1/admin/engage/banners/\(id)").status == .noContent)
            #expect(try await console.send(.get, "/api/v1/admin/engage/banners/\(id)").status == .notFound)

            let preview = try await console.send(.post, "/api/v1/admin/engage/preview", json: #"{"content":"[x](javascript:alert(1)) *y*"}"#)
            #expect(preview.status == .ok && (preview.json?["html"] as? String)?.contains("javascript:") == false)
        }
    }

    @Test("holdout: a visitor's bucket is stable, and 10,000 visitors split within 1.5 points of the share")
    func holdoutAssignment() {
        var held = 0
        for i in 0..<10_000 {
            let visitor = "v_\(i)-\(i &* 2_654_435_761 % 1_000_003)"
            let out = EngageAssignment.isHeldOut(rule: 7, visitor: visitor, percent: 10)
            #expect(out == EngageAssignment.isHeldOut(rule: 7, visitor: visitor, percent: 10))
            if out { held += 1 }
        }
        #expect((850...1150).contains(held), "held out \(held) of 10,000 at 10 %")
        // Fixed values the page's copy of the hash (engage.ts) must give as well.
        #expect(EngageAssignment.bucket(rule: 1, visitor: "abc") == EngageAssignment.bucket(rule: 1, visitor: "abc"))
        #expect(EngageAssignment.bucket(rule: 1, visitor: "abc") != EngageAssignment.bucket(rule: 2, visitor: "abc"))
    }
}
