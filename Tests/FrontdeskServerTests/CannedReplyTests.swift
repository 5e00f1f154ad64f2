import Foundation
import FrontdeskCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import FrontdeskServer

/// Canned replies on the server: shared ones kept by admins, personal ones by their owner,
/// shortcuts unique per scope, every bad field named, and API tokens need the chat scopes.
@Suite("Canned replies")
struct CannedReplyTests {
    @Test("an agent keeps their own replies and sees the shared ones; only admins change shared ones")
    func scopes() async throws {
        let env = try TestEnvironment()
        try await env.addUser("admin@example.com", role: .admin)
        try await env.addUser("ada@example.com")
        try await env.addUser("bob@example.com")
        try await env.application().test(.router) { client in
            var admin = ConsoleClient(client: client)
            var ada = ConsoleClient(client: client)
            var bob = ConsoleClient(client: client)
            _ = try await admin.signIn("admin@example.com")
            _ = try await ada.signIn("ada@example.com")
            _ = try await bob.signIn("bob@example.com")

            let shared = try await admin.send(.post, "/api/v1/admin/canned-replies", json: #"{"shortcut":"/Hello","text":"Hello {{visitor.name}}!","scope":"shared"}"#)
            #expect(shared.status == .created)
            #expect(shared.json?["shortcut"] as? String == "hello")
            #expect(shared.json?["scope"] as? String == "shared")
            let sharedId = try #require(shared.json?["id"] as? Int)

            let refused = try await ada.send(.post, "/api/v1/admin/canned-replies", json: #"{"shortcut":"team","text":"x","scope":"shared"}"#)
            #expect(refused.status == .forbidden)
            // The same shortcut in another scope is fine; twice in one scope is not.
            let own = try await ada.send(.post, "/api/v1/admin/canned-replies", json: #"{"shortcut":"hello","text":"Hi, I'm {{agent.name}}."}"#)
            #expect(own.status == .created)
            #expect(own.json?["scope"] as? String == "personal")
            let ownId = try #require(own.json?["id"] as? Int)
            let twice = try await ada.send(.post, "/api/v1/admin/canned-replies", json: #"{"shortcut":"HELLO","text":"again"}"#)
            #expect(twice.status == .unprocessableContent)
            #expect(twice.envelope?.error.details["shortcut"] == "is used by another of your replies")
            let sharedTwice = try await admin.send(.post, "/api/v1/admin/canned-replies", json: #"{"shortcut":"hello","text":"again","scope":"shared"}"#)
            #expect(sharedTwice.envelope?.error.details["shortcut"] == "is used by another shared reply")

            let adaList = try #require(try await ada.send(.get, "/api/v1/admin/canned-replies").json?["items"] as? [[String: Any]])
            #expect(adaList.count == 2)
            #expect(adaList.first { $0["id"] as? Int == sharedId }?["editable"] as? Bool == false)
            #expect(adaList.first { $0["id"] as? Int == ownId }?["editable"] as? Bool == true)
            let bobList = try #require(try await bob.send(.get, "/api/v1/admin/canned-replies").json?["items"] as? [[String: Any]])
            #expect(bobList.map { $0["id"] as? Int } == [sharedId])

            #expect(try await ada.send(.patch, "/api/v1/admin/canned-replies/\(sharedId)", json: #"{"text":"mine now"}"#).status == .forbidden)
            #expect(try await ada.send(.delete, "/api/v1/admin/canned-replies/\(sharedId)").status == .forbidden)
            // Someone else's reply is not there for them, an admin included.
            #expect(try await bob.send(.patch, "/api/v1/admin/canned-replies/\(ownId)", json: #"{"text":"x"}"#).status == .notFound)
            #expect(try await admin.send(.delete, "/api/v1/admin/canned-replies/\(ownId)").status == .notFound)

            let edited = try await ada.send(.patch, "/api/v1/admin/canned-replies/\(ownId)", json: #"{"text":"Hi there, {{agent.name}} here."}"#)
            #expect(edited.status == .ok)
            #expect(edited.json?["text"] as? String == "Hi there, {{agent.name}} here.")
            #expect(try await admin.send(.patch, "/api/v1/admin/canned-replies/\(sharedId)", json: #"{"text":"Hello {{visitor.name}}, welcome!"}"#).status == .ok)
            #expect(try await ada.send(.delete, "/api/v1/admin/canned-replies/\(ownId)").status == .noContent)
            #expect(try await ada.send(.delete, "/api/v1/admin/canned-replies/\(ownId)").status == .notFound)
            let after = try #require(try await ada.send(.get, "/api/v1/admin/canned-replies").json?["items"] as? [[String: Any]])
            #expect(after.map { $0["text"] as? String } == ["Hello {{visitor.name}}, welcome!"])
        }
    }

    @Test("every bad field is named in one 422")
    func validation() async throws {
        let env = try TestEnvironment()
        try await env.addUser("ada@example.com")
        try await env.application().test(.router) { client in
            var ada = ConsoleClient(client: client)
            _ = try await ada.signIn("ada@example.com")
            let long = String(repeating: "a", count: 2001)
            let bad = try await ada.send(.post, "/api/v1/admin/canned-replies", json: #"{"shortcut":"two words","text":"\#(long)","scope":"everyone","extra":1}"#)
            #expect(bad.status == .unprocessableContent)
            let details = bad.envelope?.error.details ?? [:]
            #expect(details["shortcut"] == "may hold only letters, digits, - and _ (no spaces)")
            #expect(details["text"]?.contains("2000") == true)
            #expect(details["scope"] != nil)
            #expect(details["extra"] != nil)
            let missing = try await ada.send(.post, "/api/v1/admin/canned-replies", json: #"{}"#)
            #expect(missing.envelope?.error.details.keys.sorted() == ["shortcut", "text"])
            let tooLong = try await ada.send(.post, "/api/v1/admin/canned-replies", json: #"{"shortcut":"\#(String(repeating: "x", count: 33))","text":"ok"}"#)
            #expect(tooLong.envelope?.error.details["shortcut"]?.contains("32") == true)
        }
    }

    @Test("API tokens need chat:read to list and chat:write to change")
    func tokenScopes() async throws {
        #expect(TokenRouteScopes.scope(route: "/api/v1/admin/canned-replies", method: .get) == "chat:read")
        #expect(TokenRouteScopes.scope(route: "/api/v1/admin/canned-replies/:id", method: .patch) == "chat:write")
        let env = try TestEnvironment()
        let user = try await env.addUser("ada@example.com")
        let reader = try await env.runtime.tokens.create(try APITokenStore.NewToken(name: "r", scopes: ["chat:read"], expiresInDays: nil, role: .agent), forUser: user.id ?? 0)
        try await env.application().test(.router) { client in
            let bearer: HTTPFields = [.authorization: "Bearer \(reader.secret)", .contentType: "application/json"]
            let list = try await client.execute(uri: "/api/v1/admin/canned-replies", method: .get, headers: bearer)
            #expect(list.status == .ok)
            let create = try await client.execute(uri: "/api/v1/admin/canned-replies", method: .post, headers: bearer,
                                                  body: ByteBuffer(string: #"{"shortcut":"hi","text":"Hi"}"#))
            #expect(create.status == .forbidden)
            #expect(String(buffer: create.body).contains("chat:write"))
        }
    }

    @Test("the demo seed brings shared replies with variables")
    func demoSeed() async throws {
        let env = try TestEnvironment()
        let store = CannedReplyStore(database: env.runtime.database)
        try await store.seedShared(CannedRepliesController.starterReplies, now: Date())
        try await store.seedShared(CannedRepliesController.starterReplies, now: Date())
        let replies = try await store.list(for: 1)
        #expect(replies.count == CannedRepliesController.starterReplies.count)
        #expect(replies.allSatisfy { $0.isShared })
        #expect(replies.contains { $0.text.contains("{{visitor.name}}") })
    }
}
