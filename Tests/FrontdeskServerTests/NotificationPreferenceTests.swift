import Foundation
import FrontdeskCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import FrontdeskServer

/// Notification preferences are each user's own, kept on the server, everything on by default.
@Suite("Notification preferences")
struct NotificationPreferenceTests {
    @Test("defaults on; a change is kept for that user only; bad values are named; tokens cannot use it")
    func ownPreferences() async throws {
        let env = try TestEnvironment()
        let ada = try await env.addUser("ada@example.com")
        try await env.addUser("bob@example.com")
        let token = try await env.runtime.tokens.create(try APITokenStore.NewToken(name: "t", scopes: ["chat:read"], expiresInDays: nil, role: .agent), forUser: ada.id ?? 0)
        try await env.application().test(.router) { client in
            var a = ConsoleClient(client: client)
            var b = ConsoleClient(client: client)
            _ = try await a.signIn("ada@example.com")
            _ = try await b.signIn("bob@example.com")
            let initial = try await a.send(.get, "/api/v1/admin/account/notifications")
            #expect(initial.json?["sound"] as? Bool == true && initial.json?["desktopNewChats"] as? Bool == true && initial.json?["desktopMyMessages"] as? Bool == true)
            let changed = try await a.send(.patch, "/api/v1/admin/account/notifications", json: #"{"sound":false}"#)
            #expect(changed.status == .ok)
            #expect(changed.json?["sound"] as? Bool == false)
            #expect(changed.json?["desktopNewChats"] as? Bool == true)
            #expect(try await a.send(.get, "/api/v1/admin/account/notifications").json?["sound"] as? Bool == false)
            #expect(try await b.send(.get, "/api/v1/admin/account/notifications").json?["sound"] as? Bool == true)
            let bad = try await a.send(.patch, "/api/v1/admin/account/notifications", json: #"{"sound":"off","loud":true}"#)
            #expect(bad.status == .unprocessableContent)
            #expect(bad.envelope?.error.details.keys.sorted() == ["loud", "sound"])
            let viaToken = try await client.execute(uri: "/api/v1/admin/account/notifications", method: .get, headers: [.authorization: "Bearer \(token.secret)"])
            #expect(viaToken.status == .forbidden)
        }
    }
}
