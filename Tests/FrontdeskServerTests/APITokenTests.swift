import Foundation
import FrontdeskCore
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
@testable import FrontdeskServer

/// API tokens through the real stack: created in a console session, then used alone with
/// `Authorization: Bearer` against the admin API.
@Suite("API tokens: scopes, revocation, expiry, bearer without CSRF")
struct APITokenTests {
    static let start = Date(timeIntervalSince1970: 1_796_000_000)

    /// Creates a token through the console; returns (id, secret) or the failed response.
    static func create(_ console: ConsoleClient, _ body: String) async throws -> (status: HTTPResponse.Status, id: Int, secret: String, response: TestResponse) {
        let response = try await console.send(.post, "/api/v1/admin/tokens", json: body)
        let json = response.json
        return (response.status, ((json?["token"] as? [String: Any])?["id"] as? Int) ?? 0, (json?["secret"] as? String) ?? "", response)
    }

    /// A request carrying only the bearer token: no cookie, no Origin, no CSRF token.
    static func bearer(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ secret: String, json: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.authorization: "Bearer \(secret)"]
        if json != nil { headers[.contentType] = "application/json" }
        return try await client.executeRequest(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    @Test("the secret is shown once and stored only as its SHA-256; the list shows its prefix")
    func storedHashed() async throws {
        let env = try TestEnvironment()
        try await env.addUser("agent@example.com")
        try await env.application().test(.router) { client in
            var console = ConsoleClient(client: client)
            #expect(try await console.signIn("agent@example.com") == .ok)
            let made = try await Self.create(console, #"{"name":"CRM sync","scopes":["tickets:read"],"expiresInDays":30}"#)
            #expect(made.status == .created)
            #expect(made.secret.hasPrefix("fd_"))
            #expect(made.secret.count == 46)
            #expect(made.response.headers[.cacheControl] == "no-store")
            let list = try await console.send(.get, "/api/v1/admin/tokens")
            #expect(!list.text.contains(made.secret))
            let token = try #require((list.json?["tokens"] as? [[String: Any]])?.first)
            #expect(token["prefix"] as? String == String(made.secret.prefix(11)))
            #expect(token["secretHash"] == nil)
            #expect(token["scopes"] as? [String] == ["tickets:read"])
            let stored = try await env.runtime.database.read { db in try String.fetchOne(db, sql: "SELECT secret_hash || scopes || prefix FROM api_tokens") }
            #expect(stored?.contains(made.secret) == false)
            #expect(stored?.hasPrefix(ContentDigest.sha256Hex(made.secret)) == true)
        }
    }

    @Test("a bearer request needs no Origin or CSRF, and only its scopes: reads, writes, 403 naming the missing scope")
    func scopes() async throws {
        let env = try TestEnvironment()
        try await env.addUser("agent@example.com")
        try await env.application().test(.router) { client in
            var console = ConsoleClient(client: client)
            _ = try await console.signIn("agent@example.com")
            let reader = try await Self.create(console, #"{"name":"reader","scopes":["tickets:read","faq:read"]}"#).secret
            let writer = try await Self.create(console, #"{"name":"writer","scopes":["faq:write","faq:read"]}"#).secret

            let tickets = try await Self.bearer(client, .get, "/api/v1/admin/tickets", reader)
            #expect(tickets.status == .ok)
            let contacts = try await Self.bearer(client, .get, "/api/v1/admin/contact-submissions", reader)
            #expect(contacts.status == .forbidden)
            #expect(contacts.envelope?.error.code == "insufficient_scope")
            #expect(contacts.envelope?.error.details["scope"] == "contacts:read")
            #expect(contacts.envelope?.error.message.contains("contacts:read") == true)

            let refused = try await Self.bearer(client, .post, "/api/v1/admin/faq/categories", reader, json: #"{"name":"Opening hours"}"#)
            #expect(refused.status == .forbidden)
            #expect(refused.envelope?.error.details["scope"] == "faq:write")
            let created = try await Self.bearer(client, .post, "/api/v1/admin/faq/categories", writer, json: #"{"name":"Opening hours"}"#)
            #expect(created.status == .created)
            let listed = try await Self.bearer(client, .get, "/api/v1/admin/faq/categories", writer)
            #expect(listed.text.contains("Opening hours"))

            // The console routes refuse tokens outright, so a leaked token cannot mint another.
            for (method, uri) in [(HTTPRequest.Method.get, "/api/v1/admin/tokens"), (.post, "/api/v1/admin/tokens"), (.get, "/api/v1/admin/session")] {
                let answer = try await Self.bearer(client, method, uri, writer, json: method == .post ? #"{"name":"x","scopes":["faq:read"]}"# : nil)
                #expect(answer.status == .forbidden, "\(method) \(uri)")
                #expect(answer.envelope?.error.code == "token_not_accepted")
            }
        }
    }

    @Test("cookie requests still need the CSRF token and a same-site Origin")
    func cookieStillNeedsCSRF() async throws {
        let env = try TestEnvironment()
        try await env.addUser("agent@example.com")
        try await env.application().test(.router) { client in
            var console = ConsoleClient(client: client)
            _ = try await console.signIn("agent@example.com")
            var noCSRF = console
            noCSRF.csrf = ""
            let refused = try await noCSRF.send(.post, "/api/v1/admin/faq/categories", json: #"{"name":"A"}"#)
            #expect(refused.status == .forbidden)
            #expect(refused.envelope?.error.code == "csrf_failed")
            let crossSite = try await console.send(.post, "/api/v1/admin/faq/categories", json: #"{"name":"A"}"#, headers: [.origin: "https://evil.example"])
            #expect(crossSite.envelope?.error.code == "origin_not_allowed")
            let made = try await console.send(.post, "/api/v1/admin/faq/categories", json: #"{"name":"A"}"#)
            #expect(made.status == .created)
        }
    }

    @Test("revoked, expired and unknown tokens answer 401 with their own codes; a disabled owner's tokens stop")
    func revocationAndExpiry() async throws {
        let clock = ManualNow(Self.start)
        let env = try TestEnvironment(now: clock.closure)
        try await env.addUser("owner@example.com", role: .admin)
        let agent = try await env.addUser("agent@example.com")
        try await env.application().test(.router) { client in
            var console = ConsoleClient(client: client)
            _ = try await console.signIn("owner@example.com")
            let short = try await Self.create(console, #"{"name":"short","scopes":["tickets:read"],"expiresInDays":1}"#)
            let revoked = try await Self.create(console, #"{"name":"gone","scopes":["tickets:read"]}"#)
            #expect(try await Self.bearer(client, .get, "/api/v1/admin/tickets", short.secret).status == .ok)

            let revoke = try await console.send(.delete, "/api/v1/admin/tokens/\(revoked.id)")
            #expect(revoke.status == .ok)
            #expect(revoke.json?["revokedAt"] as? String != nil)
            let afterRevoke = try await Self.bearer(client, .get, "/api/v1/admin/tickets", revoked.secret)
            #expect(afterRevoke.status == .unauthorized)
            #expect(afterRevoke.envelope?.error.code == "token_revoked")

            // An agent's token stops when the agent is disabled.
            var agentConsole = ConsoleClient(client: client)
            _ = try await agentConsole.signIn("agent@example.com")
            let agentToken = try await Self.create(agentConsole, #"{"name":"mine","scopes":["tickets:read"]}"#)
            #expect(try await Self.bearer(client, .get, "/api/v1/admin/tickets", agentToken.secret).status == .ok)
            #expect(try await console.send(.patch, "/api/v1/admin/users/\(agent.id ?? 0)", json: #"{"disabled":true}"#).status == .ok)
            let disabled = try await Self.bearer(client, .get, "/api/v1/admin/tickets", agentToken.secret)
            #expect(disabled.status == .unauthorized)
            #expect(disabled.envelope?.error.code == "invalid_token")
            // Past the day (the console sessions have ended by now too; the token needs none).
            clock.set(Self.start.addingTimeInterval(86_400 + 1))
            let expired = try await Self.bearer(client, .get, "/api/v1/admin/tickets", short.secret)
            #expect(expired.status == .unauthorized)
            #expect(expired.envelope?.error.code == "token_expired")

            let unknown = try await Self.bearer(client, .get, "/api/v1/admin/tickets", "fd_" + String(repeating: "A", count: 43))
            #expect(unknown.envelope?.error.code == "invalid_token")
            #expect(try await Self.bearer(client, .get, "/api/v1/admin/tickets", "not-a-token").envelope?.error.code == "invalid_token")

        }
    }

    @Test("agents may not create admin-only scopes or service tokens; bad bodies name each field")
    func creationRules() async throws {
        let env = try TestEnvironment()
        try await env.addUser("owner@example.com", role: .admin)
        try await env.addUser("agent@example.com")
        try await env.application().test(.router) { client in
            var agent = ConsoleClient(client: client)
            _ = try await agent.signIn("agent@example.com")
            let users = try await Self.create(agent, #"{"name":"x","scopes":["tickets:read","users:read"]}"#)
            #expect(users.status == .forbidden)
            #expect(users.response.envelope?.error.code == "scope_not_allowed")
            #expect(users.response.envelope?.error.details["scope"] == "users:read")
            #expect(try await Self.create(agent, #"{"name":"x","kind":"service","scopes":["tickets:read"]}"#).status == .forbidden)

            let bad = try await Self.create(agent, #"{"name":" ","scopes":["tickets:delete"],"expiresInDays":0,"kind":"robot","extra":1}"#)
            #expect(bad.status == .unprocessableContent)
            let fields = try #require(bad.response.envelope?.error.details)
            #expect(Set(fields.keys) == ["name", "scopes", "expiresInDays", "kind", "extra"])
            #expect(try await Self.create(agent, #"{"name":"x","scopes":[]}"#).response.envelope?.error.details["scopes"] != nil)

            var owner = ConsoleClient(client: client)
            _ = try await owner.signIn("owner@example.com")
            let service = try await Self.create(owner, #"{"name":"deploy","kind":"service","scopes":["users:read"]}"#)
            #expect(service.status == .created)
            #expect(try await Self.bearer(client, .get, "/api/v1/admin/users", service.secret).status == .ok)
            // The agent sees only its own tokens; the admin sees everyone's and may revoke them.
            _ = try await Self.create(agent, #"{"name":"agent's","scopes":["tickets:read"]}"#)
            #expect((try await agent.send(.get, "/api/v1/admin/tokens").json?["tokens"] as? [Any])?.count == 1)
            #expect((try await owner.send(.get, "/api/v1/admin/tokens").json?["tokens"] as? [Any])?.count == 2)
            #expect(try await agent.send(.delete, "/api/v1/admin/tokens/\(service.id)").status == .notFound)
        }
    }

    @Test("last use is stamped with time and network at most once a minute")
    func lastUse() async throws {
        let clock = ManualNow(Self.start)
        let env = try TestEnvironment(now: clock.closure)
        try await env.addUser("agent@example.com")
        try await env.application().test(.router) { client in
            var console = ConsoleClient(client: client)
            _ = try await console.signIn("agent@example.com")
            let made = try await Self.create(console, #"{"name":"x","scopes":["tickets:read"]}"#)
            #expect(try await env.runtime.tokens.find(id: Int64(made.id))?.lastUsedAt == nil)
            _ = try await Self.bearer(client, .get, "/api/v1/admin/tickets", made.secret)
            let first = try #require(try await env.runtime.tokens.find(id: Int64(made.id))?.lastUsedAt)
            #expect(first == Timestamps.iso8601Milliseconds(Self.start))
            clock.set(Self.start.addingTimeInterval(30))
            _ = try await Self.bearer(client, .get, "/api/v1/admin/tickets", made.secret)
            #expect(try await env.runtime.tokens.find(id: Int64(made.id))?.lastUsedAt == first)
            clock.set(Self.start.addingTimeInterval(61))
            _ = try await Self.bearer(client, .get, "/api/v1/admin/tickets", made.secret)
            #expect(try await env.runtime.tokens.find(id: Int64(made.id))?.lastUsedAt == Timestamps.iso8601Milliseconds(Self.start.addingTimeInterval(61)))
        }
    }

    @Test("each token has its own rate limit: over it, 429 with Retry-After")
    func rateLimitedPerToken() async throws {
        let env = try TestEnvironment(flags: ["tokens.requests_per_minute": "3", "tokens.burst": "0"])
        try await env.addUser("agent@example.com")
        try await env.application().test(.router) { client in
            var console = ConsoleClient(client: client)
            _ = try await console.signIn("agent@example.com")
            let one = try await Self.create(console, #"{"name":"one","scopes":["tickets:read"]}"#).secret
            let two = try await Self.create(console, #"{"name":"two","scopes":["tickets:read"]}"#).secret
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<4 { statuses.append(try await Self.bearer(client, .get, "/api/v1/admin/tickets", one).status) }
            #expect(statuses.filter { $0 == .tooManyRequests }.count >= 1)
            #expect(statuses.first == .ok)
            let limited = try await Self.bearer(client, .get, "/api/v1/admin/tickets", one)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] != nil)
            #expect(limited.envelope?.error.details["policy"] == "token")
            // Another token of the same user and address is not affected.
            #expect(try await Self.bearer(client, .get, "/api/v1/admin/tickets", two).status == .ok)
        }
    }

    @Test("every admin route either has a token scope or is console-only")
    func everyAdminRouteHasAScopeRule() async throws {
        let env = try TestEnvironment()
        _ = env.application()
        let table = try #require(env.runtime.routeTable.current)
        var unclassified: [String] = []
        for route in table.all where route.path.hasPrefix("/api/v1/admin") || route.path.hasPrefix("api/v1/admin") {
            let segment = route.path.split(separator: "/").dropFirst(3).first.map(String.init) ?? ""
            if TokenRouteScopes.features[segment] == nil && !TokenRouteScopes.sessionOnly.contains(segment) { unclassified.append(route.path) }
        }
        #expect(unclassified.isEmpty, "admin routes without a token rule: \(unclassified)")
        #expect(TokenRouteScopes.scope(route: "/api/v1/admin/tickets/:id", method: .patch) == "tickets:write")
        #expect(TokenRouteScopes.scope(route: "/api/v1/admin/contact-submissions", method: .head) == "contacts:read")
        #expect(TokenRouteScopes.scope(route: "/api/v1/admin/tokens", method: .get) == nil)
        // Every feature the routes name is a scope a token can be given.
        for feature in Set(TokenRouteScopes.features.values) { #expect(TokenScopes.features.contains(feature)) }
    }
}
