import Foundation
import FrontdeskCore
import FrontdeskTestSupport
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
@testable import FrontdeskServer

@Suite("Privacy retention")
struct PrivacyRetentionTests {
    static let day: Double = 86_400

    /// Rows of `table` (with an optional condition).
    static func count(_ env: TestEnvironment, _ table: String, _ condition: String = "1") async throws -> Int {
        try await env.runtime.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) WHERE \(condition)") ?? 0 }
    }

    @Test("each kind is swept on the manual clock when its retention ends, in bounded batches, counted in /metrics; fresher rows stay")
    func sweepPerKind() async throws {
        let clock = TestClock()
        let env = try TestEnvironment(flags: PrivacyFixture.flags, now: clock.wall)
        let site = PrivacyFixture.site
        try await env.application().test(.router) { client in
            for i in 0..<5 {
                _ = try await PrivacyFixture.post(client, "/api/v1/contact", #"{"name":"Old \#(i)","email":"old\#(i)@example.com","message":"Old message."}"#)
            }
            #expect(try await PrivacyFixture.post(client, "/api/v1/tickets", #"{"email":"t@example.com","subject":"Old","description":"Closed long ago."}"#).status == .created)
            #expect(try await PrivacyFixture.post(client, "/api/v1/newsletter/subscriptions", #"{"email":"gone@example.com"}"#).status == .accepted)
            let banner = try await client.executeRequest(uri: "/api/v1/consent/config?locale=en", method: .get, headers: [:], body: nil)
            let version = try #require(banner.json?["version"] as? Int), hash = try #require(banner.json?["hash"] as? String)
            #expect(try await PrivacyFixture.post(client, "/api/v1/consents", #"{"action":"reject_all","granted":["necessary"],"version":\#(version),"hash":"\#(hash)","locale":"en"}"#).status == .created)
            let beacon = #"{"events":[{"type":"pageview","url":"\#(site)/old","visitor":"retention-visitor-1"}]}"#
            #expect(try await PrivacyFixture.post(client, "/api/v1/events", beacon, headers: [.contentType: "application/json", .origin: site,
                                                                                               .userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"]).status == .accepted)
        }
        await env.runtime.analytics.ingest.flush()
        await PrivacyFixture.deliverMail(env)
        let stamp = Timestamps.iso8601Milliseconds(clock.date)
        // What the lifecycle would have done by now: the ticket closed, the address unsubscribed, a chat closed.
        try env.runtime.database.writeDirectly { db in
            try db.execute(sql: "UPDATE support_tickets SET status = 'closed', closed_at = ?", arguments: [stamp])
            try db.execute(sql: "UPDATE newsletter_subscriptions SET status = 'unsubscribed', unsubscribed_at = ?", arguments: [stamp])
            try db.execute(sql: """
                INSERT INTO chat_conversations (visitor_id, status, closed_by, created_at, updated_at, closed_at) VALUES ('v-old', 'closed', 'visitor', ?, ?, ?)
                """, arguments: [stamp, stamp, stamp])
        }
        #expect(try await Self.count(env, "mail_outbox", "status = 'sent'") > 0)
        let spool = (env.directory as NSString).appendingPathComponent("mail")
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool).contains { $0.hasSuffix(".eml") })

        let sweeper = RetentionSweeper(service: PrivacyService(runtime: env.runtime), interval: .seconds(3600), batch: 2, clock: clock, now: clock.wall,
                                       logger: env.runtime.logger, metrics: env.runtime.metricsFactory)
        // Day 0: nothing has expired.
        #expect(await sweeper.tick().isEmpty)

        // Day 31: sent mail (30) and unsubscribed addresses (30) go, with the spool files.
        clock.advance(by: .seconds(31 * Self.day))
        let fresh = try await env.application().test(.router) { client in
            try await PrivacyFixture.post(client, "/api/v1/contact", #"{"name":"Fresh","email":"fresh@example.com","message":"New message."}"#)
        }
        #expect(fresh.status.code < 300)
        var removed = await sweeper.tick()
        #expect(removed["mail.outbox"] ?? 0 > 0 && removed["inbox.newsletter"] == 1 && removed["mail.spool"] ?? 0 > 0)
        #expect(removed["inbox.contacts"] == nil)
        #expect(try await Self.count(env, "newsletter_subscriptions") == 0)
        #expect(try await Self.count(env, "mail_outbox", "status = 'sent'") == 0)

        // Day 366: contact submissions (365, five in batches of two) and closed chats (365); the fresh contact stays.
        clock.advance(by: .seconds(335 * Self.day))
        removed = await sweeper.tick()
        #expect(removed["inbox.contacts"] == 5 && removed["chat.conversations"] == 1)
        #expect(try await Self.count(env, "contact_submissions") == 1)
        #expect(try await Self.count(env, "contact_submissions", "email = 'fresh@example.com'") == 1)
        #expect(try await Self.count(env, "support_tickets") == 1)
        #expect(removed["analytics.visits"] == nil)

        // Day 401: raw analytics (tracking.raw_retention_days = 400).
        clock.advance(by: .seconds(35 * Self.day))
        removed = await sweeper.tick()
        #expect(removed["analytics.visits"] == 2)  // the event, then its visit

        // Day 731: closed tickets (730). Day 1096: consent proofs (1095), logged in consent_removals.
        clock.advance(by: .seconds(330 * Self.day))
        #expect(await sweeper.tick()["inbox.tickets"] == 1)
        #expect(try await Self.count(env, "support_tickets") == 0)
        clock.advance(by: .seconds(365 * Self.day))
        #expect(await sweeper.tick()["consent.records"] == 1)
        #expect(try await Self.count(env, "consent_removals", "reason = 'retention' AND consent_id IS NULL") == 1)

        // /metrics counts what was removed, per kind.
        var buffer = [UInt8]()
        env.runtime.registry.emit(into: &buffer)
        let metrics = String(decoding: buffer, as: UTF8.self)
        // The five old contacts, and the fresh one once it too was past 365 days (day 731).
        #expect(metrics.contains(#"frontdesk_retention_removed_total{kind="inbox.contacts"} 6"#))
        #expect(metrics.contains(#"frontdesk_retention_removed_total{kind="consent.records"} 1"#))
    }

    @Test("a retention of 0 keeps a kind until erased")
    func zeroKeeps() async throws {
        let clock = TestClock()
        let env = try TestEnvironment(flags: PrivacyFixture.flags.merging(["retention.contact_submissions_days": "0"]) { $1 }, now: clock.wall)
        try await env.application().test(.router) { client in
            _ = try await PrivacyFixture.post(client, "/api/v1/contact", #"{"name":"Kept","email":"kept@example.com","message":"Keep me."}"#)
        }
        clock.advance(by: .seconds(4000 * Self.day))
        let removed = try await PrivacyService(runtime: env.runtime).sweepRetention(now: clock.date, batch: 100)
        #expect(removed["inbox.contacts"] == nil)
        #expect(try await Self.count(env, "contact_submissions") == 1)
    }
}
