import Foundation
import FrontdeskCore
import FrontdeskState
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
@testable import FrontdeskServer
import FrontdeskTestSupport

@Suite("Console sign-in, sessions, CSRF, roles")
struct ConsoleSessionTests {
    @Test("sign in sets a strict HttpOnly cookie; the session reads back; sign-out ends it on the server")
    func signInAndOut() async throws {
        let env = try TestEnvironment()
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            var console = ConsoleClient(client: client)
            let signIn = try await console.send(.post, "/api/v1/admin/session", json: #"{"email":"Owner@Example.com","password":"correct horse battery"}"#)
            #expect(signIn.status == .ok)
            let cookie = try #require(signIn.headers[.setCookie])
            #expect(cookie.hasPrefix("fd_session="))
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Strict"))
            #expect(cookie.contains("Path=/"))
            #expect(!cookie.contains("Secure"))  // plain HTTP on loopback
            console.cookie = String(cookie.split(separator: ";")[0])
            console.csrf = try #require(signIn.json?["csrfToken"] as? String)
            #expect((signIn.json?["user"] as? [String: Any])?["passwordHash"] == nil)

            let me = try await console.send(.get, "/api/v1/admin/session")
            #expect(me.status == .ok)
            #expect((me.json?["user"] as? [String: Any])?["email"] as? String == "owner@example.com")

            let out = try await console.send(.delete, "/api/v1/admin/session")
            #expect(out.status == .noContent)
            #expect(env.runtime.state.sessions.count == 0)
            let after = try await console.send(.get, "/api/v1/admin/session")
            #expect(after.status == .unauthorized)
            #expect(after.envelope?.error.code == "unauthorized")
        }
    }

    @Test("over TLS (a trusted proxy says https) the cookie is Secure with the __Host- prefix")
    func secureCookie() async throws {
        let env = try TestEnvironment(flags: ["server.public_url": "https://desk.example.com"])
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            let response = try await client.executeRequest(uri: "/api/v1/admin/session", method: .post,
                                                           headers: [.contentType: "application/json", .origin: "https://desk.example.com"],
                                                           body: ByteBuffer(string: #"{"email":"owner@example.com","password":"correct horse battery"}"#))
            #expect(response.status == .ok)
            let cookie = try #require(response.headers[.setCookie])
            #expect(cookie.hasPrefix("__Host-fd_session="))
            #expect(cookie.contains("Secure"))
        }
    }

    @Test("wrong password and unknown account answer the same 401")
    func wrongCredentials() async throws {
        let env = try TestEnvironment()
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            var console = ConsoleClient(client: client)
            #expect(try await console.signIn("owner@example.com", "wrong password!") == .unauthorized)
            #expect(try await console.signIn("nobody@example.com", "wrong password!") == .unauthorized)
            let response = try await console.send(.post, "/api/v1/admin/session", json: #"{"email":"nobody@example.com","password":"x"}"#)
            #expect(response.envelope?.error.code == "invalid_credentials")
        }
    }

    @Test("state-changing console requests need a same-site Origin and the session's CSRF token")
    func csrfAndOrigin() async throws {
        let env = try TestEnvironment()
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            var console = ConsoleClient(client: client)
            #expect(try await console.signIn("owner@example.com") == .ok)
            let body = #"{"email":"agent@example.com","password":"another long one","role":"agent"}"#

            let noToken = try await console.send(.post, "/api/v1/admin/users", json: body, headers: [HTTPField.Name("X-CSRF-Token")!: "forged"])
            #expect(noToken.status == .forbidden)
            #expect(noToken.envelope?.error.code == "csrf_failed")

            let crossSite = try await console.send(.post, "/api/v1/admin/users", json: body, headers: [.origin: "https://evil.example"])
            #expect(crossSite.status == .forbidden)
            #expect(crossSite.envelope?.error.code == "origin_not_allowed")

            // A cross-site sign-in attempt is refused before any password check.
            let crossSiteLogin = try await client.executeRequest(uri: "/api/v1/admin/session", method: .post,
                                                                 headers: [.contentType: "application/json", .origin: "https://evil.example"],
                                                                 body: ByteBuffer(string: #"{"email":"owner@example.com","password":"correct horse battery"}"#))
            #expect(crossSiteLogin.status == .forbidden)

            #expect(try await env.runtime.accounts.list().count == 1)
            let created = try await console.send(.post, "/api/v1/admin/users", json: body)
            #expect(created.status == .created)
            #expect(try await env.runtime.accounts.list().count == 2)
        }
    }

    @Test("agents cannot reach user management")
    func roles() async throws {
        let env = try TestEnvironment()
        try await env.addUser("owner@example.com", role: .admin)
        let agent = try await env.addUser("agent@example.com", role: .agent)
        try await env.application().test(.router) { client in
            var console = ConsoleClient(client: client)
            #expect(try await console.signIn("agent@example.com") == .ok)
            #expect(try await console.send(.get, "/api/v1/admin/users").status == .forbidden)
            #expect(try await console.send(.post, "/api/v1/admin/users", json: #"{"email":"x@example.com","password":"0123456789ab","role":"admin"}"#).status == .forbidden)
            let selfPromotion = try await console.send(.patch, "/api/v1/admin/users/\(agent.id!)", json: #"{"role":"admin"}"#)
            #expect(selfPromotion.status == .forbidden)
            #expect(try await env.runtime.accounts.find(id: agent.id!)?.role == .agent)
        }
    }

    @Test("disabling a user or changing their password ends their sessions")
    func sessionsEnd() async throws {
        let env = try TestEnvironment()
        try await env.addUser("owner@example.com", role: .admin)
        let agent = try await env.addUser("agent@example.com", role: .agent)
        try await env.application().test(.router) { client in
            var admin = ConsoleClient(client: client)
            var agentConsole = ConsoleClient(client: client)
            #expect(try await admin.signIn("owner@example.com") == .ok)
            #expect(try await agentConsole.signIn("agent@example.com") == .ok)
            #expect(try await agentConsole.send(.get, "/api/v1/admin/session").status == .ok)

            let changed = try await admin.send(.patch, "/api/v1/admin/users/\(agent.id!)", json: #"{"password":"a brand new passphrase"}"#)
            #expect(changed.status == .ok)
            #expect(try await agentConsole.send(.get, "/api/v1/admin/session").status == .unauthorized)
            #expect(try await agentConsole.signIn("agent@example.com", "a brand new passphrase") == .ok)

            let disabled = try await admin.send(.patch, "/api/v1/admin/users/\(agent.id!)", json: #"{"disabled":true}"#)
            #expect(disabled.status == .ok)
            #expect(try await agentConsole.send(.get, "/api/v1/admin/session").status == .unauthorized)
            #expect(try await agentConsole.signIn("agent@example.com", "a brand new passphrase") == .unauthorized)
        }
    }

    @Test("a password changed from another process (frontdesk user passwd) ends sessions too")
    func crossProcessPasswordChange() async throws {
        let clock = TestClock(start: Date())
        let env = try TestEnvironment(now: { clock.date })
        let owner = try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            var console = ConsoleClient(client: client)
            #expect(try await console.signIn("owner@example.com") == .ok)
            // The CLI opens its own store on the same file.
            let cli = AccountStore(database: try AppDatabase(path: env.runtime.database.path), hasher: PasswordHasher(iterations: 1_000))
            try await cli.setPassword(id: owner.id!, password: "changed from the shell")
            clock.advance(seconds: 6)  // the user cache holds entries for 5 s
            #expect(try await console.send(.get, "/api/v1/admin/session").status == .unauthorized)
        }
    }

    @Test("the last enabled admin cannot be disabled or demoted")
    func lastAdmin() async throws {
        let env = try TestEnvironment()
        let owner = try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            var console = ConsoleClient(client: client)
            #expect(try await console.signIn("owner@example.com") == .ok)
            let demote = try await console.send(.patch, "/api/v1/admin/users/\(owner.id!)", json: #"{"role":"agent"}"#)
            #expect(demote.status == .conflict)
            #expect(demote.envelope?.error.code == "last_admin")
            #expect(try await env.runtime.accounts.find(id: owner.id!)?.role == .admin)
        }
    }

    @Test("user creation validates every field and rejects a taken address")
    func userValidation() async throws {
        let env = try TestEnvironment()
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            var console = ConsoleClient(client: client)
            #expect(try await console.signIn("owner@example.com") == .ok)
            let bad = try await console.send(.post, "/api/v1/admin/users", json: #"{"email":"nope","password":"short","role":"boss"}"#)
            #expect(bad.status == .unprocessableContent)
            #expect(Set(bad.envelope?.error.details.keys ?? [:].keys) == ["email", "password", "role"])
            let taken = try await console.send(.post, "/api/v1/admin/users", json: #"{"email":"OWNER@example.com","password":"0123456789ab","role":"agent"}"#)
            #expect(taken.status == .conflict)
            #expect(taken.envelope?.error.code == "email_taken")
        }
    }
}

@Suite("First-admin setup")
struct SetupTests {
    @Test("the printed one-time token creates the first admin once")
    func setup() async throws {
        let env = try TestEnvironment()
        try await env.runtime.prepare()
        let url = try #require(env.runtime.setupURL(base: "http://127.0.0.1:8080/"))
        let token = String(url.split(separator: "=").last!)
        try await env.application().test(.router) { client in
            let console = ConsoleClient(client: client)
            #expect(try await console.send(.get, "/api/v1/admin/setup").json?["required"] as? Bool == true)
            let wrong = try await console.send(.post, "/api/v1/admin/setup", json: #"{"token":"guess","email":"me@example.com","password":"a long passphrase"}"#)
            #expect(wrong.status == .forbidden)
            #expect(wrong.envelope?.error.code == "invalid_setup_token")
            let created = try await console.send(.post, "/api/v1/admin/setup", json: #"{"token":"\#(token)","email":"me@example.com","password":"a long passphrase"}"#)
            #expect(created.status == .created)
            #expect(created.headers[.setCookie]?.hasPrefix("fd_session=") == true)
            let again = try await console.send(.post, "/api/v1/admin/setup", json: #"{"token":"\#(token)","email":"two@example.com","password":"a long passphrase"}"#)
            #expect(again.status == .conflict)
            #expect(try await console.send(.get, "/api/v1/admin/setup").json?["required"] as? Bool == false)
        }
        #expect(env.runtime.setupURL(base: "x") == nil)
    }
}

@Suite("Sign-in throttling")
struct ThrottleTests {
    @Test("failed sign-ins are throttled per account and address, without locking the owner out from elsewhere")
    func throttle() async throws {
        let clock = TestClock()
        let throttle = LoginThrottle(now: { clock.date })
        for _ in 0..<5 {
            _ = try throttle.reserve(email: "owner@example.com", address: "203.0.113.9")
        }
        let error = try #require(throws: FrontdeskError.self) { try throttle.reserve(email: "owner@example.com", address: "203.0.113.9") }
        #expect(error.code == "login_throttled")
        #expect(Int(error.details["retryAfterSeconds"] ?? "") == 900)
        // The owner, from their own address, is not affected.
        _ = try throttle.reserve(email: "owner@example.com", address: "198.51.100.1")
        clock.advance(seconds: 901)
        _ = try throttle.reserve(email: "owner@example.com", address: "203.0.113.9")
    }

    @Test("the sign-in endpoint answers 429 with Retry-After after repeated failures")
    func endpoint() async throws {
        // A clock that stands still: the answer's Retry-After must not depend on how slow the machine is.
        let clock = TestClock()
        let env = try TestEnvironment(flags: ["rate_limit.login_burst": "100", "rate_limit.login_per_minute": "100"], now: { clock.date })
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            var console = ConsoleClient(client: client)
            for _ in 0..<5 { #expect(try await console.signIn("owner@example.com", "wrong guess!!") == .unauthorized) }
            let blocked = try await console.send(.post, "/api/v1/admin/session", json: #"{"email":"owner@example.com","password":"correct horse battery"}"#)
            #expect(blocked.status == .tooManyRequests)
            #expect(blocked.envelope?.error.code == "login_throttled")
            #expect(blocked.headers[.retryAfter] == "900")
        }
    }
}

@Suite("Rate limits")
struct RateLimitTests {
    @Test("forms are limited per client with RateLimit headers, then 429 with Retry-After; other clients are unaffected")
    func forms() async throws {
        // Time stands still, so the 10-second refill of this small budget never comes during a slow run.
        let frozen = Date()
        let env = try TestEnvironment(flags: ["rate_limit.forms_burst": "3", "rate_limit.forms_per_minute": "6", "server.trusted_proxies": "127.0.0.1"],
                                      now: { frozen })
        let body = #"{"name":"Ann","email":"ann@example.com","message":"Hi"}"#
        try await env.application().test(.live) { client in
            func post(from address: String) async throws -> TestResponse {
                try await client.executeRequest(uri: "/api/v1/contact", method: .post,
                                                headers: [.contentType: "application/json", HTTPField.Name("X-Forwarded-For")!: address],
                                                body: ByteBuffer(string: body))
            }
            for remaining in [2, 1, 0] {
                let ok = try await post(from: "203.0.113.5")
                #expect(ok.status == .created)
                #expect(ok.headers[HTTPField.Name("RateLimit-Policy")!] == #""forms";q=6;w=60"#)
                #expect(ok.headers[HTTPField.Name("RateLimit")!]?.hasPrefix(#""forms";r=\#(remaining);t="#) == true)
            }
            let limited = try await post(from: "203.0.113.5")
            #expect(limited.status == .tooManyRequests)
            #expect(limited.envelope?.error.code == "rate_limited")
            let retry = try #require(limited.headers[.retryAfter].flatMap(Int.init))
            #expect((1...11).contains(retry))
            #expect(limited.headers[HTTPField.Name("RateLimit")!]?.contains("r=0") == true)
            // A different client address has its own budget.
            #expect(try await post(from: "198.51.100.7").status == .created)
            // A forged X-Forwarded-For in front of the proxy's entry does not buy a new budget.
            #expect(try await post(from: "10.9.9.9, 203.0.113.5").status == .tooManyRequests)
        }
        #expect(try await env.contactCount() == 4)
    }

    @Test("--rate-limit off turns per-client limits off")
    func off() async throws {
        let env = try TestEnvironment(flags: ["rate_limit.enabled": "off", "rate_limit.forms_burst": "1"])
        try await env.application().test(.router) { client in
            for _ in 0..<5 {
                let response = try await client.executeRequest(uri: "/api/v1/contact", method: .post, headers: jsonHeaders,
                                                               body: ByteBuffer(string: #"{"name":"Ann","email":"ann@example.com","message":"Hi"}"#))
                #expect(response.status == .created)
                #expect(response.headers[HTTPField.Name("RateLimit")!] == nil)
            }
        }
    }
}

@Suite("State metrics and snapshots")
struct StateIntegrationTests {
    @Test("metrics show cache and session figures")
    func metrics() async throws {
        let env = try TestEnvironment()
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            var console = ConsoleClient(client: client)
            #expect(try await console.signIn("owner@example.com") == .ok)
            _ = try await console.send(.get, "/api/v1/admin/session")
            _ = try await console.send(.get, "/api/v1/admin/session")
            let text = try await client.executeRequest(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(testMetricsToken)"], body: nil).text
            #expect(text.contains("frontdesk_sessions_active 1"))
            #expect(text.contains(#"frontdesk_cache_hits{namespace="user"}"#))
            #expect(text.contains(#"frontdesk_cache_entries{namespace="user"} 1"#))
        }
    }

    @Test("sessions survive a restart through the snapshot; a corrupt snapshot is skipped")
    func snapshotRestart() async throws {
        let env = try TestEnvironment()
        let session = env.runtime.state.sessions.create(userId: "1", data: ["csrf": "t", "epoch": "0"])
        try env.runtime.state.snapshotSessions()
        let restarted = AppState(config: env.runtime.config, logger: env.runtime.logger, now: { Date() })
        restarted.restoreSessions()
        #expect(restarted.sessions.get(session.id)?.userId == "1")

        var bytes = try Data(contentsOf: URL(fileURLWithPath: env.runtime.state.snapshotPath))
        bytes[bytes.count / 2] ^= 0x20
        try bytes.write(to: URL(fileURLWithPath: env.runtime.state.snapshotPath))
        let afterCorruption = AppState(config: env.runtime.config, logger: env.runtime.logger, now: { Date() })
        afterCorruption.restoreSessions()
        #expect(afterCorruption.sessions.count == 0)
    }

    @Test("the maintenance pass records cache statistics into cache_stats")
    func cacheStats() async throws {
        let env = try TestEnvironment()
        env.runtime.state.cache.set("faq:en", CachedValue("x"))
        _ = env.runtime.state.cache.get("faq:en")
        let service = StateMaintenanceService(state: env.runtime.state, database: env.runtime.database, interval: .seconds(5),
                                              clock: ContinuousClock(), now: { Date() }, logger: env.runtime.logger)
        await service.recordCacheStats()
        let rows = try await env.runtime.database.read { db in
            try Int.fetchOne(db, sql: "SELECT hits FROM cache_stats WHERE namespace = 'faq'")
        }
        #expect(rows == 1)
    }
}
