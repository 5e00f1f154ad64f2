import Foundation
import GRDB
import FrontdeskCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
@testable import FrontdeskServer

@Suite("HTTP contract: envelope, headers, limits")
struct HTTPContractTests {
    @Test("every response has a request id and the security headers; documents get the full policy")
    func securityHeaders() async throws {
        let env = try TestEnvironment(flags: ["demo.enabled": "true"])
        try await env.application().test(.router) { client in
            for path in ["/healthz", "/nope", "/api/openapi.json", "/demo"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.headers[HTTPField.Name("X-Request-Id")!]?.count == 32)
                    let csp = try #require(response.headers[.contentSecurityPolicy])
                    #expect(csp.contains("frame-ancestors 'none'"))
                    #expect(!csp.contains("unsafe"))
                    if path == "/demo" {
                        #expect(csp.contains("script-src 'self'"))
                        #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                    } else {
                        #expect(csp.hasPrefix("default-src 'none'"))
                    }
                    #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                    #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "strict-origin-when-cross-origin")
                }
            }
        }
    }

    @Test("request ids are unique")
    func uniqueRequestIDs() {
        let ids = (0..<10_000).map { _ in RequestIDs.next() }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) })
    }

    @Test("a well-formed incoming request id is kept, a malformed one replaced")
    func requestIDs() async throws {
        let env = try TestEnvironment()
        try await env.application().test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get, headers: [HTTPField.Name("X-Request-Id")!: "proxy-abc.12345"]) { response in
                #expect(response.headers[HTTPField.Name("X-Request-Id")!] == "proxy-abc.12345")
            }
            try await client.execute(uri: "/healthz", method: .get, headers: [HTTPField.Name("X-Request-Id")!: "bad id\u{7f}<script>"]) { response in
                #expect(response.headers[HTTPField.Name("X-Request-Id")!]?.count == 32)
            }
        }
    }

    @Test("unknown routes get a 404 envelope")
    func notFound() async throws {
        let env = try TestEnvironment()
        try await env.application().test(.router) { client in
            try await client.execute(uri: "/no/such/page", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                let envelope = try #require(response.envelope)
                #expect(envelope.error.code == "not_found")
                #expect(envelope.error.timestamp.hasSuffix("Z"))
            }
        }
    }

    @Test("a known path with the wrong method gets 405 with Allow")
    func methodNotAllowed() async throws {
        let env = try TestEnvironment()
        try await env.application().test(.router) { client in
            try await client.execute(uri: "/api/v1/contact", method: .get) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "POST")
                #expect(response.envelope?.error.code == "method_not_allowed")
            }
            try await client.execute(uri: "/healthz", method: .delete) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, HEAD")
            }
        }
    }

    @Test("malformed JSON gets 400 saying where, and nothing is stored")
    func malformedJSON() async throws {
        let env = try TestEnvironment()
        try await env.application().test(.router) { client in
            try await client.execute(uri: "/api/v1/contact", method: .post, headers: jsonHeaders,
                                     body: ByteBuffer(json: "{\"name\": \"Ann\",\n \"email\": oops}")) { response in
                #expect(response.status == .badRequest)
                let envelope = try #require(response.envelope)
                #expect(envelope.error.code == "malformed_json")
                #expect(envelope.error.details["line"] == "2")
                #expect(envelope.error.details["column"] == "11")
                #expect(envelope.error.message.contains("line 2, column 11"))
            }
            try await client.execute(uri: "/api/v1/contact", method: .post, headers: jsonHeaders,
                                     body: ByteBuffer(json: #"{"name": "Ann", "email": "a@example.com", "message": "m", "name": "Bob"}"#)) { response in
                #expect(response.status == .badRequest)
                #expect(response.envelope?.error.message.contains("appears twice") == true)
            }
            try await client.execute(uri: "/api/v1/contact", method: .post, headers: jsonHeaders, body: ByteBuffer(json: "[1,2]")) { response in
                #expect(response.status == .badRequest)
                #expect(response.envelope?.error.message.contains("JSON object") == true)
            }
        }
        #expect(try await env.contactCount() == 0)
    }

    @Test("a body over the limit gets 413 and nothing is stored")
    func tooLarge() async throws {
        let env = try TestEnvironment(flags: ["server.max_body_kib": "1"])
        let big = "{\"name\":\"Ann\",\"email\":\"ann@example.com\",\"message\":\"" + String(repeating: "x", count: 2000) + "\"}"
        try await env.application().test(.router) { client in
            try await client.execute(uri: "/api/v1/contact", method: .post, headers: jsonHeaders, body: ByteBuffer(json: big)) { response in
                #expect(response.status == .contentTooLarge)
                #expect(response.envelope?.error.code == "payload_too_large")
                #expect(response.envelope?.error.details["limitBytes"] == "1024")
            }
        }
        #expect(try await env.contactCount() == 0)
    }

    @Test("a body that is not JSON gets 415")
    func unsupportedMediaType() async throws {
        let env = try TestEnvironment()
        try await env.application().test(.router) { client in
            try await client.execute(uri: "/api/v1/contact", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                     body: ByteBuffer(string: "name=Ann")) { response in
                #expect(response.status == .unsupportedMediaType)
                #expect(response.envelope?.error.code == "unsupported_media_type")
            }
        }
        #expect(try await env.contactCount() == 0)
    }

    @Test("validation failures get 422 naming every bad field, and nothing is stored")
    func validation() async throws {
        let env = try TestEnvironment()
        try await env.application().test(.router) { client in
            try await client.execute(uri: "/api/v1/contact", method: .post, headers: jsonHeaders,
                                     body: ByteBuffer(json: #"{"name": 42, "email": "not-an-email", "surprise": true}"#)) { response in
                #expect(response.status == .unprocessableContent)
                let envelope = try #require(response.envelope)
                #expect(envelope.error.code == "validation_failed")
                #expect(Set(envelope.error.details.keys) == ["name", "email", "message", "surprise"])
                #expect(envelope.error.details["surprise"] == "is not a known field")
            }
        }
        #expect(try await env.contactCount() == 0)
    }

    @Test("a valid contact submission is stored before 201 is sent")
    func contactCreated() async throws {
        let env = try TestEnvironment()
        try await env.application().test(.router) { client in
            try await client.execute(uri: "/api/v1/contact", method: .post, headers: jsonHeaders,
                                     body: ByteBuffer(json: #"{"name": "Ann", "email": "ann@example.com", "message": "Do you deliver?"}"#)) { response in
                #expect(response.status == .created)
                let json = try #require(response.json)
                let id = try #require(json["id"] as? Int)
                #expect(json["status"] as? String == "new")
                // The row is there the moment the response is: the 2xx came after commit.
                let stored = try await ContactStore(database: env.runtime.database).find(id: Int64(id))
                #expect(stored?.message == "Do you deliver?")
            }
        }
    }

    @Test("an internal error is a generic 500 envelope that shows no internals")
    func internalError() async throws {
        struct SecretFailure: Error { let detail = "password=hunter2 at /var/lib/secret.sqlite" }
        let env = try TestEnvironment()
        let app = env.application { router in
            router.get("/test/boom") { _, _ -> String in throw SecretFailure() }
        }
        try await app.test(.router) { client in
            try await client.execute(uri: "/test/boom", method: .get) { response in
                #expect(response.status == .internalServerError)
                let envelope = try #require(response.envelope)
                #expect(envelope.error.code == "internal_error")
                let requestID = try #require(response.headers[HTTPField.Name("X-Request-Id")!])
                #expect(envelope.error.message.contains(requestID))
                #expect(!response.text.contains("hunter2"))
                #expect(!response.text.contains("SecretFailure"))
            }
        }
    }
}

@Suite("Cross-origin rules")
struct CORSTests {
    @Test("configured site origins may call the public API; others get 403; same origin always may")
    func origins() async throws {
        let env = try TestEnvironment(flags: ["server.site_origins": "https://shop.example"])
        let body = ByteBuffer(json: #"{"name": "Ann", "email": "ann@example.com", "message": "Hi"}"#)
        try await env.application().test(.router) { client in
            try await client.execute(uri: "/api/v1/contact", method: .options,
                                     headers: [.origin: "https://shop.example", .accessControlRequestMethod: "POST"]) { response in
                #expect(response.status == .noContent)
                #expect(response.headers[.accessControlAllowOrigin] == "https://shop.example")
                #expect(response.headers[.accessControlAllowHeaders]?.contains("Content-Type") == true)
            }
            try await client.execute(uri: "/api/v1/contact", method: .post,
                                     headers: [.origin: "https://shop.example", .contentType: "application/json"], body: body) { response in
                #expect(response.status == .created)
                #expect(response.headers[.accessControlAllowOrigin] == "https://shop.example")
            }
            try await client.execute(uri: "/api/v1/contact", method: .post,
                                     headers: [.origin: "https://evil.example", .contentType: "application/json"], body: body) { response in
                #expect(response.status == .forbidden)
                #expect(response.envelope?.error.code == "origin_not_allowed")
                #expect(response.headers[.accessControlAllowOrigin] == nil)
            }
            // Errors reach the allowed site too, or the browser hides the field errors from the widget.
            try await client.execute(uri: "/api/v1/contact", method: .post,
                                     headers: [.origin: "https://shop.example", .contentType: "application/json"],
                                     body: ByteBuffer(json: #"{"email": "x"}"#)) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.headers[.accessControlAllowOrigin] == "https://shop.example")
                #expect(response.headers[.accessControlExposeHeaders]?.contains("Retry-After") == true)
            }
            try await client.execute(uri: "/api/v1/tickets/1", method: .get, headers: [.origin: "https://shop.example"]) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.accessControlAllowOrigin] == "https://shop.example")
            }
        }
        #expect(try await env.contactCount() == 1)
    }

    @Test("a 304 for a document keeps the document's security policy")
    func revalidatedDocument() async throws {
        let env = try TestEnvironment(flags: ["demo.enabled": "true"])
        try await env.application().test(.router) { client in
            let etag = try await client.execute(uri: "/robots.txt", method: .get) { $0.headers[.eTag] }
            let first = try await client.execute(uri: "/demo", method: .get) { $0 }
            #expect(first.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            try await client.execute(uri: "/demo", method: .get, headers: [.ifNoneMatch: first.headers[.eTag] ?? ""]) { response in
                #expect(response.status == .notModified)
                #expect(response.headers[.contentSecurityPolicy] == first.headers[.contentSecurityPolicy])
            }
            #expect(etag != nil)
        }
    }
}

@Suite("Health, readiness, metrics")
struct HealthTests {
    @Test("healthz and readyz answer; metrics show requests by route and status and write batches")
    func health() async throws {
        let env = try TestEnvironment()
        try await env.application().test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.json?["status"] as? String == "ok")
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                #expect((response.json?["checks"] as? [String: String])?["database"] == "ok")
            }
            try await client.execute(uri: "/api/v1/contact", method: .post, headers: jsonHeaders,
                                     body: ByteBuffer(json: #"{"name": "Ann", "email": "ann@example.com", "message": "Hi"}"#)) { _ in }
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(testMetricsToken)"]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                let text = response.text
                #expect(text.contains(#"frontdesk_http_requests_total{route="/healthz",method="GET",status="200"} 1"#))
                #expect(text.contains(#"route="/api/v1/contact",method="POST",status="201""#))
                #expect(text.contains("frontdesk_http_request_duration_seconds_bucket"))
                #expect(text.contains("frontdesk_db_write_batch_size"))
                #expect(text.contains("frontdesk_db_write_wait_seconds_count"))
            }
        }
    }

    @Test("readyz is 503 with the envelope while another process holds the write lock")
    func notReady() async throws {
        let env = try TestEnvironment()
        // A second connection, as `sqlite3` or a stuck backup would be, takes the write lock.
        let blocker = try DatabaseQueue(path: env.runtime.database.path)
        try await env.application().test(.router) { client in
            try await blocker.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                defer { try? db.execute(sql: "ROLLBACK") }
                // Runs on the blocker's queue while it holds the lock; readiness waits out busy_timeout.
                let semaphore = DispatchSemaphore(value: 0)
                nonisolated(unsafe) var status: HTTPResponse.Status?
                nonisolated(unsafe) var code: String?
                Task {
                    try await client.execute(uri: "/readyz", method: .get) { response in
                        status = response.status
                        code = response.envelope?.error.code
                    }
                    semaphore.signal()
                }
                semaphore.wait()
                #expect(status == .serviceUnavailable)
                #expect(code == "not_ready")
            }
        }
    }
}

@Suite("Embedded assets")
struct AssetTests {
    @Test("the OpenAPI document is served with a strong ETag, revalidates with 304 and compresses")
    func openAPI() async throws {
        let env = try TestEnvironment()
        try await env.application().test(.router) { client in
            let etag = try await client.execute(uri: "/api/openapi.json", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.json?["openapi"] as? String == "3.1.0")
                let etag = try #require(response.headers[.eTag])
                #expect(etag.hasPrefix("\"") && !etag.hasPrefix("W/"))
                return etag
            }
            try await client.execute(uri: "/api/openapi.json", method: .get, headers: [.ifNoneMatch: etag]) { response in
                #expect(response.status == .notModified)
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: "/api/openapi.json", method: .get, headers: [.acceptEncoding: "gzip, br"]) { response in
                #expect(response.headers[.contentEncoding] == "gzip")
                let body = response.body
                let plain = try #require(Gzip.decompress(Data(buffer: body)))
                #expect((try JSONSerialization.jsonObject(with: plain) as? [String: Any])?["openapi"] as? String == "3.1.0")
            }
        }
    }

    @Test("the demo page is only served in demo mode")
    func demoGate() async throws {
        let plain = try TestEnvironment()
        try await plain.application().test(.router) { client in
            try await client.execute(uri: "/demo", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.envelope?.error.message.contains("--demo") == true)
            }
        }
        let demo = try TestEnvironment(flags: ["demo.enabled": "true"])
        try await demo.runtime.prepare()
        try await demo.application().test(.router) { client in
            try await client.execute(uri: "/demo", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(response.text.contains("Lakeside Bakery"))
            }
        }
        #expect(try await demo.contactCount() == 3)
    }

    @Test("the router's routes and the OpenAPI document's operations are the same, both ways")
    func routesMatchTheDocument() throws {
        let env = try TestEnvironment()
        _ = buildRouter(env.runtime)
        let table = try #require(env.runtime.routeTable.current)
        let routed = Set(table.all.filter { $0.method != "HEAD" }.map { "\($0.method) \($0.openAPIPath.replacingOccurrences(of: "/**", with: "/{path}"))" })
        let contract = APIContract(openAPIDocument: env.runtime.assets.data("web/api/openapi.json"))
        let documented = Set(contract.operations.map { "\($0.method) \($0.path)" })
        #expect(routed.subtracting(documented).sorted() == [], "routed but not in the OpenAPI document")
        #expect(documented.subtracting(routed).sorted() == [], "in the OpenAPI document but not routed")
        // Every GET has its HEAD twin (Router option .autoGenerateHeadEndpoints).
        #expect(table.all.filter { $0.method == "GET" }.count == table.all.filter { $0.method == "HEAD" }.count)
    }

    @Test("every operation in the OpenAPI document answers as routed")
    func everyDocumentedOperationIsRouted() async throws {
        let env = try TestEnvironment(flags: ["demo.enabled": "true"])
        let contract = APIContract(openAPIDocument: env.runtime.assets.data("web/api/openapi.json"))
        try await env.application().test(.router) { client in
            // As many documented operations as routes: none is left out of the requests below.
            let routes = try #require(env.runtime.routeTable.current).all.filter { $0.method != "HEAD" }
            #expect(contract.operations.count == routes.count)
            for (method, path) in contract.operations {
                let concrete = path.replacingOccurrences(of: "{file}", with: "demo.css").replacingOccurrences(of: "{id}", with: "1")
                try await client.execute(uri: concrete, method: HTTPRequest.Method(method)!, headers: jsonHeaders, body: ByteBuffer(string: "{}")) { response in
                    let code = response.envelope?.error.code
                    #expect(code != "method_not_allowed", "\(method) \(path) is documented but not routed")
                    #expect(!(response.status == .notFound && code == "not_found" && response.envelope?.error.message == "There is nothing at this address."),
                            "\(method) \(path) is documented but not routed")
                }
            }
        }
    }
}

@Suite("Live server")
struct LiveServerTests {
    @Test("the server answers over a real socket")
    func live() async throws {
        let env = try TestEnvironment()
        try await env.application().test(.live) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.json?["status"] as? String == "ok")
            }
            try await client.execute(uri: "/api/v1/contact", method: .post, headers: jsonHeaders,
                                     body: ByteBuffer(json: #"{"name": "Ann", "email": "ann@example.com", "message": "Live"}"#)) { response in
                #expect(response.status == .created)
            }
        }
        #expect(try await env.contactCount() == 1)
    }
}
