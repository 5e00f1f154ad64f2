import Foundation
import FrontdeskCore
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
@testable import FrontdeskServer

/// Webhooks: the Standard Webhooks signature against the specification's test vector, the SSRF
/// rules, the console API, and events queued in the transaction of the change they report.
@Suite("Webhooks: signing, SSRF rules, endpoints, the queue")
struct WebhookTests {
    @Test("the signature matches the Standard Webhooks test vector")
    func signatureVector() {
        // From the specification's reference libraries (standard-webhooks, libraries/*/tests).
        let signature = WebhookSigner.signature(messageId: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330,
                                                body: #"{"test": 2432232314}"#, secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        #expect(WebhookSigner.signature(messageId: "m", timestamp: 1, body: "{}", secret: "whsec_not base64!") == nil)
        #expect(WebhookStore.newSecret().hasPrefix("whsec_"))
    }

    @Test("URLs: https only; loopback, private, link-local and reserved addresses refused unless allowed")
    func ssrfRules() {
        for address in ["127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
                        "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1"] {
            #expect(WebhookTarget.isBlocked(address), "\(address) should be blocked")
        }
        for address in ["93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111"] {
            #expect(!WebhookTarget.isBlocked(address), "\(address) should be allowed")
        }
        #expect(WebhookTarget.resolve("http://93.184.216.34/hook", allowPrivate: true) == .failure(.notHTTPS))
        #expect(WebhookTarget.resolve("ftp://example.com/", allowPrivate: false) == .failure(.notHTTPS))
        #expect(WebhookTarget.resolve("https:///nohost", allowPrivate: false) == .failure(.malformed))
        #expect(WebhookTarget.resolve("https://user:pw@93.184.216.34/", allowPrivate: false) == .failure(.malformed))
        #expect(WebhookTarget.resolve("https://127.0.0.1:8443/x", allowPrivate: false) == .failure(.blockedAddress("127.0.0.1")))
        #expect(WebhookTarget.resolve("https://[::1]/x", allowPrivate: false) == .failure(.blockedAddress("::1")))
        #expect(WebhookTarget.resolve("https://localhost/x", allowPrivate: false).isBlockedFailure)
        let allowed = WebhookTarget.resolve("https://127.0.0.1:8443/in?a=1", allowPrivate: true)
        #expect(allowed == .success(WebhookTarget(host: "127.0.0.1", port: 8443, path: "/in?a=1", address: "127.0.0.1")))
        // An IP literal resolves to itself: the address connected to is the one checked.
        #expect(WebhookTarget.resolve("https://93.184.216.34/", allowPrivate: false) == .success(WebhookTarget(host: "93.184.216.34", port: 443, path: "/", address: "93.184.216.34")))
    }

    @Test("backoff doubles from the base and is capped")
    func backoff() {
        let policy = WebhookRetryPolicy(baseSeconds: 30, capSeconds: 3600, maxAttempts: 8)
        #expect(policy.delay(afterAttempts: 1) == 30)
        #expect(policy.delay(afterAttempts: 2) == 60)
        #expect(policy.delay(afterAttempts: 4) == 240)
        #expect(policy.delay(afterAttempts: 20) == 3600)
    }

    @Test("the console API: admins only, bad URLs named with their reason, the secret shown once, events queued with the change")
    func endpointsAndQueue() async throws {
        let env = try TestEnvironment(flags: ["webhooks.allow_private": "true"])
        try await env.addUser("owner@example.com", role: .admin)
        try await env.addUser("agent@example.com")
        try await env.application().test(.router) { client in
            var agent = ConsoleClient(client: client)
            _ = try await agent.signIn("agent@example.com")
            #expect(try await agent.send(.get, "/api/v1/admin/webhooks").status == .forbidden)

            var owner = ConsoleClient(client: client)
            _ = try await owner.signIn("owner@example.com")
            let http = try await owner.send(.post, "/api/v1/admin/webhooks", json: #"{"url":"http://127.0.0.1:9/x","events":["contact.created"]}"#)
            #expect(http.status == .unprocessableContent)
            #expect(http.envelope?.error.details["url"]?.contains("https") == true)
            let badEvent = try await owner.send(.post, "/api/v1/admin/webhooks", json: #"{"url":"https://127.0.0.1:9/x","events":["contact.deleted"]}"#)
            #expect(badEvent.envelope?.error.details["events"] != nil)

            let made = try await owner.send(.post, "/api/v1/admin/webhooks", json: #"{"url":"https://127.0.0.1:9/x","events":["contact.created","ticket.created"],"description":"CRM"}"#)
            #expect(made.status == .created)
            let secret = try #require(made.json?["secret"] as? String)
            #expect(secret.hasPrefix("whsec_"))
            let id = try #require(made.json?["id"] as? Int)
            #expect(!(try await owner.send(.get, "/api/v1/admin/webhooks").text.contains(secret)))

            // A contact submission queues contact.created in its own transaction.
            _ = try await env.runtime.contacts.submit(try NewContactSubmission(json: ["name": .string("Ada"), "email": .string("ada@example.com"), "message": .string("Hello there")],
                                                                                 form: FormDefinition(id: "default", fields: [])),
                                                      userAgent: nil, now: Date())
            let queued = try await env.runtime.database.read { db in
                try Row.fetchAll(db, sql: "SELECT event_type, payload, status FROM webhook_deliveries WHERE endpoint_id = ?", arguments: [id])
                    .map { [$0["event_type"] as String? ?? "", $0["payload"] as String? ?? "", $0["status"] as String? ?? ""] }
            }
            #expect(queued.count == 1)
            #expect(queued.first?[0] == "contact.created")
            #expect(queued.first?[1].contains("ada@example.com") == true)
            #expect(queued.first?[2] == "pending")
            // An event the endpoint did not ask for queues nothing for it.
            _ = try await env.runtime.tickets.create(NewTicket(email: "b@example.com", name: nil, subject: "Hi", description: "Help"), now: Date())
            let afterTicket = try await env.runtime.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM webhook_deliveries") }
            #expect(afterTicket == 2)
            #expect(try await owner.send(.patch, "/api/v1/admin/webhooks/\(id)", json: #"{"events":["newsletter.confirmed"]}"#).status == .ok)
            _ = try await env.runtime.tickets.create(NewTicket(email: "c@example.com", name: nil, subject: "Hi", description: "Help"), now: Date())
            #expect(try await env.runtime.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM webhook_deliveries") } == 2)

            let test = try await owner.send(.post, "/api/v1/admin/webhooks/\(id)/test")
            #expect(test.status == .accepted)
            #expect(test.json?["eventType"] as? String == "webhook.test")
            let deliveries = try await owner.send(.get, "/api/v1/admin/webhooks/\(id)/deliveries")
            #expect((deliveries.json?["items"] as? [Any])?.count == 3)
            #expect(try await owner.send(.delete, "/api/v1/admin/webhooks/\(id)").status == .noContent)
            #expect(try await owner.send(.get, "/api/v1/admin/webhooks/\(id)/deliveries").status == .notFound)
        }
    }

    @Test("a chat queues chat.conversation.started, chat.message.created for each visitor and agent line, and chat.conversation.closed")
    func chatEvents() async throws {
        let env = try TestEnvironment(flags: ["webhooks.allow_private": "true"])
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            var owner = ConsoleClient(client: client)
            _ = try await owner.signIn("owner@example.com")
            let made = try await owner.send(.post, "/api/v1/admin/webhooks",
                                            json: #"{"url":"https://127.0.0.1:9/x","events":["chat.conversation.started","chat.message.created","chat.conversation.closed"]}"#)
            #expect(made.status == .created)
        }
        let store = env.runtime.chat.store
        let offline = ChatAvailability(available: false, reason: "no_agents", agentsOnline: 0)
        let visitor = ChatVisitor(id: ChatIdentity.newVisitorId(), name: "Mia", email: "mia@example.com")
        let first = try await store.send(ChatSendRequest(actor: .visitor(visitor), conversationId: nil, clientMessageId: "v-1", text: "Is the rye bread vegan?", availability: offline))
        // A resent line (same clientMessageId) is the same message: no second event.
        _ = try await store.send(ChatSendRequest(actor: .visitor(visitor), conversationId: nil, clientMessageId: "v-1", text: "Is the rye bread vegan?", availability: offline))
        let agent = ChatAgent(id: 1, name: "Pat")
        _ = try await store.send(ChatSendRequest(actor: .agent(agent), conversationId: first.conversation.id, clientMessageId: "a-1", text: "Yes, it is.", availability: offline))
        _ = try await store.close(conversationId: first.conversation.id, by: .agent, agent: agent)
        let queued = try await env.runtime.database.read { db in
            try Row.fetchAll(db, sql: "SELECT event_type, payload FROM webhook_deliveries ORDER BY id").map { ($0["event_type"] as String? ?? "", $0["payload"] as String? ?? "") }
        }
        #expect(queued.map(\.0) == ["chat.conversation.started", "chat.message.created", "chat.message.created", "chat.conversation.closed"])
        let payloads = try queued.map { try #require(JSONSerialization.jsonObject(with: Data($0.1.utf8)) as? [String: Any]) }
        let data = payloads.map { $0["data"] as? [String: Any] ?? [:] }
        #expect(data[0]["visitorEmail"] as? String == "mia@example.com")
        #expect(data[1]["text"] as? String == "Is the rye bread vegan?")
        #expect(data[1]["sender"] as? String == "visitor")
        #expect(data[2]["sender"] as? String == "agent")
        #expect(data[2]["senderName"] as? String == "Pat")
        #expect(data[3]["status"] as? String == "closed")
        #expect(data[3]["closedBy"] as? String == "agent")
    }

    @Test("[[webhooks.endpoints]] in the TOML file: bad tables name their problem; written at start, read-only in the console, removed with the table")
    func configuredEndpoints() async throws {
        let directory = NSTemporaryDirectory() + "webhooks-toml-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/frontdesk.toml"
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        try """
            [[webhooks.endpoints]]
            url = "https://crm.example.com/hooks/frontdesk"
            events = ["contact.created", "ticket.created"]
            secret = "\(secret)"
            description = "CRM"
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let config = try FrontdeskConfig.load(file: file, environment: [:], features: FeatureModules.settings)
        let configured = config[WebhookSettings.endpoints]
        #expect(configured == [ConfiguredWebhook(url: "https://crm.example.com/hooks/frontdesk", events: ["contact.created", "ticket.created"],
                                                 secret: secret, description: "CRM")])
        for (table, named) in [(#"url = "http://crm.example.com/x""#, "https"), (#"url = "https://a.example/x""# + "\nevents = [\"contact.deleted\"]", "events"),
                               (#"url = "https://a.example/x""# + "\nevents = [\"contact.created\"]\nsecret = \"hunter2\"", "whsec_"),
                               (#"url = "https://a.example/x""# + "\nevents = [\"contact.created\"]\nsecret = \"\(secret)\"\ncolour = 1", "colour")] {
            try "[[webhooks.endpoints]]\n\(table)\n".write(toFile: file, atomically: true, encoding: .utf8)
            #expect { try FrontdeskConfig.load(file: file, environment: [:], features: FeatureModules.settings) } throws: { error in
                "\(error)".contains("webhooks.endpoints") && "\(error)".contains(named)
            }
        }

        let env = try TestEnvironment()
        try await env.addUser("owner@example.com", role: .admin)
        let store = WebhookStore(database: env.runtime.database, outbox: WebhookOutbox())
        #expect(try await store.syncConfigured(configured) == (1, 0, 0))
        #expect(try await store.syncConfigured(configured) == (0, 0, 0), "a second start with the same file changes nothing")
        try await env.application().test(.router) { client in
            var owner = ConsoleClient(client: client)
            _ = try await owner.signIn("owner@example.com")
            let list = try await owner.send(.get, "/api/v1/admin/webhooks")
            let items = try #require(list.json?["items"] as? [[String: Any]])
            #expect(items.count == 1)
            #expect(items.first?["managedBy"] as? String == "config")
            #expect(items.first?["secret"] == nil)
            let id = try #require(items.first?["id"] as? Int)
            let patch = try await owner.send(.patch, "/api/v1/admin/webhooks/\(id)", json: #"{"enabled":false}"#)
            #expect(patch.status == .conflict)
            #expect(patch.envelope?.error.code == "webhook_managed_by_config")
            #expect(try await owner.send(.delete, "/api/v1/admin/webhooks/\(id)").status == .conflict)
            // Its events are queued like any other endpoint's.
            _ = try await env.runtime.tickets.create(NewTicket(email: "b@example.com", name: nil, subject: "Hi", description: "Help"), now: Date())
            #expect(try await env.runtime.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = ?", arguments: [id]) } == 1)
        }
        var changed = configured
        changed[0].events = ["newsletter.confirmed"]
        #expect(try await store.syncConfigured(changed) == (0, 1, 0))
        #expect(try await store.endpoints().first?.eventList == ["newsletter.confirmed"])
        _ = try await store.createEndpoint(url: "https://other.example/x", events: ["contact.created"], description: "made in the console")
        #expect(try await store.syncConfigured([]) == (0, 0, 1))
        #expect(try await store.endpoints().map(\.url) == ["https://other.example/x"], "console endpoints are left alone")
    }

    @Test("without webhooks.allow_private, loopback and private URLs are refused at save time")
    func privateRefusedByDefault() async throws {
        let env = try TestEnvironment()
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            var owner = ConsoleClient(client: client)
            _ = try await owner.signIn("owner@example.com")
            for url in ["https://127.0.0.1/x", "https://10.0.0.5/x", "https://192.168.0.10/x", "https://169.254.169.254/latest", "https://[::1]/x", "https://localhost/x"] {
                let answer = try await owner.send(.post, "/api/v1/admin/webhooks", json: #"{"url":"\#(url)","events":["contact.created"]}"#)
                #expect(answer.status == .unprocessableContent, "\(url)")
                #expect(answer.envelope?.error.details["url"]?.contains("webhooks.allow_private") == true, "\(url)")
            }
        }
    }
}

extension Result where Success == WebhookTarget, Failure == WebhookTarget.Refusal {
    var isBlockedFailure: Bool { if case .failure(.blockedAddress) = self { return true } else { return false } }
}
