import Foundation
import FrontdeskCore
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
@testable import FrontdeskServer

/// The inbox's defences through the real stack: what the idempotency records keep, whose key
/// replays what, single-use form tokens, and newsletter confirmation that a mail scanner cannot
/// trigger.
@Suite("Inbox security")
struct InboxSecurityTests {
    static let ticket = #"{"email": "cy@example.com", "subject": "Oven is cold", "description": "It does not heat."}"#
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let replayed = HTTPField.Name("Idempotency-Replayed")!

    func headers(key: String? = nil, client: String? = nil) -> HTTPFields {
        var fields = jsonHeaders
        if let key { fields[Self.idempotencyKey] = key }
        if let client { fields[Self.forwardedFor] = client }
        return fields
    }

    @Test("a ticket's idempotency record holds neither the access token nor the key, and a replay gets the token derived again")
    func ticketTokenIsNotStored() async throws {
        let env = try TestEnvironment(flags: ["rate_limit.enabled": "false"])
        try await env.application().test(.router) { client in
            let first = try await client.execute(uri: "/api/v1/tickets", method: .post, headers: headers(key: "retry-key-1"), body: ByteBuffer(json: Self.ticket))
            #expect(first.status == .created)
            let created = try #require(first.json)
            let token = try #require(created["accessToken"] as? String)
            let id = try #require(created["id"] as? Int)

            let records = try await env.runtime.database.read { db in
                try Row.fetchAll(db, sql: "SELECT key, body FROM idempotency_keys").map { (key: $0["key"] as String?, body: $0["body"] as Data?) }
            }
            #expect(records.count == 1)
            let stored = String(decoding: records.first?.body ?? Data(), as: UTF8.self)
            #expect(stored.contains("\"id\":\(id)"), "the record is the response …")
            #expect(!stored.contains(token) && !stored.contains("accessToken"), "… without the token")
            #expect(records.first?.key?.contains("retry-key-1") == false, "the key is kept only as a keyed hash")

            let again = try await client.execute(uri: "/api/v1/tickets", method: .post, headers: headers(key: "retry-key-1"), body: ByteBuffer(json: Self.ticket))
            #expect(again.status == .created)
            #expect(again.headers[Self.replayed] == "true")
            let replayed = try #require(again.json)
            #expect(replayed["id"] as? Int == id)
            #expect(replayed["accessToken"] as? String == token, "the retry can still open its ticket")
            #expect(replayed["status"] as? String == created["status"] as? String)
            #expect(replayed["createdAt"] as? String == created["createdAt"] as? String)

            let count = try await env.runtime.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM support_tickets") }
            #expect(count == 1)
        }
    }

    @Test("one client's Idempotency-Key never replays another client's response")
    func idempotencyKeysArePerClient() async throws {
        let env = try TestEnvironment(flags: ["rate_limit.enabled": "false", "server.trusted_proxies": "127.0.0.1"])
        try await env.application().test(.live) { client in
            func post(_ address: String) async throws -> TestResponse {
                try await client.execute(uri: "/api/v1/tickets", method: .post, headers: headers(key: "shared-key", client: address),
                                         body: ByteBuffer(json: Self.ticket))
            }
            let mine = try await post("203.0.113.5")
            #expect(mine.status == .created)
            let theirs = try await post("198.51.100.7")
            #expect(theirs.status == .created)
            #expect(theirs.headers[Self.replayed] == nil, "another client's key is a new request")
            #expect(theirs.json?["id"] as? Int != mine.json?["id"] as? Int)
            #expect(theirs.json?["accessToken"] as? String != mine.json?["accessToken"] as? String, "never the other ticket's token")

            let retry = try await post("203.0.113.5")
            #expect(retry.headers[Self.replayed] == "true")
            #expect(retry.json?["id"] as? Int == mine.json?["id"] as? Int)
        }
        let count = try await env.runtime.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM support_tickets") }
        #expect(count == 2)
    }

    @Test("a form token is good for one post: sending it again gets 422 form_token_used, and a fresh one works")
    func formTokensAreSingleUse() async throws {
        let env = try TestEnvironment(flags: ["rate_limit.enabled": "false", "spam.min_fill_seconds": "0"])
        try await env.application().test(.router) { client in
            func token() async throws -> String {
                let form = try await client.execute(uri: "/api/v1/forms/contact", method: .get)
                return try #require(form.json?["formToken"] as? String)
            }
            func send(_ token: String, _ message: String) async throws -> TestResponse {
                try await client.execute(uri: "/api/v1/contact", method: .post, headers: jsonHeaders, body: ByteBuffer(
                    json: #"{"name": "Ann", "email": "ann@example.com", "message": "\#(message)", "formToken": "\#(token)"}"#))
            }
            let used = try await token()
            #expect(try await send(used, "first").status == .created)
            let replay = try await send(used, "second")
            #expect(replay.status == .unprocessableContent)
            #expect(replay.envelope?.error.code == "form_token_used")
            #expect(replay.envelope?.error.details["formToken"]?.contains("already used") == true)
            #expect(try await send(try await token(), "third").status == .created)
        }
        #expect(try await env.contactCount() == 2)
    }

    @Test("opening the confirmation link confirms nothing; the POST its page sends on load does")
    func confirmationNeedsThePagesPost() async throws {
        let env = try TestEnvironment(flags: ["rate_limit.enabled": "false"])
        _ = try await env.runtime.newsletter.subscribe(NewSubscription(email: "reader@example.com"), clientNetwork: nil, now: Date())
        let token = try #require(try await env.runtime.database.read { db in
            try String.fetchOne(db, sql: "SELECT token FROM newsletter_subscriptions")
        })
        @Sendable func status() async throws -> String? { try await env.runtime.newsletter.find(token: token)?.status }
        try await env.application().test(.router) { client in
            // What a mail scanner does: fetch the link (and whatever it links to), run no script.
            let page = try await client.execute(uri: "/api/v1/newsletter/confirm?token=\(token)", method: .get)
            #expect(page.status == .ok)
            #expect(page.text.contains(#"<form method="post" action="/api/v1/newsletter/confirm" data-submit-on-load>"#))
            #expect(page.text.contains(#"<input type="hidden" name="token" value="\#(token)">"#))
            #expect(page.text.contains(#"<noscript><button type="submit">"#))
            #expect(page.text.contains(#"<script src="/static/submit-on-load.js" defer></script>"#))
            #expect(!page.text.contains("<script>"), "no inline script: the page's CSP would block it")
            let script = try await client.execute(uri: "/static/submit-on-load.js", method: .get)
            #expect(script.status == .ok && script.text.contains("form.submit()"))
            #expect(try await status() == "pending")

            // What the page's script (or its button) sends.
            let confirmed = try await client.execute(uri: "/api/v1/newsletter/confirm", method: .post,
                                                     headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: "token=\(token)"))
            #expect(confirmed.status == .ok && confirmed.text.contains("You are subscribed"))
            #expect(try await status() == "confirmed")
            let again = try await client.execute(uri: "/api/v1/newsletter/confirm?token=\(token)", method: .get)
            #expect(again.text.contains("You are subscribed") && !again.text.contains("<form"))

            let json = try await client.execute(uri: "/api/v1/newsletter/confirm", method: .post, headers: jsonHeaders,
                                                body: ByteBuffer(json: #"{"token": "\#(token)"}"#))
            #expect(json.status == .ok && json.json?["status"] as? String == "confirmed")
            let unknown = try await client.execute(uri: "/api/v1/newsletter/confirm", method: .post, headers: jsonHeaders,
                                                   body: ByteBuffer(json: #"{"token": "nope"}"#))
            #expect(unknown.status == .notFound && unknown.envelope?.error.code == "not_found")
            let unknownPage = try await client.execute(uri: "/api/v1/newsletter/confirm", method: .post,
                                                       headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: "token=nope"))
            #expect(unknownPage.status == .notFound && unknownPage.text.contains("not valid"))
        }
    }

    @Test("re-posting the sign-up form for a confirmed address answers 202 pending like for anyone, and changes nothing")
    func confirmedSubscriberIsNotChangedByAForm() async throws {
        let env = try TestEnvironment(["FRONTDESK_NEWSLETTER_TOPICS": "news,offers"], flags: ["rate_limit.enabled": "false"])
        _ = try await env.runtime.newsletter.subscribe(NewSubscription(email: "reader@example.com", topics: ["news"]), clientNetwork: nil, now: Date())
        let token = try #require(try await env.runtime.database.read { db in
            try String.fetchOne(db, sql: "SELECT token FROM newsletter_subscriptions")
        })
        _ = try await env.runtime.newsletter.confirm(token: token, now: Date())
        try await env.application().test(.router) { client in
            let changed = try await client.execute(uri: "/api/v1/newsletter/subscriptions", method: .post, headers: jsonHeaders,
                                                   body: ByteBuffer(json: #"{"email": "reader@example.com", "name": "Mallory", "topics": ["offers"]}"#))
            let stranger = try await client.execute(uri: "/api/v1/newsletter/subscriptions", method: .post, headers: jsonHeaders,
                                                    body: ByteBuffer(json: #"{"email": "new@example.com", "topics": ["offers"]}"#))
            #expect(changed.status == .accepted && stranger.status == .accepted)
            #expect(changed.text == stranger.text && changed.json?["status"] as? String == "pending", "the same answer for any address")
        }
        let row = try #require(try await env.runtime.newsletter.find(token: token))
        #expect(row.status == "confirmed" && row.topicList == ["news"] && row.name == nil)
        let mails = try await env.runtime.database.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM mail_outbox WHERE to_address = 'reader@example.com'")
        }
        #expect(mails == 1, "only the first confirmation mail")
    }
}
