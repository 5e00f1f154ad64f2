import Foundation
import FrontdeskCore
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing
@testable import FrontdeskServer

/// A clock the test moves by hand.
final class ManualNow: Sendable {
    private let value: Mutex<Date>
    init(_ start: Date) { value = Mutex(start) }
    var now: Date { value.withLock { $0 } }
    func set(_ date: Date) { value.withLock { $0 = date } }
    var closure: @Sendable () -> Date { { [self] in self.now } }
}

@Suite("Consent")
struct ConsentTests {
    static let start = Date(timeIntervalSince1970: 1_796_000_000)  // 2026-11-30

    /// The published banner in `locale`: version, hash, document.
    static func config(_ client: some TestClientProtocol, locale: String = "en") async throws -> (version: Int, hash: String, document: String, promptSince: Int) {
        let response = try await client.executeRequest(uri: "/api/v1/consent/config?locale=\(locale)", method: .get, headers: [:], body: nil)
        #expect(response.status == .ok)
        let json = try #require(response.json)
        return (json["version"] as! Int, json["hash"] as! String, json["document"] as! String, json["promptSince"] as! Int)
    }

    static func post(_ client: some TestClientProtocol, _ body: String, headers: HTTPFields = jsonHeaders) async throws -> TestResponse {
        try await client.executeRequest(uri: "/api/v1/consents", method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    @Test("the config's hash is the SHA-256 of its document; ETag answers 304; a proof row is 201 with the fields the issue lists")
    func recordsProof() async throws {
        let env = try TestEnvironment(flags: ["rate_limit.enabled": "false"])
        try await env.application().test(.router) { client in
            let banner = try await Self.config(client, locale: "de")
            #expect(ContentDigest.sha256Hex(banner.document) == banner.hash)
            #expect(banner.document.contains("Alle akzeptieren"))
            let first = try await client.executeRequest(uri: "/api/v1/consent/config?locale=de", method: .get, headers: [:], body: nil)
            let etag = try #require(first.headers[.eTag])
            let again = try await client.executeRequest(uri: "/api/v1/consent/config?locale=de", method: .get, headers: [.ifNoneMatch: etag], body: nil)
            #expect(again.status == .notModified)
            let badLocale = try await client.executeRequest(uri: "/api/v1/consent/config?locale=xx", method: .get, headers: [:], body: nil)
            #expect(badLocale.status == .unprocessableContent && badLocale.envelope?.error.details["locale"] != nil)

            let created = try await Self.post(client, """
                {"action":"custom","granted":["necessary","analytics"],"version":\(banner.version),"hash":"\(banner.hash)","locale":"de","pagePath":"/shop?email=a@b.c#x","gpc":false}
                """, headers: [.contentType: "application/json", .userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0", HTTPField.Name("Sec-GPC")!: "1"])
            #expect(created.status == .created)
            let receipt = try #require(created.json)
            let consentID = try #require(receipt["consentId"] as? String)
            #expect(receipt["denied"] as? [String] == ["functional", "marketing"])
            let rows = try await ConsentStore(database: env.runtime.database).exportBatch(ConsentRecordFilter(), after: 0)
            #expect(rows.count == 1)
            let row = try #require(rows.first)
            #expect(row.consentID == consentID && row.action == "custom" && row.granted == "necessary,analytics" && row.denied == "functional,marketing")
            #expect(row.textHash == banner.hash && row.policyVersion == banner.version && row.locale == "de")
            #expect(row.pagePath == "/shop")  // no query, no fragment
            #expect(row.browserFamily == "Firefox" && row.gpc)  // Sec-GPC counts even when the body says false
            #expect(row.clientNetwork == "-" || row.clientNetwork.hasSuffix(".0") || row.clientNetwork.hasSuffix("::"))

            // The visitor keeps the id: the next action is a second row under the same id.
            let withdrawn = try await Self.post(client, """
                {"consentId":"\(consentID)","action":"withdraw","granted":["necessary"],"version":\(banner.version),"hash":"\(banner.hash)","locale":"de"}
                """)
            #expect(withdrawn.status == .created && withdrawn.json?["consentId"] as? String == consentID)
        }
    }

    @Test("unknown version, hash mismatch, unknown category and a contradicting action are 422 with their codes, and counted in /metrics")
    func refusals() async throws {
        let env = try TestEnvironment(["FRONTDESK_CONSENT_CATEGORIES": "functional,analytics"], flags: ["rate_limit.enabled": "false"])
        try await env.application().test(.router) { client in
            let banner = try await Self.config(client)
            let cases: [(String, String, String)] = [
                (#"{"action":"accept_all","granted":["necessary","functional","analytics"],"version":99,"hash":"\#(banner.hash)","locale":"en"}"#, "unknown_consent_version", "version"),
                (#"{"action":"accept_all","granted":["necessary","functional","analytics"],"version":\#(banner.version),"hash":"\#(String(repeating: "a", count: 64))","locale":"en"}"#, "consent_hash_mismatch", "hash"),
                // The English hash sent with locale de: not the texts shown in German.
                (#"{"action":"reject_all","granted":["necessary"],"version":\#(banner.version),"hash":"\#(banner.hash)","locale":"de"}"#, "consent_hash_mismatch", "hash"),
                (#"{"action":"custom","granted":["necessary","marketing"],"version":\#(banner.version),"hash":"\#(banner.hash)","locale":"en"}"#, "unknown_consent_category", "granted"),
                (#"{"action":"accept_all","granted":["necessary"],"version":\#(banner.version),"hash":"\#(banner.hash)","locale":"en"}"#, "consent_action_mismatch", "action"),
                (#"{"action":"reject_all","granted":["necessary","analytics"],"version":\#(banner.version),"hash":"\#(banner.hash)","locale":"en"}"#, "consent_action_mismatch", "action"),
                (#"{"action":"maybe","granted":["cookies"],"version":0,"hash":"x","locale":"en","extra":1}"#, "validation_failed", "granted"),
            ]
            for (body, code, field) in cases {
                let response = try await Self.post(client, body)
                #expect(response.status == .unprocessableContent, "\(body)")
                #expect(response.envelope?.error.code == code, "\(body)")
                #expect(response.envelope?.error.details[field] != nil, "\(body): \(response.text)")
            }
            let invalid = try #require(try await Self.post(client, #"{"action":"maybe","granted":["cookies"],"version":0,"hash":"x","locale":"en","extra":1}"#).envelope)
            #expect(Set(invalid.error.details.keys) == ["action", "granted", "version", "hash", "extra"])
            let metrics = try await client.executeRequest(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(testMetricsToken)"], body: nil).text
            #expect(metrics.contains(#"frontdesk_consent_refused_total{reason="consent_hash_mismatch"} 2"#))
            #expect(metrics.contains(#"frontdesk_consent_refused_total{reason="unknown_consent_version"} 1"#))
            #expect(metrics.contains(#"frontdesk_consent_refused_total{reason="unknown_consent_category"} 1"#))
            #expect(metrics.contains(#"frontdesk_consent_refused_total{reason="consent_action_mismatch"} 2"#))
            #expect(metrics.contains(#"frontdesk_consent_refused_total{reason="validation_failed"} 2"#))
        }
        #expect(try await ConsentStore(database: env.runtime.database).count() == 0)
    }

    @Test("consent_records and consent_versions refuse UPDATE and DELETE; only the sweep and an erasure remove rows, and they log it")
    func appendOnly() async throws {
        let clock = ManualNow(Self.start)
        let env = try TestEnvironment(now: clock.closure)
        let store = ConsentStore(database: env.runtime.database)
        let version = try await store.ensurePublished(defaults: ConsentConfiguration(), now: clock.now)
        let consent = NewConsent(consentID: "visitor-0000000001", action: "reject_all", granted: ["necessary"], version: version.version,
                                 textHash: version.textHashes["en"]!, locale: "en", pagePath: "/", gpc: false)
        _ = try await store.record(consent, clientNetwork: "203.0.113.0", browserFamily: "Chrome", now: clock.now)
        clock.set(Self.start.addingTimeInterval(40 * 86_400))
        _ = try await store.record(NewConsent(consentID: "visitor-0000000002", action: "reject_all", granted: ["necessary"], version: version.version,
                                              textHash: version.textHashes["en"]!, locale: "en", pagePath: "/", gpc: false),
                                   clientNetwork: "203.0.113.0", browserFamily: "Chrome", now: clock.now)
        let database = env.runtime.database
        for sql in ["UPDATE consent_records SET action = 'accept_all'", "DELETE FROM consent_records", "UPDATE consent_versions SET prompt_since = 9",
                    "DELETE FROM consent_versions", "DELETE FROM consent_maintenance"] {
            #expect(throws: DatabaseError.self, "\(sql)") { try database.writeDirectly { db in try db.execute(sql: sql) } }
        }
        #expect(try await store.count() == 2)
        // The flag is clear outside the store's own transaction.
        #expect(try await database.read { db in try Int.fetchOne(db, sql: "SELECT deletions_allowed FROM consent_maintenance") } == 0)

        #expect(try await store.sweep(before: Self.start.addingTimeInterval(30 * 86_400), now: clock.now) == 1)
        #expect(try await store.count() == 1)
        #expect(try await store.erase(consentID: "visitor-0000000002", now: clock.now) == 1)
        #expect(try await store.count() == 0)
        let removals = try await store.removals()
        #expect(removals.map(\.reason) == ["erasure", "retention"] && removals.map(\.rows) == [1, 1])
        #expect(removals.first?.consentID == "visitor-0000000002")
        #expect(try await database.read { db in try Int.fetchOne(db, sql: "SELECT deletions_allowed FROM consent_maintenance") } == 0)
        // Nothing the sweep did re-opened the door, and the removal log is append-only too.
        _ = try await store.record(consent, clientNetwork: "203.0.113.0", browserFamily: "Chrome", now: clock.now)
        for sql in ["DELETE FROM consent_records", "UPDATE consent_records SET gpc = 1", "DELETE FROM consent_removals", "UPDATE consent_removals SET rows = 0"] {
            #expect(throws: DatabaseError.self, "\(sql)") { try database.writeDirectly { db in try db.execute(sql: sql) } }
        }
        #expect(try await store.count() == 1)
    }

    @Test("the retention service sweeps records older than consent.log_retention_days")
    func retentionService() async throws {
        let clock = ManualNow(Self.start)
        let env = try TestEnvironment(now: clock.closure)
        let store = ConsentStore(database: env.runtime.database)
        let version = try await store.ensurePublished(defaults: ConsentConfiguration(), now: clock.now)
        _ = try await store.record(NewConsent(consentID: nil, action: "reject_all", granted: [], version: version.version, textHash: version.textHashes["fr"]!,
                                              locale: "fr", pagePath: "/", gpc: false), clientNetwork: "-", browserFamily: "Other", now: clock.now)
        let service = ConsentRetentionService(store: store, retentionDays: 30, interval: .seconds(86_400), clock: ContinuousClock(), now: clock.closure,
                                              logger: env.runtime.logger)
        clock.set(Self.start.addingTimeInterval(29 * 86_400))
        await service.tick()
        #expect(try await store.count() == 1)
        clock.set(Self.start.addingTimeInterval(31 * 86_400))
        await service.tick()
        #expect(try await store.count() == 0)
    }

    @Test("a version that adds a service or category asks again; one that only rewords keeps promptSince and changes the hash")
    func policyVersions() async throws {
        let env = try TestEnvironment()
        let store = ConsentStore(database: env.runtime.database)
        var configuration = ConsentConfiguration(categories: ["functional", "analytics"])
        let v1 = try await store.publish(configuration, source: "console", by: nil, now: Self.start)
        #expect(v1.version == 1 && v1.promptSince == 1)
        configuration.texts["en"]!.title = "Your privacy"
        let v2 = try await store.publish(configuration, source: "console", by: nil, now: Self.start)
        #expect(v2.version == 2 && v2.promptSince == 1)
        #expect(v2.textHashes["en"] != v1.textHashes["en"] && v2.textHashes["de"] == v1.textHashes["de"])
        configuration.services.append(ConsentService(id: "maps", name: "Maps", category: "functional", provider: "Example Maps", purpose: "Shows our shop on a map.",
                                                     storage: ["NID"], retention: "6 months"))
        let v3 = try await store.publish(configuration, source: "console", by: nil, now: Self.start)
        #expect(v3.promptSince == 3)
        configuration.services.removeLast()
        let v4 = try await store.publish(configuration, source: "console", by: nil, now: Self.start)
        #expect(v4.promptSince == 3)  // removing a purpose asks nobody again
        configuration.categories.append("marketing")
        #expect(try await store.publish(configuration, source: "console", by: nil, now: Self.start).promptSince == 5)
        configuration.position = "middle"
        await #expect(throws: FrontdeskError.self) { try await store.publish(configuration, source: "console", by: nil, now: Self.start) }
        // Defaults from the configuration file are published once, and again only when they change, never over the console's.
        let fresh = try TestEnvironment()
        let freshStore = ConsentStore(database: fresh.runtime.database)
        let a = try await freshStore.ensurePublished(defaults: ConsentConfiguration(), now: Self.start)
        let b = try await freshStore.ensurePublished(defaults: ConsentConfiguration(), now: Self.start)
        #expect(a.version == 1 && b.version == 1)
        #expect(try await freshStore.ensurePublished(defaults: ConsentConfiguration(position: "box"), now: Self.start).version == 2)
    }

    /// Many consents over several days and versions through the HTTP API.
    static func seed(_ client: some TestClientProtocol, _ clock: ManualNow, env: TestEnvironment, count: Int) async throws -> [String] {
        var generator = SeededGenerator(seed: 7)
        var ids: [String] = []
        let store = ConsentStore(database: env.runtime.database)
        for index in 0..<count {
            if index == count / 2 {
                var changed = ConsentConfiguration()
                changed.texts["en"]!.body = "Reworded."
                _ = try await store.publish(changed, source: "console", by: nil, now: clock.now)
            }
            clock.set(Self.start.addingTimeInterval(Double(index) * 7_000))
            let banner = try await Self.config(client)
            let action = ["accept_all", "reject_all", "custom", "withdraw"][Int(generator.next() % 4)]
            let granted = action == "accept_all" ? #"["necessary","functional","analytics","marketing"]"# : action == "custom" ? #"["analytics"]"# : "[]"
            let response = try await Self.post(client, #"{"action":"\#(action)","granted":\#(granted),"version":\#(banner.version),"hash":"\#(banner.hash)","locale":"en"}"#)
            #expect(response.status == .created)
            ids.append(response.json?["consentId"] as? String ?? "")
        }
        return ids
    }

    @Test("statistics per day and version equal a recount of the rows; CSV and JSON exports equal the rows, by range and by consent id")
    func statisticsAndExport() async throws {
        let clock = ManualNow(Self.start)
        let env = try TestEnvironment(flags: ["rate_limit.enabled": "false"], now: clock.closure)
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            let ids = try await Self.seed(client, clock, env: env, count: 60)
            let store = ConsentStore(database: env.runtime.database)
            let rows = try await store.exportBatch(ConsentRecordFilter(), after: 0, limit: 10_000)
            #expect(rows.count == 60)
            var console = ConsoleClient(client: client)
            #expect(try await console.signIn("owner@example.com") == .ok)

            // Statistics against a recount by hand.
            let stats = try await console.send(.get, "/api/v1/admin/consent/stats")
            #expect(stats.status == .ok)
            try Self.checkStatistics(Data(buffer: stats.body), rows: rows)

            // A day range: the same rows the store's own filter finds, in CSV.
            let day = String(rows[20].createdAt.prefix(10))
            let csv = try await console.send(.get, "/api/v1/admin/consent/records/export?from=\(day)&to=\(day)&format=csv")
            #expect(csv.status == .ok)
            let lines = csv.text.split(separator: "\r\n", omittingEmptySubsequences: true).map(String.init)
            let inDay = rows.filter { $0.createdAt.hasPrefix(day) }
            #expect(lines.first == CSV.line(ConsentRecord.exportHeader).trimmingCharacters(in: .newlines))
            #expect(Array(lines.dropFirst()) == inDay.map { CSV.line($0.exportFields).trimmingCharacters(in: .newlines) })
            #expect(!inDay.isEmpty && inDay.count < rows.count)

            // The JSON export of everything equals the rows.
            let json = try await console.send(.get, "/api/v1/admin/consent/records/export?format=json")
            let exported = try JSONDecoder().decode([ConsentRecordView].self, from: Data(buffer: json.body))
            #expect(exported == rows.map(ConsentRecordView.init))

            // By consent id: that visitor's rows only, in the log and the export.
            let log = try await console.send(.get, "/api/v1/admin/consent/records?consentId=\(ids[3])")
            #expect(log.json?["total"] as? Int == 1)
            let one = try await console.send(.get, "/api/v1/admin/consent/records/export?format=json&consentId=\(ids[3])")
            #expect(try JSONDecoder().decode([ConsentRecordView].self, from: Data(buffer: one.body)).map(\.consentId) == [ids[3]])
            let bad = try await console.send(.get, "/api/v1/admin/consent/records?from=2026-13-01&to=yesterday&page=0")
            #expect(bad.status == .unprocessableContent && bad.envelope?.error.details["from"] != nil)
        }
    }

    struct StatsBody: Decodable {
        struct Row: Decodable {
            let day: String
            let version: Int
            let acceptAll: Int
            let rejectAll: Int
            let custom: Int
            let withdraw: Int
            let expired: Int
            let acceptRate: Double
        }
        let items: [Row]
    }

    /// The statistics answer equals a recount of `rows` per day and version.
    static func checkStatistics(_ body: Data, rows: [ConsentRecord]) throws {
        let items = try JSONDecoder().decode(StatsBody.self, from: body).items
        var recount: [String: [String: Int]] = [:]
        for row in rows { recount["\(row.createdAt.prefix(10))/\(row.policyVersion)", default: [:]][row.action, default: 0] += 1 }
        #expect(items.count == recount.count)
        #expect(Set(rows.map(\.policyVersion)).count == 2)
        for item in items {
            let expected = recount["\(item.day)/\(item.version)"] ?? [:]
            #expect(item.acceptAll == expected["accept_all", default: 0])
            #expect(item.rejectAll == expected["reject_all", default: 0])
            #expect(item.custom == expected["custom", default: 0])
            #expect(item.withdraw == expected["withdraw", default: 0])
            #expect(item.expired == expected["expired", default: 0])
            let choices = expected["accept_all", default: 0] + expected["reject_all", default: 0] + expected["custom", default: 0]
            if choices > 0 { #expect(abs(item.acceptRate - Double(expected["accept_all", default: 0]) / Double(choices)) < 1e-9) }
        }
    }

    @Test("the console publishes a new version (admins only); the draft is validated and kept")
    func editor() async throws {
        let env = try TestEnvironment()
        try await env.addUser("owner@example.com", role: .admin)
        try await env.addUser("agent@example.com", role: .agent)
        try await env.application().test(.router) { client in
            var owner = ConsoleClient(client: client)
            #expect(try await owner.signIn("owner@example.com") == .ok)
            let banner = try await owner.send(.get, "/api/v1/admin/consent/banner")
            #expect(banner.status == .ok)
            let published = try #require(banner.json?["published"] as? [String: Any])
            var configuration = try #require(published["configuration"] as? [String: Any])
            configuration["position"] = "corner"
            let body = String(decoding: try JSONSerialization.data(withJSONObject: configuration), as: UTF8.self)
            let saved = try await owner.send(.put, "/api/v1/admin/consent/draft", json: body)
            #expect(saved.status == .ok)
            #expect(try await owner.send(.get, "/api/v1/admin/consent/banner").json?["draft"] != nil)
            let created = try await owner.send(.post, "/api/v1/admin/consent/versions", json: body)
            #expect(created.status == .created && created.json?["version"] as? Int == 2)
            #expect(try await Self.config(client).version == 2)
            configuration["colour"] = "red"
            configuration["position"] = "top"
            let bad = try await owner.send(.post, "/api/v1/admin/consent/versions",
                                           json: String(decoding: try JSONSerialization.data(withJSONObject: configuration), as: UTF8.self))
            #expect(bad.status == .unprocessableContent && bad.envelope?.error.details["colour"] != nil)

            var agent = ConsoleClient(client: client)
            #expect(try await agent.signIn("agent@example.com") == .ok)
            #expect(try await agent.send(.post, "/api/v1/admin/consent/versions", json: body).status == .forbidden)
            #expect(try await agent.send(.get, "/api/v1/admin/consent/versions").status == .ok)
        }
    }

    @Test("[consent] and [[consent.services]] in the TOML file are the banner's defaults; a bad service is an error naming the key")
    func tomlDefaults() throws {
        let directory = NSTemporaryDirectory() + "consent-toml-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/frontdesk.toml"
        try """
            [consent]
            max_age_days = 180
            position = "box"
            categories = ["analytics", "marketing"]

            [consent.texts.de]
            title = "Datenschutz bei uns"

            [[consent.services]]
            id = "plausible"
            name = "Plausible"
            category = "analytics"
            provider = "Plausible Insights OÜ"
            purpose = "Counts visits."
            storage = ["none"]
            retention = "none"
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let config = try FrontdeskConfig.load(file: file, environment: [:], features: FeatureModules.settings)
        #expect(config[ConsentSettings.maxAgeDays] == 180)
        let defaults = ConsentSettings.defaults(config)
        #expect(defaults.position == "box" && defaults.offered == ["necessary", "analytics", "marketing"])
        #expect(defaults.services.map(\.id).contains("plausible"))
        #expect(defaults.texts(for: "de").title == "Datenschutz bei uns" && defaults.texts(for: "de").acceptAll == "Alle akzeptieren")
        #expect(defaults.problems().isEmpty)

        try """
            [[consent.services]]
            id = "Bad Id"
            name = "X"
            category = "ads"
            """.write(toFile: file, atomically: true, encoding: .utf8)
        #expect { try FrontdeskConfig.load(file: file, environment: [:], features: FeatureModules.settings) } throws: { error in
            "\(error)".contains("consent.services")
        }
        #expect(throws: ConfigErrors.self) {
            try FrontdeskConfig.load(file: nil, environment: ["FRONTDESK_CONSENT_TEXTS": #"{"xx":{"title":"t"}}"#], features: FeatureModules.settings)
        }
    }
}

/// A small deterministic generator (SplitMix64) for seeded test data.
struct SeededGenerator: RandomNumberGenerator {
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
