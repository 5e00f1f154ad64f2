import Foundation
import FrontdeskCore
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import FrontdeskServer

/// Invitations by mail: an admin invites an address with a role, the mail carries a single-use,
/// expiring link (the token stored only hashed), the page sets the person's own name and
/// password and signs them in; used, revoked and expired links get a page that says so.
@Suite("Invitations")
struct InvitationTests {
    static func link(in env: TestEnvironment, to email: String) async throws -> String {
        let body = try await env.runtime.database.read { db in
            try String.fetchOne(db, sql: "SELECT text_body FROM mail_outbox WHERE kind = 'invitation' AND to_address = ? ORDER BY id DESC", arguments: [email])
        }
        let text = try #require(body)
        let line = try #require(text.split(separator: "\n").first { $0.contains("/api/v1/admin/invitations/accept?token=") })
        let path = try #require(line.range(of: "/api/v1/admin/"))
        return String(line[path.lowerBound...]).trimmingCharacters(in: .whitespaces)
    }

    static func form(_ token: String, name: String, password: String) -> String {
        let allowed = CharacterSet.alphanumerics
        return "token=\(token)&name=\(name.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")&password=\(password.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
    }

    @Test("invite, open the link, set name and password: signed in as the new agent; the link works once")
    func acceptFlow() async throws {
        let env = try TestEnvironment(flags: ["rate_limit.enabled": "false"])
        try await env.addUser("admin@example.com", role: .admin)
        try await env.addUser("agent@example.com")
        try await env.application().test(.router) { client in
            var admin = ConsoleClient(client: client)
            var agent = ConsoleClient(client: client)
            _ = try await admin.signIn("admin@example.com")
            _ = try await agent.signIn("agent@example.com")
            #expect(try await agent.send(.post, "/api/v1/admin/invitations", json: #"{"email":"new@example.com","role":"agent"}"#).status == .forbidden)
            let bad = try await admin.send(.post, "/api/v1/admin/invitations", json: #"{"email":"not an address","role":"boss"}"#)
            #expect(bad.envelope?.error.details.keys.sorted() == ["email", "role"])
            #expect(try await admin.send(.post, "/api/v1/admin/invitations", json: #"{"email":"agent@example.com","role":"agent"}"#).status == .conflict)

            let invited = try await admin.send(.post, "/api/v1/admin/invitations", json: #"{"email":"New.Person@Example.com","role":"agent"}"#)
            #expect(invited.status == .created)
            #expect(invited.json?["status"] as? String == "pending")
            let link = try await Self.link(in: env, to: "New.Person@example.com")
            let token = String(link.split(separator: "=").last ?? "")
            // Only the token's hash is stored.
            let stored = try await env.runtime.database.read { db in try String.fetchOne(db, sql: "SELECT token_hash FROM invitations") }
            #expect(stored == ContentDigest.sha256Hex(token))

            let page = try await client.execute(uri: link, method: .get)
            #expect(page.status == .ok)
            #expect(String(buffer: page.body).contains("New.Person@example.com"))
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .origin: "http://localhost"]
            let short = try await client.execute(uri: "/api/v1/admin/invitations/accept", method: .post, headers: form,
                                                 body: ByteBuffer(string: Self.form(token, name: "Nia New", password: "short")))
            #expect(short.status == .unprocessableContent)
            #expect(String(buffer: short.body).contains("at least 10 characters"))

            let accepted = try await client.execute(uri: "/api/v1/admin/invitations/accept", method: .post, headers: form,
                                                    body: ByteBuffer(string: Self.form(token, name: "Nia New", password: "a long enough passphrase")))
            #expect(accepted.status == .seeOther)
            #expect(accepted.headers[.location] == "/admin/")
            let cookie = String((accepted.headers[.setCookie] ?? "").split(separator: ";").first ?? "")
            let session = try await client.execute(uri: "/api/v1/admin/session", method: .get, headers: [.cookie: cookie])
            #expect(session.status == .ok)
            #expect(String(buffer: session.body).contains("\"name\":\"Nia New\""))
            var again = ConsoleClient(client: client)
            #expect(try await again.signIn("New.Person@example.com", "a long enough passphrase") == .ok)

            let reused = try await client.execute(uri: link, method: .get)
            #expect(reused.status == .gone)
            #expect(String(buffer: reused.body).contains("used already"))
            let reposted = try await client.execute(uri: "/api/v1/admin/invitations/accept", method: .post, headers: form,
                                                    body: ByteBuffer(string: Self.form(token, name: "Mallory", password: "a long enough passphrase")))
            #expect(reposted.status == .gone)
            let list = try #require(try await admin.send(.get, "/api/v1/admin/invitations").json?["items"] as? [[String: Any]])
            #expect(list.first?["status"] as? String == "accepted")
            let unknown = try await client.execute(uri: "/api/v1/admin/invitations/accept?token=nope", method: .get)
            #expect(unknown.status == .notFound)
            #expect(unknown.headers[.contentType]?.hasPrefix("text/html") == true)
        }
    }

    @Test("an invitation expires after accounts.invitation_ttl hours; a revoked or replaced one stops at once")
    func expiryAndRevocation() async throws {
        let now = Locked(Date())
        let env = try TestEnvironment(flags: ["rate_limit.enabled": "false", "accounts.invitation_ttl": "2"], now: { now.withLock { $0 } })
        try await env.addUser("admin@example.com", role: .admin)
        try await env.application().test(.router) { client in
            var admin = ConsoleClient(client: client)
            _ = try await admin.signIn("admin@example.com")
            let first = try await admin.send(.post, "/api/v1/admin/invitations", json: #"{"email":"twice@example.com","role":"agent"}"#)
            let firstLink = try await Self.link(in: env, to: "twice@example.com")
            _ = try await admin.send(.post, "/api/v1/admin/invitations", json: #"{"email":"twice@example.com","role":"agent"}"#)
            let secondLink = try await Self.link(in: env, to: "twice@example.com")
            #expect(String(buffer: try await client.execute(uri: firstLink, method: .get).body).contains("withdrawn"))
            #expect(try await client.execute(uri: secondLink, method: .get).status == .ok)
            let firstId = try #require(first.json?["id"] as? Int)
            #expect(try await admin.send(.delete, "/api/v1/admin/invitations/\(firstId + 1)").json?["status"] as? String == "revoked")
            #expect(try await client.execute(uri: secondLink, method: .get).status == .gone)
            _ = try await admin.send(.post, "/api/v1/admin/invitations", json: #"{"email":"late@example.com","role":"admin"}"#)
            let late = try await Self.link(in: env, to: "late@example.com")
            // The clock moves only after the admin is done, so their session is not what expires.
            now.withLock { $0 += 3600 }
            #expect(try await client.execute(uri: late, method: .get).status == .ok)
            now.withLock { $0 += 3601 }
            let expired = try await client.execute(uri: late, method: .get)
            #expect(expired.status == .gone)
            #expect(String(buffer: expired.body).contains("expired"))

        }
    }
}
