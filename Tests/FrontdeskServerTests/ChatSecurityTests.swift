import Foundation
import FrontdeskCore
import GRDB
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOWebSocket
import Testing
@testable import FrontdeskServer
import FrontdeskTestSupport

/// The visitor socket is no mail relay: offline e-mail only while offline and through the
/// forms' defences, transcripts only to a verified address, a daily mail budget per address.
@Suite("Chat visitor mail")
struct ChatVisitorMailTests {
    @Test("offline e-mail is refused while an agent can answer; no ticket, no mail")
    func offlineEmailOnlyWhenOffline() async throws {
        let env = try TestEnvironment()
        try await env.addUser("ann@example.com")
        try await env.withChatServer { client, port in
            let (agent, _) = try await Chat.agent(env, client, port: port, email: "ann@example.com")
            let (visitor, welcome) = try await Chat.visitor(port)
            #expect((welcome["availability"] as? [String: Any])?["available"] as? Bool == true)
            try await visitor.send("offline.leave_email", ["email": "victim@example.com", "message": "Buy cheap pills"])
            #expect(try await visitor.data("error")["code"] as? String == "agents_available")
            let counts = try await env.runtime.database.read { db in
                (try Int.fetchOne(db, sql: "SELECT count(*) FROM support_tickets") ?? -1, try Int.fetchOne(db, sql: "SELECT count(*) FROM mail_outbox") ?? -1)
            }
            #expect(counts.0 == 0 && counts.1 == 0)
            await visitor.close()
            await agent.close()
        }
    }

    @Test("offline e-mail counts against the forms limit of the client address, shared with the HTTP forms")
    func offlineEmailFormsLimit() async throws {
        let env = try TestEnvironment(flags: ["rate_limit.forms_burst": "2", "rate_limit.forms_per_minute": "1"])
        try await env.withChatServer { client, port in
            let (visitor, _) = try await Chat.visitor(port)
            for index in 0..<2 {
                try await visitor.send("offline.leave_email", ["email": "ada\(index)@example.com", "message": "Question \(index)"])
                _ = try await visitor.data("offline.ticket")
            }
            try await visitor.send("offline.leave_email", ["email": "ada9@example.com", "message": "One too many"])
            let limited = try await visitor.data("error")
            #expect(limited["code"] as? String == "rate_limited")
            #expect((limited["details"] as? [String: String])?["policy"] == "forms")
            // The same bucket as the public forms.
            let contact = try await client.executeRequest(uri: "/api/v1/contact", method: .post, headers: jsonHeaders,
                                                          body: ByteBuffer(string: #"{"name":"Ada","email":"ada@example.com","message":"Hello there"}"#))
            #expect(contact.status == .tooManyRequests)
            await visitor.close()
        }
    }

    @Test("offline e-mail passes the form guard: a required form token (form ticket) and its minimum fill time")
    func offlineEmailFormGuard() async throws {
        let clock = TestClock()
        let env = try TestEnvironment(flags: ["spam.require_form_token": "true"], now: { clock.date })
        try await env.withChatServer { client, port in
            let (visitor, _) = try await Chat.visitor(port)
            try await visitor.send("offline.leave_email", ["email": "ada@example.com", "message": "No token"])
            let missing = try await visitor.data("error")
            #expect(missing["code"] as? String == "validation_failed")
            #expect((missing["details"] as? [String: String])?["formToken"] != nil)
            let form = try await client.executeRequest(uri: "/api/v1/forms/ticket", method: .get, headers: [:], body: nil)
            let token = try #require(form.json?["formToken"] as? String)
            try await visitor.send("offline.leave_email", ["email": "ada@example.com", "message": "Too fast", "formToken": token])
            #expect(try await visitor.data("error")["code"] as? String == "submitted_too_fast")
            clock.advance(seconds: 5)
            try await visitor.send("offline.leave_email", ["email": "ada@example.com", "message": "With a token", "formToken": token])
            #expect((try await visitor.data("offline.ticket")["ticketId"] as? NSNumber)?.int64Value ?? 0 > 0)
            await visitor.close()
        }
    }

    @Test("every visitor-triggered mail is paid from a daily budget per address; refusals are counted in /metrics")
    func dailyMailBudget() async throws {
        let clock = TestClock()
        let env = try TestEnvironment(flags: ["mail.visitor_daily_limit": "2", "rate_limit.forms_burst": "100"], now: { clock.date })
        try await env.withChatServer { client, port in
            let (visitor, _) = try await Chat.visitor(port)
            for index in 0..<2 {
                try await visitor.send("offline.leave_email", ["email": "ada\(index)@example.com", "message": "Question \(index)"])
                _ = try await visitor.data("offline.ticket")
            }
            try await visitor.send("offline.leave_email", ["email": "victim@example.com", "message": "Spam"])
            let refused = try await visitor.data("error")
            #expect(refused["code"] as? String == "mail_budget_exhausted")
            #expect(Int((refused["details"] as? [String: String])?["retryAfterSeconds"] ?? "") ?? 0 > 0)
            let tickets = try await env.runtime.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM support_tickets") }
            #expect(tickets == 2)
            let metrics = try await client.executeRequest(uri: "/metrics", method: .get, headers: [:], body: nil).text
            #expect(metrics.contains("frontdesk_visitor_mail_budget_refused_total 1"))
            #expect(metrics.contains("frontdesk_visitor_mail_budget_spent_total 2"))
            // The next day the budget is back.
            clock.advance(seconds: 86_400)
            try await visitor.send("offline.leave_email", ["email": "ada@example.com", "message": "Next day"])
            _ = try await visitor.data("offline.ticket")
            await visitor.close()
        }
    }

    @Test("a transcript goes only to the identified visitor's address; anonymous sockets and other addresses are refused")
    func transcriptOnlyToVerifiedAddress() async throws {
        let secret = "s3cret-for-tests-at-least-32-bytes-long"
        let env = try TestEnvironment(flags: ["chat.identity_secret": secret])
        try await env.withChatServer { _, port in
            let (visitor, _) = try await Chat.visitor(port)
            try await visitor.send("chat.send", ["clientMessageId": "m-1", "text": "Please mail me this"])
            let conversationId = Chat.id(Chat.conversation(try await visitor.data("chat.ack")))
            try await visitor.send("transcript.request", ["conversationId": conversationId, "email": "victim@example.com"])
            #expect(try await visitor.data("error")["code"] as? String == "transcript_address_unverified")

            try await visitor.send("identify", ["userId": "u-7", "email": "ada@example.com", "hash": ChatIdentity.hash(userId: "u-7", secret: secret)])
            _ = try await visitor.data("identify.ok")
            try await visitor.send("transcript.request", ["conversationId": conversationId, "email": "victim@example.com"])
            #expect(try await visitor.data("error")["code"] as? String == "transcript_address_unverified")
            try await visitor.send("transcript.request", ["conversationId": conversationId])
            #expect(try await visitor.data("transcript.queued")["email"] as? String == "ada@example.com")
            let recipients = try await env.runtime.database.read { db in
                try String.fetchAll(db, sql: "SELECT to_address FROM mail_outbox WHERE kind = 'chat_transcript'")
            }
            #expect(recipients == ["ada@example.com"])
            await visitor.close()
        }
    }
}

/// An agent socket speaks for its user only while the console would: disabled users, changed
/// passwords (also from `frontdesk user` in another process) and role changes close it (1008).
@Suite("Chat agent sockets re-check their user")
struct ChatAgentRecheckTests {
    /// The account store of another process on the same SQLite file (like `frontdesk user …`).
    static func otherProcess(_ env: TestEnvironment) throws -> (AppDatabase, AccountStore) {
        let database = try AppDatabase(path: env.runtime.config.databasePath)
        return (database, AccountStore(database: database, hasher: PasswordHasher(iterations: 1_000), now: { Date() }))
    }

    @Test("`frontdesk user disable` from another process closes the agent socket at its next frame")
    func disabledFromShell() async throws {
        let env = try TestEnvironment()
        try await env.addUser("owner@example.com", role: .admin)
        let ann = try await env.addUser("ann@example.com")
        try await env.withChatServer { client, port in
            let (agent, _) = try await Chat.agent(env, client, port: port, email: "ann@example.com")
            try await agent.sync()
            let (database, accounts) = try Self.otherProcess(env)
            _ = try await accounts.update(id: ann.id!, role: nil, disabled: true)
            try database.close()
            try await agent.send("ping")
            #expect(await agent.closeCode() == .policyViolation)
            #expect(agent.pending("pong").isEmpty)
        }
    }

    @Test("`frontdesk user passwd` from another process closes the agent socket in the sweep, without a frame")
    func passwordChangedFromShell() async throws {
        let env = try TestEnvironment()
        let ann = try await env.addUser("ann@example.com")
        try await env.withChatServer { client, port in
            let (agent, _) = try await Chat.agent(env, client, port: port, email: "ann@example.com")
            try await agent.sync()
            let (database, accounts) = try Self.otherProcess(env)
            try await accounts.setPassword(id: ann.id!, password: "a brand new passphrase")
            try database.close()
            await env.runtime.chat.sweep()
            #expect(await agent.closeCode() == .policyViolation)
        }
    }

    @Test("an admin downgraded to agent in the console loses admin powers on the socket at once")
    func roleDowngrade() async throws {
        let env = try TestEnvironment()
        let ann = try await env.addUser("ann@example.com", role: .admin)
        try await env.addUser("bob@example.com")
        try await env.addUser("cy@example.com", role: .admin)
        try await env.withChatServer { client, port in
            let (bob, _) = try await Chat.agent(env, client, port: port, email: "bob@example.com")
            let (visitor, _) = try await Chat.visitor(port)
            try await visitor.send("chat.send", ["clientMessageId": "m-1", "text": "hi"])
            let conversationId = Chat.id(Chat.conversation(try await visitor.data("chat.ack")))
            try await bob.send("conversation.take", ["conversationId": conversationId])
            _ = try await bob.data("conversation.updated", where: { $0["reason"] as? String == "assigned" })
            let (annSocket, _) = try await Chat.agent(env, client, port: port, email: "ann@example.com", status: "away")

            var cy = ConsoleClient(client: client)
            #expect(try await cy.signIn("cy@example.com") == .ok)
            let downgraded = try await cy.send(.patch, "/api/v1/admin/users/\(ann.id!)", json: #"{"role":"agent"}"#)
            #expect(downgraded.status == .ok)
            // The console's change closes her socket at once, before it can force a take as an admin.
            #expect(await annSocket.closeCode() == .policyViolation)
            #expect(try await env.runtime.chat.store.conversation(id: conversationId)?.assigneeName == "bob@example.com")
            await visitor.close()
            await bob.close()
        }
    }
}

/// A change made in the console reaches the live socket at once.
@Suite("Chat agent sockets follow console account changes")
struct ChatAgentConsoleChangeTests {
    @Test("a role change or a disable in the console closes the user's agent socket with 1008 without waiting for its next frame")
    func consoleChangeClosesAtOnce() async throws {
        let env = try TestEnvironment()
        let ann = try await env.addUser("ann@example.com", role: .admin)
        let bob = try await env.addUser("bob@example.com")
        try await env.addUser("cy@example.com", role: .admin)
        try await env.withChatServer { client, port in
            let (annSocket, _) = try await Chat.agent(env, client, port: port, email: "ann@example.com")
            let (bobSocket, _) = try await Chat.agent(env, client, port: port, email: "bob@example.com")
            var cy = ConsoleClient(client: client)
            #expect(try await cy.signIn("cy@example.com") == .ok)
            #expect(try await cy.send(.patch, "/api/v1/admin/users/\(ann.id!)", json: #"{"role":"agent"}"#).status == .ok)
            // Ann's socket sends nothing; the sweep is a minute away: only the console's change can close it.
            #expect(await annSocket.closeCode(timeout: .seconds(5)) == .policyViolation)
            #expect(try await cy.send(.patch, "/api/v1/admin/users/\(bob.id!)", json: #"{"disabled":true}"#).status == .ok)
            #expect(await bobSocket.closeCode(timeout: .seconds(5)) == .policyViolation)
        }
    }
}

/// The console's HTTP API follows the socket's take/transfer rule.
@Suite("Chat assignment rule over HTTP")
struct ChatAssignmentHTTPTests {
    @Test("an agent cannot reassign or unassign another agent's conversation with PATCH; the assignee and admins can")
    func patchFollowsTheSocketRule() async throws {
        let env = try TestEnvironment()
        let ann = try await env.addUser("ann@example.com")
        let bob = try await env.addUser("bob@example.com")
        try await env.addUser("cy@example.com", role: .admin)
        try await env.withChatServer { client, port in
            let (annSocket, _) = try await Chat.agent(env, client, port: port, email: "ann@example.com")
            let (visitor, _) = try await Chat.visitor(port)
            try await visitor.send("chat.send", ["clientMessageId": "m-1", "text": "hi"])
            let conversationId = Chat.id(Chat.conversation(try await visitor.data("chat.ack")))
            #expect(try await env.runtime.chat.store.conversation(id: conversationId)?.assigneeId == ann.id)

            var bobConsole = ConsoleClient(client: client)
            #expect(try await bobConsole.signIn("bob@example.com") == .ok)
            let grab = try await bobConsole.send(.patch, "/api/v1/admin/chat/conversations/\(conversationId)", json: #"{"assigneeId":\#(bob.id!)}"#)
            #expect(grab.status == .forbidden)
            #expect(grab.envelope?.error.code == "forbidden")
            let drop = try await bobConsole.send(.patch, "/api/v1/admin/chat/conversations/\(conversationId)", json: #"{"assigneeId":null}"#)
            #expect(drop.status == .forbidden)
            #expect(try await env.runtime.chat.store.conversation(id: conversationId)?.assigneeId == ann.id)

            var annConsole = ConsoleClient(client: client)
            #expect(try await annConsole.signIn("ann@example.com") == .ok)
            let handOver = try await annConsole.send(.patch, "/api/v1/admin/chat/conversations/\(conversationId)", json: #"{"assigneeId":\#(bob.id!)}"#)
            #expect(handOver.status == .ok)
            var cy = ConsoleClient(client: client)
            #expect(try await cy.signIn("cy@example.com") == .ok)
            let back = try await cy.send(.patch, "/api/v1/admin/chat/conversations/\(conversationId)", json: #"{"assigneeId":\#(ann.id!)}"#)
            #expect(back.status == .ok)
            #expect(try await env.runtime.chat.store.conversation(id: conversationId)?.assigneeId == ann.id)
            await visitor.close()
            await annSocket.close()
        }
    }
}

/// Resume pages its replay and has its own limit.
@Suite("Chat resume paging")
struct ChatResumePagingTests {
    @Test("resume from 0 replays 200 messages per page with a cursor until hasMore is false, each message once, in order, live ones included")
    func pagedReplay() async throws {
        let env = try TestEnvironment(flags: ["rate_limit.enabled": "false"])
        try await env.withChatServer { _, port in
            let (visitor, welcome) = try await Chat.visitor(port)
            let (otherTab, _) = try await Chat.visitor(port, visitorId: welcome["visitorId"] as? String)
            try await visitor.send("chat.send", ["clientMessageId": "m-1", "text": "first"])
            let conversationId = Chat.id(Chat.conversation(try await visitor.data("chat.ack")))
            try await env.runtime.database.writer.write { db in
                for index in 0..<449 {
                    try db.execute(sql: "INSERT INTO chat_messages(conversation_id, sender, text, created_at) VALUES (?, 'visitor', ?, '2027-01-15T08:00:00.000Z')",
                                   arguments: [conversationId, "old \(index)"])
                }
            }
            // Whatever arrived live (the offline notice) is set aside first.
            try await visitor.sync()
            for _ in visitor.pending("chat.message") { _ = try await visitor.next("chat.message") }
            let all = try await env.runtime.chat.store.messages(conversationId: conversationId).map(\.id)
            #expect(all.count >= 450)
            var cursor: Int64 = 0
            var pages: [Int] = []
            var replayed: [Int64] = []
            var liveId: Int64 = -1
            while true {
                try await visitor.send("resume", ["conversationId": conversationId, "lastMessageId": cursor])
                let done = try await visitor.data("resume.done")
                pages.append(done["replayed"] as? Int ?? -1)
                replayed += visitor.pending("chat.message").map { Chat.id(Chat.message($0["data"] as! [String: Any])) }
                for _ in visitor.pending("chat.message") { _ = try await visitor.next("chat.message") }
                cursor = (done["lastMessageId"] as? NSNumber)?.int64Value ?? -1
                if done["hasMore"] as? Bool != true { break }
                if pages.count == 1 {
                    // Another tab writes between two pages: the message arrives once, in its place.
                    try await otherTab.send("chat.send", ["conversationId": conversationId, "clientMessageId": "m-live", "text": "live"])
                    liveId = Chat.id(Chat.message(try await otherTab.data("chat.ack")))
                }
            }
            try await visitor.sync()
            replayed += visitor.pending("chat.message").map { Chat.id(Chat.message($0["data"] as! [String: Any])) }
            #expect(pages.first == 200)
            #expect(pages.count == (all.count + 1 + 199) / 200)
            #expect(replayed == all + [liveId])
            await otherTab.close()
            await visitor.close()
        }
    }

    @Test("resumes are limited apart from sends: past the resume limit resume gets rate_limited while messages still go")
    func resumeLimit() async throws {
        let env = try TestEnvironment(flags: ["chat.rate_burst": "100"])
        try await env.withChatServer { _, port in
            let (visitor, _) = try await Chat.visitor(port)
            try await visitor.send("chat.send", ["clientMessageId": "m-1", "text": "hi"])
            let conversationId = Chat.id(Chat.conversation(try await visitor.data("chat.ack")))
            for _ in 0..<11 {
                try await visitor.send("resume", ["conversationId": conversationId, "lastMessageId": 0])
            }
            try await visitor.sync()
            #expect(visitor.pending("resume.done").count == 10)
            let errors = visitor.pending("error").compactMap { ($0["data"] as? [String: Any])?["code"] as? String }
            #expect(errors == ["rate_limited"])
            try await visitor.send("chat.send", ["clientMessageId": "m-2", "text": "still here"])
            #expect(try await visitor.data("chat.ack")["clientMessageId"] as? String == "m-2")
            await visitor.close()
        }
    }
}

/// The visitor's page address keeps no fragment and only the allowed query parameters.
@Suite("Chat page URL")
struct ChatPageURLTests {
    @Test("the stored pageUrl drops the fragment and every query parameter but utm_* (and those the owner allows)")
    func pageUrlSanitised() async throws {
        let env = try TestEnvironment(flags: ["chat.page_url_query_params": "utm_*,ref"])
        try await env.withChatServer { _, port in
            let socket = try await ChatTestSocket.connect(port: port)
            try await socket.send("hello", ["pageUrl": "https://shop.example/cakes?utm_source=news&token=abc123&ref=home&email=ada%40example.com#access_token=secret"])
            _ = try await socket.data("welcome")
            try await socket.send("chat.send", ["clientMessageId": "m-1", "text": "hi"])
            let conversationId = Chat.id(Chat.conversation(try await socket.data("chat.ack")))
            let stored = try await env.runtime.chat.store.conversation(id: conversationId)?.pageUrl
            #expect(stored == "https://shop.example/cakes?utm_source=news&ref=home")
            await socket.close()
        }
    }
}
