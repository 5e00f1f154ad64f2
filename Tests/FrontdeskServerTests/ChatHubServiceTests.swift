import Foundation
import GRDB
import Logging
import NIOCore
import Testing
@testable import FrontdeskCore
@testable import FrontdeskServer
import FrontdeskTestSupport

/// The hub as a `Service` on a manual clock, and the server's own fast frame writers.
@Suite("Chat hub service", .timeLimit(.minutes(3)))
struct ChatHubServiceTests {
    /// A hub on `clock`, over the environment's database.
    static func hub(_ env: TestEnvironment, clock: TestClock) -> ChatHubService<TestClock> {
        ChatHubService(store: env.runtime.chat.store, settings: env.runtime.config.chat, limitsEnabled: true,
                       limiter: env.runtime.state.rateLimiter, sessions: env.runtime.state.sessions, tickets: nil,
                       agentLookup: { _ in nil }, outbox: nil, templates: nil, siteName: "Test",
                       logger: Logger(label: "test.chat", factory: { _ in SwiftLogNoOpLogHandler() }),
                       now: clock.wall, clock: clock, sweepInterval: .seconds(60))
    }

    @Test("the sweep runs every sweepInterval of its clock and closes a conversation idle for chat.inactivity_minutes")
    func inactivitySweepOnManualClock() async throws {
        let clock = TestClock()
        let env = try TestEnvironment(flags: ["chat.inactivity_minutes": "30"], now: clock.wall)
        let hub = Self.hub(env, clock: clock)
        let visitor = ChatVisitor(id: ChatIdentity.newVisitorId())
        let sent = try await hub.store.send(ChatSendRequest(actor: .visitor(visitor), conversationId: nil, clientMessageId: "m-1", text: "hi",
                                                            availability: ChatAvailability(available: false, reason: "no_agents", agentsOnline: 0)))
        let id = sent.conversation.id
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await hub.run() }
            await clock.waitForSleeper()
            // Each advance wakes the sweep once; the next sleep means that sweep is done.
            clock.advance(by: .seconds(29 * 60))
            await clock.waitForSleeper()
            #expect(try await hub.store.conversation(id: id)?.status != .closed, "29 minutes idle is not yet 30")
            clock.advance(by: .seconds(60))
            await clock.waitForSleeper()
            #expect(try await hub.store.conversation(id: id)?.status != .closed, "exactly 30 minutes is not past the cutoff")
            clock.advance(by: .seconds(60))
            await clock.waitForSleeper()
            let closed = try #require(try await hub.store.conversation(id: id))
            #expect(closed.status == .closed && closed.closedBy == .inactivity)
            group.cancelAll()
            try await group.waitForAll()
        }
    }

    @Test("the sweep does not run before its interval has passed on the clock")
    func noSweepBeforeInterval() async throws {
        let clock = TestClock()
        let env = try TestEnvironment(flags: ["chat.inactivity_minutes": "1"], now: clock.wall)
        let hub = Self.hub(env, clock: clock)
        let visitor = ChatVisitor(id: ChatIdentity.newVisitorId())
        let sent = try await hub.store.send(ChatSendRequest(actor: .visitor(visitor), conversationId: nil, clientMessageId: "m-1", text: "hi",
                                                            availability: ChatAvailability(available: false, reason: "no_agents", agentsOnline: 0)))
        clock.advance(by: .seconds(30))  // before the service starts: no sweep is waiting yet
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await hub.run() }
            await clock.waitForSleeper()
            // Idle for 89 s, past the minute, but the sweep's 60 s have not passed on its clock: nothing runs.
            clock.advance(by: .seconds(59))
            await clock.waitForSleeper()
            #expect(try await hub.store.conversation(id: sent.conversation.id)?.status != .closed)
            clock.advance(by: .seconds(1))
            await clock.waitForSleeper()
            #expect(try await hub.store.conversation(id: sent.conversation.id)?.status == .closed)
            group.cancelAll()
            try await group.waitForAll()
        }
    }

    // MARK: - The server's fast writers

    static let awkward: [String?] = [
        nil, "", "plain", #"quote " backslash \ slash / </script>"#,
        "newline\n return\r tab\t backspace\u{08} form feed\u{0C} nul\u{00} unit separator\u{1F} delete\u{7F}",
        "héllo — 日本語 🎉 e\u{301} \u{2028}\u{2029} \u{FEFF}",
    ]

    static func message(_ text: String?, nulls: Bool) -> ChatMessageView {
        ChatMessageView(ChatMessage(id: 41, conversationId: 7, sender: nulls ? .system : .agent, agentId: nulls ? nil : 3,
                                    senderName: nulls ? nil : text, senderKey: nil, clientMessageId: nulls ? nil : text,
                                    text: text ?? "", systemEvent: nulls ? "closed" : nil, createdAt: "2026-11-26T16:00:00.000Z",
                                    deliveredAt: nulls ? nil : "2026-11-26T16:00:01.000Z", readAt: nil))
    }

    static func conversation(_ text: String?, nulls: Bool) throws -> ChatConversationView {
        let row: Row = [
            "id": 7, "visitor_id": text ?? "v-1", "user_id": nulls ? nil : text, "visitor_name": nulls ? nil : text,
            "visitor_email": nulls ? nil : "a@example.com", "identified": !nulls, "status": nulls ? "open" : "assigned",
            "assignee_id": nulls ? nil : Int64(3), "assignee_name": nulls ? nil : text ?? "Ann", "offline": nulls, "page_url": nulls ? nil : text,
            "ticket_id": nulls ? nil : Int64(12), "closed_by": nil, "created_at": "2026-11-26T16:00:00.000Z",
            "updated_at": "2026-11-26T16:05:00.000Z", "assigned_at": nil, "closed_at": nil, "last_message_at": nil,
            "last_message_id": nulls ? nil : Int64(41), "visitor_delivered_up_to": 0, "visitor_read_up_to": 0,
            "agent_delivered_up_to": 0, "agent_read_up_to": 0,
        ]
        return ChatConversationView(try ChatConversation(row: row), visitorOnline: !nulls)
    }

    static func expectSame(_ type: String, ref: String?, _ payload: some ChatFastPayload & Encodable & Sendable,
                           sourceLocation: SourceLocation = #_sourceLocation) throws {
        let fast = ChatFrame.encodeFast(type, ref: ref, payload)
        let slow = ChatFrame.encodeWithFoundation(type, ref: ref, payload)
        // JSONEncoder on Linux writes keys in hash order, so the bytes differ; the values may not.
        let fastValue = try JSONValue.parse(Data(fast.readableBytesView))
        let slowValue = try JSONValue.parse(Data(slow.readableBytesView))
        #expect(fastValue == slowValue, "fast: \(String(buffer: fast))\nEncodable: \(String(buffer: slow))", sourceLocation: sourceLocation)
        #expect(ChatFrame.encode(type, ref: ref, payload) == fast, sourceLocation: sourceLocation)
    }

    @Test("chat.message (MessagePayload): the fast writer writes what JSONEncoder writes", arguments: awkward)
    func messagePayload(text: String?) throws {
        for nulls in [false, true] {
            try Self.expectSame("chat.message", ref: nil, ChatHub.MessagePayload(message: Self.message(text, nulls: nulls)))
        }
    }

    @Test("chat.ack (Ack): the fast writer writes what JSONEncoder writes", arguments: awkward)
    func ack(text: String?) throws {
        for nulls in [false, true] {
            for duplicate in [false, true] {
                try Self.expectSame("chat.ack", ref: text, ChatHub.Ack(clientMessageId: text ?? "m-1", duplicate: duplicate,
                                                                      message: Self.message(text, nulls: nulls),
                                                                      conversation: try Self.conversation(text, nulls: nulls)))
            }
        }
    }
}
