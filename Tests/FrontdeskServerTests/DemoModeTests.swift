import Foundation
import FrontdeskCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import FrontdeskServer
import FrontdeskTestSupport

/// `serve --demo`: the demo sign-in, every feature's seed, and the scripted demo visitor.
// Tests here move a manual clock while services sleep on it: a wrong step hangs rather than
// fails, so each is cut off (and named) after three minutes instead of stalling the run.
@Suite(.timeLimit(.minutes(3))) struct DemoModeTests {
    @Test func theDemoSignInIsMadeOnceAndWorksInTheConsole() async throws {
        let env = try TestEnvironment(flags: ["demo.enabled": "true"])
        try await env.runtime.prepare()
        let account = try #require(try await env.runtime.demoAccount())
        #expect(account.email.hasPrefix("demo-") && account.email.hasSuffix("@frontdesk.example"))
        #expect(account.password.count >= 16)
        // The same one on the next start of this data directory.
        try await env.runtime.prepare()
        #expect(try await env.runtime.demoAccount() == account)
        #expect(try await env.runtime.accounts.list().count == 1)
        // No setup link is offered: the demo account is the admin.
        #expect(env.runtime.setupURL(base: "http://x/") == nil)
        try await env.application().test(.router) { client in
            var console = ConsoleClient(client: client)
            let status = try await console.signIn(account.email, account.password)
            #expect(status == .ok)
        }
    }

    @Test func outsideDemoModeThereIsNoDemoAccount() async throws {
        let env = try TestEnvironment()
        try await env.runtime.prepare()
        #expect(try await env.runtime.demoAccount() == nil)
        #expect(try await env.runtime.accounts.list().isEmpty)
    }

    @Test func everyFeatureSeedsItsDemoContent() async throws {
        let env = try TestEnvironment(flags: ["demo.enabled": "true"])
        try await env.runtime.prepare()
        let runtime = env.runtime
        #expect(try await ContactStore(database: runtime.database).count() == 3)
        // Chat history: three finished conversations, each answered by the demo account.
        let (chats, total) = try await runtime.chat.store.list(ChatConversationFilter(), page: 1, perPage: 50)
        #expect(total == 3)
        let demoAccount = try #require(try await runtime.demoAccount())
        let demoUser = try #require(try await runtime.accounts.find(email: demoAccount.email))
        for conversation in chats {
            #expect(conversation.status == .closed)
            let messages = try await runtime.chat.store.messages(conversationId: conversation.id)
            #expect(messages.contains { $0.sender == .visitor })
            #expect(messages.contains { $0.sender == .agent && $0.agentId == demoUser.id })
        }
        try await env.application().test(.router) { client in
            let faq = try await client.execute(uri: "/api/v1/faq", method: .get)
            #expect(faq.status == .ok)
            #expect(faq.text.contains("Do you deliver?"))
            let reviews = try await client.execute(uri: "/api/v1/reviews", method: .get)
            #expect(reviews.text.contains("Best sourdough in town"))
        }
        // Seeding is once per data directory.
        try await env.runtime.prepare()
        #expect(try await runtime.chat.store.list(ChatConversationFilter(), page: 1, perPage: 50).total == 3)
    }

    @Test func theScriptedVisitorOpensAChatAndAnswersTheAgentOnTheManualClock() async throws {
        let clock = TestClock()
        let env = try TestEnvironment(flags: ["demo.enabled": "true", "rate_limit.enabled": "false"])
        try await env.addUser("agent@bakery.example")
        let (events, sink) = AsyncStream<DemoVisitorEvent>.makeStream()
        var service = DemoVisitorService(hub: env.runtime.chat, pageURL: { "http://localhost/demo" }, interval: .seconds(120),
                                         replyDelay: .seconds(5), clock: clock,
                                         logger: Logger(label: "test.demo", factory: { _ in SwiftLogNoOpLogHandler() }))
        service.events = { sink.yield($0) }
        let scripted = service
        try await env.withChatServer { client, port in
            let (agent, _) = try await Chat.agent(env, client, port: port, email: "agent@bakery.example")
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await scripted.run() }
                var iterator = events.makeAsyncIterator()
                await clock.waitForSleeper()
                // Before the interval nothing happens; at it, a chat arrives in the console.
                clock.advance(by: .seconds(119))
                let early = try await env.runtime.chat.store.activeConversations()
                #expect(early.isEmpty)
                clock.advance(by: .seconds(1))
                guard case .opened(let conversationId, _)? = await iterator.next() else { Issue.record("no chat opened"); return }
                let created = try await agent.data("conversation.created")
                #expect(Chat.id(Chat.conversation(created)) == conversationId)
                let first = try await agent.data("chat.message") { Chat.message($0)["sender"] as? String == "visitor" }
                #expect((Chat.message(first)["text"] as? String)?.hasPrefix("[Demo visitor] ") == true)
                let conversation = try #require(try await env.runtime.chat.store.conversation(id: conversationId))
                #expect(conversation.pageUrl == "http://localhost/demo")
                #expect(conversation.visitorName == DemoVisitorScript.visitorName)

                // The agent answers; after the reply delay the visitor answers back with its script.
                _ = try await agent.send("chat.send", ["conversationId": conversationId, "clientMessageId": "a-1", "text": "Yes, we do!"])
                _ = try await agent.data("chat.ack")
                // Two sleepers: the interval loop (asleep since the chat opened) and now the reply
                // delay. Waiting for one would return at once, and an advance made before the
                // reply's sleep began would pass no deadline of it: the answer would never come.
                await clock.waitForSleepers(2)
                clock.advance(by: .seconds(5))
                guard case .answered(let answeredIn, let line)? = await iterator.next() else { Issue.record("no answer"); return }
                #expect(answeredIn == conversationId)
                #expect(DemoVisitorScript.all.contains { $0.answers.first == line })
                let answer = try await agent.data("chat.message") { Chat.message($0)["sender"] as? String == "visitor" }
                #expect(Chat.message(answer)["text"] as? String == "[Demo visitor] \(line)")
                let stored = try await env.runtime.chat.store.messages(conversationId: conversationId)
                #expect(stored.map(\.sender).filter { $0 != .system } == [.visitor, .agent, .visitor])
                group.cancelAll()
            }
            await agent.close()
        }
    }

    @Test func theScriptedVisitorWaitsForAnAgent() async throws {
        let clock = TestClock()
        let env = try TestEnvironment(flags: ["demo.enabled": "true"])
        let service = DemoVisitorService(hub: env.runtime.chat, pageURL: { "http://localhost/demo" }, interval: .seconds(60),
                                         replyDelay: .zero, clock: clock,
                                         logger: Logger(label: "test.demo", factory: { _ in SwiftLogNoOpLogHandler() }))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            for _ in 0..<3 {
                await clock.waitForSleeper()
                clock.advance(by: .seconds(60))
            }
            await clock.waitForSleeper()
            // Nobody online: no chats pile up for nobody.
            let active = try await env.runtime.chat.store.activeConversations()
            #expect(active.isEmpty)
            group.cancelAll()
        }
    }

    @Test func theScriptedVisitorRunsOnlyInDemoMode() throws {
        let demo = try TestEnvironment(flags: ["demo.enabled": "true"])
        #expect(demo.runtime.services().contains { $0 is DemoVisitorService<ContinuousClock> })
        let off = try TestEnvironment(flags: ["demo.enabled": "true", "demo.visitor_interval_seconds": "0"])
        #expect(!off.runtime.services().contains { $0 is DemoVisitorService<ContinuousClock> })
        let plain = try TestEnvironment()
        #expect(!plain.runtime.services().contains { $0 is DemoVisitorService<ContinuousClock> })
    }
}
