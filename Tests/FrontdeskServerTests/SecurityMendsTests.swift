import Foundation
import FrontdeskCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Metrics
import NIOCore
import NIOEmbedded
import Testing
@testable import FrontdeskServer

/// The security review's findings, each with the behaviour a site owner relies on.
@Suite("Security: policy follows the route, whatever the spelling")
struct PathPolicyTests {
    static let contact = #"{"name": "Ann", "email": "ann@example.com", "message": "Hello"}"#

    @Test("every spelling of a form route gets the forms limit and the Origin rule, or a 400")
    func formSpellings() async throws {
        let env = try TestEnvironment()
        try await env.application().test(.router) { client in
            for path in ["/api/v1/contact", "//api/v1/contact", "/api/v1/contact/", "/api/v1//contact", "//api//v1//contact//"] {
                let ok = try await client.executeRequest(uri: path, method: .post, headers: jsonHeaders, body: ByteBuffer(string: Self.contact))
                #expect(ok.status == .created, "\(path)")
                #expect(ok.headers[HTTPField.Name("RateLimit-Policy")!]?.hasPrefix("\"forms\"") == true, "\(path) skipped the forms limit")
                var foreign = jsonHeaders
                foreign[.origin] = "https://evil.example"
                let refused = try await client.executeRequest(uri: path, method: .post, headers: foreign, body: ByteBuffer(string: Self.contact))
                #expect(refused.status == .forbidden && refused.envelope?.error.code == "origin_not_allowed", "\(path) skipped the Origin rule")
            }
            for path in ["/api/v1/./contact", "/api/v1/x/../contact", "/api/v1/%2e/contact", "/api/v1/%2E%2E/v1/contact", "/api/v1%2Fcontact",
                         "/api/v1/contact%2f", "/api/v1/contact/.", "/api/v1/%5ccontact", "/api/v1\\contact", "/api/v1/contact%00"] {
                let response = try await client.executeRequest(uri: path, method: .post, headers: jsonHeaders, body: ByteBuffer(string: Self.contact))
                #expect(response.status == .badRequest && response.envelope?.error.code == "path_not_canonical", "\(path): \(response.status)")
            }
            // Routes are case-sensitive: another case is no route at all, not a route without policy.
            let upper = try await client.executeRequest(uri: "/API/v1/contact", method: .post, headers: jsonHeaders, body: ByteBuffer(string: Self.contact))
            #expect(upper.status == .notFound)
        }
        #expect(try await env.contactCount() == 5)
    }

    @Test("console sign-in: every spelling gets the login class and the console's Origin rule")
    func signInSpellings() async throws {
        let env = try TestEnvironment()
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            for path in ["/api/v1/admin/session", "//api/v1/admin/session", "/api/v1/admin/session/", "/api//v1/admin//session"] {
                let body = ByteBuffer(string: #"{"email":"owner@example.com","password":"wrong password!"}"#)
                var headers = jsonHeaders
                headers[.origin] = ConsoleClient.origin
                let wrong = try await client.executeRequest(uri: path, method: .post, headers: headers, body: body)
                #expect(wrong.status == .unauthorized, "\(path)")
                #expect(wrong.headers[HTTPField.Name("RateLimit-Policy")!]?.hasPrefix("\"login\"") == true, "\(path) is not in the login class")
                headers[.origin] = "https://evil.example"
                let foreign = try await client.executeRequest(uri: path, method: .post, headers: headers, body: body)
                #expect(foreign.status == .forbidden && foreign.envelope?.error.code == "origin_not_allowed", "\(path) skipped the console Origin rule")
            }
        }
    }

    @Test("an unrouted method on an admin POST route is 405 with Allow, not a policy error")
    func unroutedMethod() async throws {
        let env = try TestEnvironment()
        try await env.application().test(.router) { client in
            for method in [HTTPRequest.Method("TRACE")!, .put, HTTPRequest.Method("PROPFIND")!] {
                let response = try await client.executeRequest(uri: "/api/v1/admin/session", method: method, headers: [.origin: "https://evil.example"], body: nil)
                #expect(response.status == .methodNotAllowed, "\(method)")
                #expect(response.envelope?.error.code == "method_not_allowed")
                #expect(response.headers[.allow] == "DELETE, GET, HEAD, POST")
            }
            let contact = try await client.executeRequest(uri: "/api/v1/contact", method: .delete, headers: [:], body: nil)
            #expect(contact.status == .methodNotAllowed && contact.headers[.allow] == "POST")
            // A CORS preflight from an allowed site still works; OPTIONS that is no preflight is 405.
            let options = try await client.executeRequest(uri: "/api/v1/contact", method: .options, headers: [:], body: nil)
            #expect(options.status == .methodNotAllowed && options.headers[.allow] == "POST")
        }
    }

    @Test("a CORS preflight from a site origin is answered on the public routes")
    func preflight() async throws {
        let env = try TestEnvironment(flags: ["server.site_origins": "https://www.example.com"])
        try await env.application().test(.router) { client in
            for path in ["/api/v1/contact", "/api/v1/tickets/7/messages", "/api/v1/newsletter/unsubscribe"] {
                let response = try await client.executeRequest(uri: path, method: .options,
                                                               headers: [.origin: "https://www.example.com", .accessControlRequestMethod: "POST"], body: nil)
                #expect(response.status == .noContent, "\(path)")
                #expect(response.headers[.accessControlAllowOrigin] == "https://www.example.com")
            }
        }
    }

    @Test("the route table and the canonical-path check agree with the router")
    func canonicalForm() {
        #expect(PathCanonicalForm.problem(in: "/static/demo.css") == nil)
        #expect(PathCanonicalForm.problem(in: "/admin/assets/app.3f2a.js") == nil)
        #expect(PathCanonicalForm.problem(in: "/.well-known/x") == nil)
        #expect(PathCanonicalForm.problem(in: "/a/...") == nil)
        #expect(PathCanonicalForm.problem(in: "/a/..") != nil)
        #expect(PathCanonicalForm.problem(in: "/a/%2") != nil)
        #expect(PathCanonicalForm.problem(in: "/a%20b") == nil)
    }
}

@Suite("Security: sign-in throttle and password hashing")
struct SignInRaceTests {
    @Test("15 concurrent wrong passwords for one account from one address: exactly 5 are judged")
    func concurrentGuesses() async throws {
        // Request rate limits off: only the sign-in throttle decides.
        let env = try TestEnvironment(flags: ["rate_limit.enabled": "false"])
        try await env.addUser("owner@example.com", role: .admin)
        let statuses = try await env.application().test(.router) { client in
            try await withThrowingTaskGroup(of: (HTTPResponse.Status, String?).self) { group in
                for _ in 0..<15 {
                    group.addTask {
                        let response = try await client.executeRequest(
                            uri: "/api/v1/admin/session", method: .post, headers: [.contentType: "application/json", .origin: ConsoleClient.origin],
                            body: ByteBuffer(string: #"{"email":"owner@example.com","password":"not the password"}"#))
                        return (response.status, response.envelope?.error.code)
                    }
                }
                return try await group.reduce(into: [(HTTPResponse.Status, String?)]()) { $0.append($1) }
            }
        }
        #expect(statuses.filter { $0.0 == .unauthorized }.count == 5)
        #expect(statuses.filter { $0.0 == .tooManyRequests && $0.1 == "login_throttled" }.count == 10)
        // The right password from the same address is throttled too until the window passes…
        // …but the owner from another address is not (see ThrottleTests.throttle).
    }

    @Test("a successful sign-in gives the address its attempt back")
    func refund() throws {
        let throttle = LoginThrottle()
        for _ in 0..<4 { _ = try throttle.reserve(email: "a@example.com", address: "198.51.100.7") }
        let attempt = try throttle.reserve(email: "a@example.com", address: "198.51.100.7")
        throttle.refund(attempt)
        // The pair's count is cleared: five more tries before the limit.
        for _ in 0..<5 { _ = try throttle.reserve(email: "a@example.com", address: "198.51.100.7") }
        #expect(throws: FrontdeskError.self) { try throttle.reserve(email: "a@example.com", address: "198.51.100.7") }
    }

    @Test("the hashing gate runs `limit` at once, queues `queueLimit`, refuses the rest with busy")
    func gate() async throws {
        let gate = ConcurrencyGate(limit: 1, queueLimit: 1)
        let (release, releaseSignal) = AsyncStream.makeStream(of: Void.self)
        let started = AsyncStream.makeStream(of: Int.self)
        let first = Task {
            try await gate.run {
                started.continuation.yield(1)
                for await _ in release { break }
                return 1
            }
        }
        var startedIterator = started.stream.makeAsyncIterator()
        #expect(await startedIterator.next() == 1)
        let second = Task { try await gate.run { 2 } }
        while gate.load.waiting == 0 { await Task.yield() }
        let error = await #expect(throws: FrontdeskError.self) { try await gate.run { 3 } }
        #expect(error?.code == "busy")
        #expect(error?.details["retryAfterSeconds"] == "1")
        releaseSignal.yield()
        #expect(try await first.value == 1)
        #expect(try await second.value == 2)
        #expect(gate.load.running == 0 && gate.load.waiting == 0)
    }
}

@Suite("Security: cookies, metrics, addresses, secrets")
struct SecurityDefaultsTests {
    @Test("over TLS only the __Host- session cookie is read; the plain name is ignored")
    func hostCookie() async throws {
        let env = try TestEnvironment(flags: ["server.public_url": "https://desk.example.com"])
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            let signIn = try await client.executeRequest(uri: "/api/v1/admin/session", method: .post,
                                                         headers: [.contentType: "application/json", .origin: "https://desk.example.com"],
                                                         body: ByteBuffer(string: #"{"email":"owner@example.com","password":"correct horse battery"}"#))
            #expect(signIn.status == .ok)
            let setCookie = try #require(signIn.headers[.setCookie])
            #expect(setCookie.hasPrefix("__Host-fd_session="))
            let id = String(setCookie.dropFirst("__Host-fd_session=".count).prefix { $0 != ";" })
            let secure = try await client.executeRequest(uri: "/api/v1/admin/session", method: .get, headers: [.cookie: "__Host-fd_session=\(id)"], body: nil)
            #expect(secure.status == .ok)
            // A cookie planted under the plain name (e.g. by a plain-HTTP page of the same host) is not believed.
            let planted = try await client.executeRequest(uri: "/api/v1/admin/session", method: .get, headers: [.cookie: "fd_session=\(id)"], body: nil)
            #expect(planted.status == .unauthorized)
        }
    }

    @Test("/metrics: refused to other machines without the token; the token opens it")
    func metricsAccess() async throws {
        let env = try TestEnvironment()
        try await env.application().test(.router) { client in
            let anonymous = try await client.executeRequest(uri: "/metrics", method: .get, headers: [:], body: nil)
            #expect(anonymous.status == .forbidden && anonymous.envelope?.error.code == "metrics_forbidden")
            let wrong = try await client.executeRequest(uri: "/metrics", method: .get, headers: [.authorization: "Bearer not-the-token"], body: nil)
            #expect(wrong.status == .forbidden)
            let right = try await client.executeRequest(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(testMetricsToken)"], body: nil)
            #expect(right.status == .ok)
        }
        // Over a real socket from this machine, no token is needed; a forwarded request needs one.
        try await env.application().test(.live) { client in
            let local = try await client.executeRequest(uri: "/metrics", method: .get, headers: [:], body: nil)
            #expect(local.status == .ok)
            let forwarded = try await client.executeRequest(uri: "/metrics", method: .get, headers: [HTTPField.Name("X-Forwarded-For")!: "203.0.113.5"], body: nil)
            #expect(forwarded.status == .forbidden)
        }
    }

    @Test("IPv6 clients count by their /64 for every limit")
    func ipv6Keys() {
        #expect(ClientAddress.limitKey("2001:db8:1:2::1") == "2001:db8:1:2::/64")
        #expect(ClientAddress.limitKey("2001:db8:1:2:ffff:eeee:dddd:cccc") == "2001:db8:1:2::/64")
        #expect(ClientAddress.limitKey("2001:db8:1:3::1") == "2001:db8:1:3::/64")
        #expect(ClientAddress.limitKey("::ffff:192.0.2.9") == "192.0.2.9")
        #expect(ClientAddress.limitKey("192.0.2.9") == "192.0.2.9")
        let resolver = ClientAddressResolver(trustedProxies: ["127.0.0.1"])
        #expect(resolver.resolve(peer: "2001:db8:aa:bb:1::2", headers: [:]).address == "2001:db8:aa:bb::/64")
        #expect(resolver.resolve(peer: "127.0.0.1", headers: [HTTPField.Name("X-Forwarded-For")!: "2001:db8:aa:bb:9::9"]).address == "2001:db8:aa:bb::/64")
    }

    @Test("two addresses of one IPv6 /64 share the forms limit")
    func ipv6SharesLimit() async throws {
        let env = try TestEnvironment(flags: ["rate_limit.forms_burst": "2", "rate_limit.forms_per_minute": "2"])
        let limiter = env.runtime.state.rateLimiter
        let policy = env.runtime.config.rateLimits.forms
        let resolver = ClientAddressResolver(trustedProxies: [])
        var allowed = 0
        for i in 1...4 {
            let key = resolver.resolve(peer: "2001:db8:5:6::\(i)", headers: [:]).address
            if limiter.check(key: key, policy: policy).allowed { allowed += 1 }
        }
        #expect(allowed == 2)
    }

    @Test("check-config refuses an identity secret shorter than 32 bytes and a short metrics token")
    func secretLengths() throws {
        let error = try #require(throws: ConfigErrors.self) {
            try FrontdeskConfig.load(file: nil, environment: ["FRONTDESK_CHAT_IDENTITY_SECRET": "short", "FRONTDESK_METRICS_TOKEN": "tiny"])
        }
        let keys = error.problems.map(\.key)
        #expect(keys.contains("chat.identity_secret"))
        #expect(keys.contains("metrics.token"))
        _ = try FrontdeskConfig.load(file: nil, environment: ["FRONTDESK_CHAT_IDENTITY_SECRET": String(repeating: "k", count: 32)])
    }

    @Test("doctor: a public listener without TLS and rate limits off are unsafe; the defaults are not")
    func doctor() throws {
        let defaults = SecurityReview.findings(.defaults)
        #expect(defaults.allSatisfy { $0.severity == .note })
        let exposed = try FrontdeskConfig.load(file: nil, environment: ["FRONTDESK_HOST": "0.0.0.0", "FRONTDESK_RATE_LIMIT": "false"])
        let unsafe = Set(SecurityReview.findings(exposed).filter { $0.severity == .unsafe }.map(\.setting))
        #expect(unsafe == ["server.public_url", "rate_limit.enabled"])
        let proxied = try FrontdeskConfig.load(file: nil, environment: ["FRONTDESK_PUBLIC_URL": "https://desk.example.com", "FRONTDESK_TRUSTED_PROXIES": "127.0.0.1"])
        #expect(SecurityReview.findings(proxied).allSatisfy { $0.severity == .note })
    }
}

@Suite("Security: connection deadlines and caps")
struct ConnectionGuardTests {
    static let settings = ConnectionSettings(headerTimeoutSeconds: 10, bodyTimeoutSeconds: 30, idleTimeoutSeconds: 60, sendTimeoutSeconds: 30,
                                             maxConnectionsPerAddress: 2)

    func connection(_ guard: ConnectionGuard, from address: String = "198.51.100.4") throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: ConnectionGuardHandler(guard: `guard`))
        // An embedded channel's remote address is the one it "connects" to: the client's here.
        try channel.connect(to: SocketAddress(ipAddress: address, port: 40000)).wait()
        return channel
    }

    func send(_ channel: EmbeddedChannel, _ text: String) throws {
        try channel.writeInbound(channel.allocator.buffer(string: text))
        while try channel.readInbound(as: ByteBuffer.self) != nil {}
    }

    func makeGuard(cap: Bool = true) -> ConnectionGuard {
        ConnectionGuard(settings: Self.settings, capEnabled: cap, trustedProxies: [], metrics: NOOPMetricsHandler.instance)
    }

    @Test("slowloris: a header line every few seconds is closed 10 s after the first byte")
    func slowHeaders() throws {
        let channel = try connection(makeGuard())
        try send(channel, "GET / HTTP/1.1\r\n")
        for _ in 0..<3 {
            channel.embeddedEventLoop.advanceTime(by: .seconds(3))
            try send(channel, "X-a: b\r\n")
            #expect(channel.isActive)
        }
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    @Test("slow body: Content-Length bytes not in within 30 s of the headers is closed")
    func slowBody() throws {
        let channel = try connection(makeGuard())
        try send(channel, "POST /api/v1/contact HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
        channel.embeddedEventLoop.advanceTime(by: .seconds(20))
        try send(channel, "0123456789")
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(!channel.isActive)
    }

    @Test("a whole request is not cut; the kept-alive connection closes after 60 s idle")
    func idle() throws {
        let channel = try connection(makeGuard())
        try send(channel, "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /y HTTP/1.1\r\nHost: x\r\n\r\n")
        channel.embeddedEventLoop.advanceTime(by: .seconds(59))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    @Test("a connection that sends nothing is closed after the idle timeout")
    func silent() throws {
        let channel = try connection(makeGuard())
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(!channel.isActive)
    }

    @Test("a chunked body ends at its last chunk")
    func chunked() throws {
        let channel = try connection(makeGuard())
        try send(channel, "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")
        try send(channel, "lo\r\n0\r\n\r\n")
        channel.embeddedEventLoop.advanceTime(by: .seconds(45))
        #expect(channel.isActive)  // idle now (60 s), no longer the body's 30 s
    }

    @Test("after a WebSocket upgrade the deadlines stop")
    func upgraded() throws {
        let channel = try connection(makeGuard())
        try send(channel, "GET /api/v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n")
        try channel.writeOutbound(IOData.byteBuffer(channel.allocator.buffer(string: "HTTP/1.1 101 Switching Protocols\r\n\r\n")))
        try send(channel, "\u{81}")  // a frame's first byte: not an HTTP request
        channel.embeddedEventLoop.advanceTime(by: .seconds(600))
        #expect(channel.isActive)
    }

    @Test("one address may hold max_connections_per_address; the next gets 503 and is closed")
    func perAddressCap() throws {
        let guardian = makeGuard()
        let first = try connection(guardian)
        let second = try connection(guardian)
        let third = try connection(guardian)
        #expect(first.isActive && second.isActive)
        #expect(!third.isActive)
        let answer = try #require(try third.readOutbound(as: IOData.self))
        guard case .byteBuffer(let buffer) = answer else { Issue.record("no bytes"); return }
        let text = String(buffer: buffer)
        #expect(text.hasPrefix("HTTP/1.1 503"))
        #expect(text.contains("too_many_connections"))
        // Another address is not affected; closing one frees a place.
        #expect(try connection(guardian, from: "198.51.100.5").isActive)
        _ = try first.close().wait()
        #expect(guardian.openConnections("198.51.100.4") == 1)
        #expect(try connection(guardian).isActive)
        // `--rate-limit off` lifts the cap.
        let lifted = makeGuard(cap: false)
        let all = try (0..<5).map { _ in try connection(lifted) }
        #expect(all.allSatisfy { $0.isActive })
    }
}

@Suite("Security: the visitor mail budget covers the forms")
struct FormMailBudgetTests {
    @Test("contact, newsletter and ticket posts share one daily mail budget per address with the chat")
    func formsShareTheBudget() async throws {
        let env = try TestEnvironment(flags: ["mail.visitor_daily_limit": "3", "rate_limit.forms_burst": "100", "rate_limit.forms_per_minute": "100"])
        let posts: [(String, String)] = [
                ("/api/v1/contact", #"{"name":"Ann","email":"ann@example.com","message":"Hello"}"#),
                ("/api/v1/newsletter/subscriptions", #"{"email":"ann@example.com"}"#),
                ("/api/v1/tickets", #"{"name":"Ann","email":"ann@example.com","subject":"Help","description":"Broken"}"#),
        ]
        try await env.application().test(.router) { client in
            for (path, body) in posts {
                let ok = try await client.executeRequest(uri: path, method: .post, headers: jsonHeaders, body: ByteBuffer(string: body))
                #expect(ok.status.code / 100 == 2, "\(path): \(ok.status) \(ok.text)")
            }
            let refused = try await client.executeRequest(uri: "/api/v1/contact", method: .post, headers: jsonHeaders, body: ByteBuffer(string: posts[0].1))
            #expect(refused.status == .tooManyRequests)
            #expect(refused.envelope?.error.code == "mail_budget_exhausted")
            #expect(refused.headers[.retryAfter] != nil)
            // The honeypot's bots are answered as before and cost nothing.
            let bot = try await client.executeRequest(uri: "/api/v1/contact", method: .post, headers: jsonHeaders,
                                                      body: ByteBuffer(string: #"{"name":"B","email":"b@example.com","message":"spam","website":"x"}"#))
            #expect(bot.status == .created)
        }
        #expect(try await env.contactCount() == 1)
        #expect(env.runtime.mailBudget.remaining(for: "") == 0)
        // `--rate-limit off` (load tests) lifts it with the other per-client limits.
        let lifted = try TestEnvironment(flags: ["mail.visitor_daily_limit": "1", "rate_limit.enabled": "false"])
        try await lifted.application().test(.router) { client in
            for _ in 0..<3 {
                let ok = try await client.executeRequest(uri: "/api/v1/contact", method: .post, headers: jsonHeaders, body: ByteBuffer(string: posts[0].1))
                #expect(ok.status == .created)
            }
        }
    }

    @Test("a honeypot that is not a string is a 422 naming the field, not a silent 201")
    func honeypotType() async throws {
        let env = try TestEnvironment()
        try await env.application().test(.router) { client in
            let response = try await client.executeRequest(uri: "/api/v1/contact", method: .post, headers: jsonHeaders,
                                                           body: ByteBuffer(string: #"{"name":"Ann","email":"ann@example.com","message":"Hi","website":{}}"#))
            #expect(response.status == .unprocessableContent)
            #expect(response.envelope?.error.details["website"] == "must be a string, not an object")
        }
        #expect(try await env.contactCount() == 0)
    }
}
