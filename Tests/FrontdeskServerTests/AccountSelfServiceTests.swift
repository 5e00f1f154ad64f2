import Foundation
import FrontdeskCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import FrontdeskServer

/// Self service: one's own sessions with their networks, sign out everywhere, a password
/// change that ends the other sessions and keeps this browser signed in, the display name.
@Suite("Account self service")
struct AccountSelfServiceTests {
    @Test("changing one's password ends the other sessions; this browser gets a new one")
    func passwordChangeEndsOtherSessions() async throws {
        let env = try TestEnvironment()
        try await env.addUser("agent@example.com")
        try await env.application().test(.router) { client in
            var laptop = ConsoleClient(client: client)
            var phone = ConsoleClient(client: client)
            _ = try await laptop.signIn("agent@example.com")
            _ = try await phone.signIn("agent@example.com")
            let list = try await laptop.send(.get, "/api/v1/admin/account/sessions")
            let items = try #require(list.json?["items"] as? [[String: Any]])
            #expect(items.count == 2)
            #expect(items.filter { $0["current"] as? Bool == true }.count == 1)
            #expect(!list.text.contains(String(laptop.cookie.split(separator: "=").last ?? "")))

            let wrong = try await laptop.send(.post, "/api/v1/admin/account/password", json: #"{"currentPassword":"not it","newPassword":"a brand new passphrase"}"#)
            #expect(wrong.status == .unprocessableContent)
            #expect(wrong.envelope?.error.details["currentPassword"] != nil)
            let short = try await laptop.send(.post, "/api/v1/admin/account/password", json: #"{"currentPassword":"correct horse battery","newPassword":"short"}"#)
            #expect(short.envelope?.error.details["newPassword"] != nil)

            let changed = try await laptop.send(.post, "/api/v1/admin/account/password", json: #"{"currentPassword":"correct horse battery","newPassword":"a brand new passphrase"}"#)
            #expect(changed.status == .ok)
            laptop.cookie = String((changed.headers[.setCookie] ?? "").split(separator: ";").first ?? "")
            laptop.csrf = (changed.json?["csrfToken"] as? String) ?? ""
            #expect(try await phone.send(.get, "/api/v1/admin/session").status == .unauthorized)
            #expect(try await laptop.send(.get, "/api/v1/admin/session").status == .ok)
            #expect(env.runtime.state.sessions.sessions(forUser: "1").count == 1)
            var again = ConsoleClient(client: client)
            #expect(try await again.signIn("agent@example.com", "a brand new passphrase") == .ok)
        }
    }

    @Test("sign out everywhere ends every session; one session can be ended by its listed id; the name is one's own to change")
    func signOutEverywhere() async throws {
        let env = try TestEnvironment()
        try await env.addUser("agent@example.com")
        try await env.application().test(.router) { client in
            var a = ConsoleClient(client: client)
            var b = ConsoleClient(client: client)
            var c = ConsoleClient(client: client)
            _ = try await a.signIn("agent@example.com")
            _ = try await b.signIn("agent@example.com")
            _ = try await c.signIn("agent@example.com")
            let items = try #require(try await a.send(.get, "/api/v1/admin/account/sessions").json?["items"] as? [[String: Any]])
            let other = try #require(items.first { $0["current"] as? Bool == false }?["id"] as? String)
            #expect(try await a.send(.delete, "/api/v1/admin/account/sessions/\(other)").status == .noContent)
            #expect(try await a.send(.delete, "/api/v1/admin/account/sessions/0000000000000000").status == .notFound)
            #expect(env.runtime.state.sessions.count == 2)

            let renamed = try await a.send(.patch, "/api/v1/admin/account", json: #"{"name":"Ada Agent"}"#)
            #expect(renamed.json?["name"] as? String == "Ada Agent")

            #expect(try await a.send(.delete, "/api/v1/admin/account/sessions").status == .noContent)
            #expect(env.runtime.state.sessions.count == 0)
            #expect(try await b.send(.get, "/api/v1/admin/session").status == .unauthorized)
            #expect(try await c.send(.get, "/api/v1/admin/session").status == .unauthorized)
        }
    }
}
