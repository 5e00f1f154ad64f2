import Foundation
import FrontdeskCore
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
@testable import FrontdeskServer

/// What one person left across every feature, seeded through the public APIs and the chat socket.
final class SeededPerson: @unchecked Sendable {
    let email: String
    let name: String
    init(email: String, name: String) {
        self.email = email
        self.name = name
    }
    var visitorID = ""
    var consentID = ""
    var conversationID: Int64 = 0
    var chatTicketID: Int64 = 0
    var reviewID: Int64 = 0
}

enum PrivacyFixture {
    static let site = "https://www.example.com"
    static let flags = ["rate_limit.enabled": "false", "server.site_origins": site, "mail.owner_address": "owner@example.com"]

    static func post(_ client: some TestClientProtocol, _ uri: String, _ json: String, headers: HTTPFields = jsonHeaders) async throws -> TestResponse {
        try await client.executeRequest(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: json))
    }

    /// Seeds `person` into every kind: a contact message, a ticket, a newsletter sign-up, a
    /// review, a chat that became a ticket, votes and visits under the chat's visitor id, a
    /// consent record, and the mail all that sent (delivered into the spool).
    static func seed(_ env: TestEnvironment, _ client: some TestClientProtocol, port: Int, _ person: SeededPerson, approveWith console: ConsoleClient) async throws {
        let email = person.email, name = person.name
        // An endpoint for every event: the deliveries' payloads carry what the changes carried.
        let webhooks = WebhookStore(database: env.runtime.database, outbox: WebhookOutbox())
        if try await webhooks.endpoints().isEmpty {
            _ = try await webhooks.createEndpoint(url: "https://127.0.0.1:9/crm", events: WebhookEvents.all, description: "CRM")
        }
        #expect(try await post(client, "/api/v1/contact", #"{"name":"\#(name)","email":"\#(email)","message":"Please call me back about the wedding cake."}"#).status.code < 300)
        let ticket = try await post(client, "/api/v1/tickets", #"{"email":"\#(email)","name":"\#(name)","subject":"Broken box","description":"The cake box arrived crushed."}"#)
        #expect(ticket.status == .created)
        let ticketID = try #require(ticket.json?["id"] as? Int), access = try #require(ticket.json?["accessToken"] as? String)
        // The review request a resolved ticket brings (its link's token kept only as a hash).
        #expect(try await ReviewRequests(database: env.runtime.database).create(
            ReviewRequests.Due(source: .ticket, sourceID: Int64(ticketID), email: email, name: name, about: "Broken box"),
            tokenHash: ReviewRequests.newToken().hash, now: Date(), validFor: 86_400, enqueue: { _, _ in }))
        #expect(try await post(client, "/api/v1/tickets/\(ticketID)/messages", #"{"body":"Any news, \#(name) asks?"}"#,
                               headers: [.contentType: "application/json", .authorization: "Bearer \(access)"]).status.code < 300)
        #expect(try await post(client, "/api/v1/newsletter/subscriptions", #"{"email":"\#(email)","name":"\#(name)"}"#).status.code < 300)
        let review = try await post(client, "/api/v1/reviews", #"{"rating":5,"content":"Lovely cake from \#(name).","name":"\#(name)","email":"\#(email)"}"#)
        #expect(review.status == .created)
        person.reviewID = Int64(try #require(review.json?["id"] as? Int))
        #expect(try await console.send(.post, "/api/v1/admin/reviews/moderation", json: #"{"ids":[\#(person.reviewID)],"status":"approved"}"#).status == .ok)

        // The chat: offline, the visitor leaves the address, the chat becomes a ticket.
        let (socket, welcome) = try await Chat.visitor(port)
        person.visitorID = try #require(welcome["visitorId"] as? String)
        try await socket.send("chat.send", ["clientMessageId": "m-1", "text": "Is the shop open on Sunday, says \(name)?"])
        let ack = try await socket.data("chat.ack")
        person.conversationID = Chat.id(Chat.conversation(ack))
        try await socket.send("offline.leave_email", ["conversationId": person.conversationID, "email": email, "name": name])
        person.chatTicketID = (try await socket.data("offline.ticket")["ticketId"] as? NSNumber)?.int64Value ?? 0
        await socket.close()

        // Votes and visits under the chat's visitor id: found only by following chat → visitor.
        #expect(try await post(client, "/api/v1/reviews/\(person.reviewID)/votes", #"{"visitorId":"\#(person.visitorID)"}"#).status.code < 300)
        let faq = try await FAQStore(database: env.runtime.database, secret: env.runtime.ticketSecret)
            .createEntry(FAQEntryInput(question: "Open on Sunday \(person.visitorID)?", answer: "8:00 to 12:00.", categoryID: nil, status: "published"), now: Date())
        #expect(try await post(client, "/api/v1/faq/\(faq.id ?? 0)/votes", #"{"visitorId":"\#(person.visitorID)","helpful":true}"#).status.code < 300)
        let beacon = #"{"events":[{"type":"pageview","url":"\#(site)/cakes","visitor":"\#(person.visitorID)"},{"type":"event","url":"\#(site)/cakes","name":"order","visitor":"\#(person.visitorID)"}]}"#
        #expect(try await post(client, "/api/v1/events", beacon, headers: [.contentType: "application/json", .origin: site,
                                                                         .userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"]).status == .accepted)
        await env.runtime.analytics.ingest.flush()

        let banner = try await client.executeRequest(uri: "/api/v1/consent/config?locale=en", method: .get, headers: [:], body: nil)
        let version = try #require(banner.json?["version"] as? Int), hash = try #require(banner.json?["hash"] as? String)
        let consent = try await post(client, "/api/v1/consents", #"{"action":"accept_all","granted":["necessary","functional","analytics","marketing"],"version":\#(version),"hash":"\#(hash)","locale":"en"}"#)
        #expect(consent.status == .created)
        person.consentID = try #require(consent.json?["consentId"] as? String)
    }

    /// Delivers every queued mail through the file transport into `<data_dir>/mail`.
    static func deliverMail(_ env: TestEnvironment) async {
        let service = MailDeliveryService(outbox: env.runtime.outbox, transport: env.runtime.mailTransport, clock: ContinuousClock(),
                                          now: env.runtime.now, logger: env.runtime.logger)
        _ = await service.deliverDue()
    }

    /// Every file of the data directory (databases with their WAL, spool, snapshots, logs).
    static func files(under directory: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var found: [String] = []
        while let name = walker.nextObject() as? String {
            let path = (directory as NSString).appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue { found.append(path) }
        }
        return found.sorted()
    }

    /// The files whose bytes contain `needle` (case-insensitive ASCII), as `strings` would show.
    static func filesContaining(_ needle: String, under directory: String) -> [String] {
        let lower = Array(needle.lowercased().utf8)
        return files(under: directory).filter { path in
            guard let data = FileManager.default.contents(atPath: path) else { return false }
            let bytes = [UInt8](data).map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
            return bytes.count >= lower.count && (0...(bytes.count - lower.count)).contains { i in
                bytes[i] == lower[0] && Array(bytes[i..<(i + lower.count)]) == lower
            }
        }
    }

    /// `strings -a FILE`'s output, for the erasure check the way an auditor would run it.
    static func strings(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/strings")
        process.arguments = ["-a", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

@Suite("Privacy export and erasure")
struct PrivacyTests {
    @Test("export finds every seeded item of a person in every kind (following e-mail → chat → visitor → votes and visits) and the spool; unknown subjects give the manifest only")
    func exportCompleteness() async throws {
        let env = try TestEnvironment(flags: PrivacyFixture.flags)
        try await env.addUser("owner@example.com", role: .admin)
        try await env.addUser("ada.quist@example.com", role: .agent)
        let ada = SeededPerson(email: "ada.quist@example.com", name: "Adaline Quist")
        try await env.withChatServer { client, port in
            var console = ConsoleClient(client: client)
            #expect(try await console.signIn("owner@example.com") == .ok)
            try await PrivacyFixture.seed(env, client, port: port, ada, approveWith: console)
        }
        await PrivacyFixture.deliverMail(env)
        let privacy = PrivacyService(runtime: env.runtime)
        let export = try await privacy.export(.email(ada.email))
        func rows(_ kind: String, _ table: String) -> [[String: JSONValue]] { export.data[kind]?[table] ?? [] }
        #expect(rows("inbox.contacts", "contact_submissions").count == 1)
        #expect(rows("inbox.contacts", "contact_submissions").first?["name"] == .string(ada.name))
        let tickets = rows("inbox.tickets", "support_tickets")
        #expect(tickets.count == 2)
        #expect(tickets.contains { $0["id"] == .number(Double(ada.chatTicketID)) && $0["source"] == .string("chat") })
        #expect(tickets.allSatisfy { $0["access_nonce"] == nil })
        #expect(!rows("inbox.tickets", "ticket_messages").isEmpty)
        #expect(rows("inbox.newsletter", "newsletter_subscriptions").count == 1)
        #expect(rows("inbox.newsletter", "newsletter_subscriptions").first?["token"] == nil)
        #expect(rows("reviews.reviews", "reviews").count == 1)
        #expect(rows("reviews.votes", "review_votes").count == 1)
        #expect(rows("faq.votes", "faq_votes").count == 1)
        let conversations = rows("chat.conversations", "chat_conversations")
        #expect(conversations.count == 1 && conversations.first?["visitor_id"] == .string(ada.visitorID))
        #expect(rows("chat.conversations", "chat_messages").contains { $0["text"] == .string("Is the shop open on Sunday, says \(ada.name)?") })
        #expect(rows("analytics.visits", "visitor_sessions").count == 1)
        #expect(rows("analytics.visits", "visitor_events").count == 2)
        #expect(rows("accounts.users", "users").count == 1 && rows("accounts.users", "users").first?["password_hash"] == nil)
        #expect(rows("reviews.requests", "review_requests").count == 1 && rows("reviews.requests", "review_requests").first?["token_hash"] == nil)
        // contact.created, two ticket.created (the form's and the chat's), the customer's reply, newsletter, the chat's events.
        let deliveries = rows("webhooks.deliveries", "webhook_deliveries")
        let events = Set(deliveries.compactMap { if case .string(let type)? = $0["event_type"] { return type } else { return nil } })
        #expect(events.isSuperset(of: ["contact.created", "ticket.created", "ticket.message.created", "chat.conversation.started", "chat.message.created"]),
                "\(events)")
        #expect(deliveries.allSatisfy { if case .string(let payload)? = $0["payload"] { return !payload.contains("Bobrik") } else { return false } })
        let mails = rows("mail.outbox", "mail_outbox")
        #expect(mails.contains { $0["to_address"] == .string(ada.email) })
        #expect(mails.contains { $0["to_address"] == .string("owner@example.com") })
        #expect(!export.files.isEmpty && export.files.allSatisfy { $0.text.lowercased().contains(ada.email) || $0.text.contains(ada.name) })
        #expect(export.files.contains { $0.text.lowercased().contains(ada.email) })
        #expect(export.subject.visitors.contains(ada.visitorID) && export.subject.conversationIDs.contains(ada.conversationID))
        let searched = Set(export.manifest.map(\.kind))
        #expect(searched.isSuperset(of: ["inbox.contacts", "inbox.tickets", "inbox.newsletter", "inbox.idempotency", "chat.conversations", "reviews.reviews",
                                         "reviews.votes", "faq.votes", "consent.records", "analytics.visits", "mail.outbox", "mail.spool",
                                         "accounts.users", "privacy.requests", "reviews.requests", "webhooks.deliveries"]))

        // The consent record is found by its consent id, the visit by the visitor id alone.
        let byConsent = try await privacy.export(.consent(ada.consentID))
        #expect(byConsent.data["consent.records"]?["consent_records"]?.count == 1)
        let byVisitor = try await privacy.export(.visitor(ada.visitorID))
        #expect(byVisitor.data["analytics.visits"]?["visitor_events"]?.count == 2)
        #expect(byVisitor.data["inbox.tickets"]?["support_tickets"]?.count == 2)
        let byTicket = try await privacy.export(.ticket(ada.chatTicketID))
        #expect(byTicket.subject.emails.contains(ada.email))

        // An unknown subject: the manifest of everything searched, nothing found.
        let nobody = try await privacy.export(.email("nobody@example.com"))
        #expect(nobody.rowCount == 0 && nobody.files.isEmpty && Set(nobody.manifest.map(\.kind)) == searched)
        // The HTML rendering escapes what visitors wrote and shows each table.
        let html = PrivacyHTML.render(export)
        #expect(html.contains("<h2>contact_submissions</h2>") && html.contains(ada.name) && !html.contains("<script"))
    }

    @Test("erasure leaves nothing of the person in any table, file or cache; strings finds no address or name; the newsletter proof stays anonymised; another person is untouched; the log keeps a salted hash")
    func erasure() async throws {
        let env = try TestEnvironment(flags: PrivacyFixture.flags)
        try await env.addUser("owner@example.com", role: .admin)
        let ada = SeededPerson(email: "ada.quist@example.com", name: "Adaline Quist")
        let bob = SeededPerson(email: "bob.brandt@example.com", name: "Bobrik Brandt")
        try await env.withChatServer { client, port in
            var console = ConsoleClient(client: client)
            #expect(try await console.signIn("owner@example.com") == .ok)
            try await PrivacyFixture.seed(env, client, port: port, ada, approveWith: console)
            try await PrivacyFixture.seed(env, client, port: port, bob, approveWith: console)
            // The public review list is cached with both names in it.
            let cached = try await client.executeRequest(uri: "/api/v1/reviews", method: .get, headers: [:], body: nil)
            #expect(cached.text.contains(ada.name) && cached.text.contains(bob.name))
        }
        await PrivacyFixture.deliverMail(env)
        await env.runtime.database.checkpoint()
        let data = env.directory
        // The check can fail: before the erasure the bytes are there.
        #expect(!PrivacyFixture.filesContaining(ada.email, under: data).isEmpty)
        #expect(!PrivacyFixture.filesContaining(ada.name, under: data).isEmpty)

        let privacy = PrivacyService(runtime: env.runtime)
        let dry = try await privacy.erase(.email(ada.email), actor: "test", dryRun: true)
        #expect(dry.dryRun && dry.counts["inbox.contacts/contact_submissions"] == 1 && dry.files > 0)
        #expect(try await privacy.export(.email(ada.email)).rowCount > 0)
        let report = try await privacy.erase(.email(ada.email), actor: "test", dryRun: false)
        #expect(report.counts["inbox.contacts/contact_submissions"] == 1)
        #expect(report.counts["inbox.tickets/support_tickets"] == 2)
        #expect(report.counts["chat.conversations/chat_conversations"] == 1)
        #expect(report.counts["analytics.visits/visitor_events"] == 2)
        // Her helpful vote was on her own review, so it went with the review.
        #expect(report.counts["reviews.reviews/review_votes"] == 1 && report.counts["faq.votes/faq_votes"] == 1)
        #expect(report.anonymised["inbox.newsletter"] != nil)
        #expect(report.files == dry.files)

        // Nothing is found again, except the anonymised newsletter proof (without the address).
        let after = try await privacy.export(.email(ada.email))
        #expect(after.rowCount == 0 && after.files.isEmpty)
        #expect(try await privacy.export(.visitor(ada.visitorID)).rowCount == 0)
        let proof = try await env.runtime.database.read { db in
            try Row.fetchAll(db, sql: "SELECT email, name, status, consent_version, client_network FROM newsletter_subscriptions WHERE email LIKE 'erased-%'")
                .map { (name: $0["name"] as String?, status: $0["status"] as String, version: $0["consent_version"] as String, network: $0["client_network"] as String?) }
        }
        #expect(proof.count == 1)
        #expect(proof.first?.name == nil && proof.first?.status == "unsubscribed" && proof.first?.network == nil)
        #expect(proof.first?.version.isEmpty == false)
        // The consent record is erased by its own id (the banner's id is not tied to an address).
        #expect(try await privacy.erase(.consent(ada.consentID), actor: "test", dryRun: false).counts["consent.records/consent_records"] == 1)

        // Not in any file of the data directory: databases (WAL checkpointed), spool, logs, snapshots.
        #expect(PrivacyFixture.filesContaining(ada.email, under: data) == [])
        #expect(PrivacyFixture.filesContaining(ada.name, under: data) == [])
        for file in ["frontdesk.sqlite", "analytics.sqlite"] {
            let text = try PrivacyFixture.strings((data as NSString).appendingPathComponent(file)).lowercased()
            #expect(!text.contains(ada.email) && !text.contains(ada.name.lowercased()))
        }
        // Bob is untouched.
        let bobs = try await privacy.export(.email(bob.email))
        #expect(bobs.data["inbox.contacts"]?["contact_submissions"]?.count == 1)
        #expect(bobs.data["inbox.tickets"]?["support_tickets"]?.count == 2)
        #expect(bobs.data["analytics.visits"]?["visitor_events"]?.count == 2)
        #expect(bobs.data["inbox.newsletter"]?["newsletter_subscriptions"]?.count == 1)
        #expect(!bobs.files.isEmpty)
        // The cache no longer serves her review.
        try await env.application().test(.router) { client in
            let list = try await client.executeRequest(uri: "/api/v1/reviews", method: .get, headers: [:], body: nil)
            #expect(!list.text.contains(ada.name) && list.text.contains(bob.name))
        }
        // The log: a salted hash of the subject, the actor, counts per table.
        let log = try await privacy.erasures()
        #expect(log.count == 2)
        let entry = try #require(log.last)
        #expect(entry.matches(.email(ada.email)) && !entry.matches(.email(bob.email)))
        #expect(entry.actor == "test" && entry.counts["inbox.contacts/contact_submissions"] == 1)
        // Salted: not the plain hash of the identifier, which anybody could look up.
        #expect(entry.subjectHash != ContentDigest.sha256Hex("email:" + ada.email) && entry.subjectHash != ContentDigest.sha256Hex(ada.email))
    }

    @Test("secure_delete is what makes strings clean: a plain DELETE leaves the text in the file")
    func secureDeleteMeasured() async throws {
        let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("frontdesk-secure-delete-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func leftover(secure: Bool) throws -> Bool {
            let path = (directory as NSString).appendingPathComponent("t-\(secure).sqlite")
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in
                try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT)")
                for i in 0..<200 { try db.execute(sql: "INSERT INTO t (email) VALUES (?)", arguments: ["person\(i)@example.com"]) }
                try db.execute(sql: "INSERT INTO t (email) VALUES ('zora.unique@example.com')")
            }
            try queue.write { db in
                // Explicit both ways: a SQLite may be built with secure_delete on by default.
                try db.execute(sql: secure ? "PRAGMA secure_delete = ON" : "PRAGMA secure_delete = OFF")
                try db.execute(sql: "DELETE FROM t WHERE email = 'zora.unique@example.com'")
            }
            try queue.close()
            return try PrivacyFixture.strings(path).contains("zora.unique@example.com")
        }
        #expect(try leftover(secure: false))
        #expect(try !leftover(secure: true))
    }

    @Test("erasure refuses while a backup holds the data lock; the last admin cannot be erased")
    func refusals() async throws {
        let env = try TestEnvironment(flags: PrivacyFixture.flags)
        try await env.addUser("owner@example.com", role: .admin)
        let privacy = PrivacyService(runtime: env.runtime)
        let lock = try DataDirectoryLock(dataDirectory: env.directory, name: DataDirectoryLock.backupLockName)
        #expect(lock.tryLock())
        await #expect(throws: FrontdeskError.self) { try await privacy.erase(.email("owner@example.com"), actor: "test", dryRun: false) }
        do {
            _ = try await privacy.erase(.email("x@example.com"), actor: "test", dryRun: false)
        } catch let error as FrontdeskError {
            #expect(error.code == "data_locked")
        }
        lock.unlock()
        do {
            _ = try await privacy.erase(.email("owner@example.com"), actor: "test", dryRun: false)
            Issue.record("the last admin was erased")
        } catch let error as FrontdeskError {
            #expect(error.code == "last_admin")
        }
        #expect(try await privacy.erasures().isEmpty)
    }

    @Test("the record of processing lists every kind with its purpose and retention from the configuration, and the SMTP relay as the only recipient")
    func record() async throws {
        let env = try TestEnvironment(flags: PrivacyFixture.flags.merging(["retention.contact_submissions_days": "90", "mail.transport": "smtp",
                                                                          "mail.smtp_host": "relay.example.net", "mail.smtp_tls": "tls"]) { $1 })
        let privacy = PrivacyService(runtime: env.runtime)
        let record = ProcessingRecord(config: env.runtime.config, kinds: privacy.kinds, now: Date())
        let markdown = record.markdown
        #expect(markdown.contains("| `inbox.contacts` (contact_submissions) |"))
        #expect(markdown.contains("90 days (retention.contact_submissions_days)"))
        #expect(markdown.contains("relay.example.net:587"))
        for kind in privacy.kinds { #expect(markdown.contains("`\(kind.name)`")) }
        #expect(record.html.contains("<td><code>analytics.visits</code>"))
        let defaults = try TestEnvironment(flags: PrivacyFixture.flags)
        let plain = ProcessingRecord(config: defaults.runtime.config, kinds: PrivacyService(runtime: defaults.runtime).kinds, now: Date()).markdown
        #expect(plain.contains("365 days (retention.contact_submissions_days)") && plain.contains("Nobody: mail is written to the local spool"))
    }
}
