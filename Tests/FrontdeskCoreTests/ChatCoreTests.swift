import Foundation
import GRDB
import NIOCore
import Testing
@testable import FrontdeskCore

/// The chat's store, identity check, business hours and frame parsing, without sockets.
@Suite("Chat core")
struct ChatCoreTests {
    func store() throws -> (ChatStore, AppDatabase, TempDirectory) {
        let dir = TempDirectory()
        let database = try AppDatabase(path: dir.file("db.sqlite"))
        try database.migrate()
        return (ChatStore(database: database), database, dir)
    }

    let online = ChatAvailability(available: true, reason: nil, agentsOnline: 1)

    @Test("the identity hash is hex HMAC-SHA256 of the user id (RFC 4231 test case 2) and forgeries fail")
    func identityHash() {
        #expect(ChatIdentity.hash(userId: "what do ya want for nothing?", secret: "Jefe")
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(ChatIdentity.verify(userId: "u-1", hash: ChatIdentity.hash(userId: "u-1", secret: "k"), secret: "k"))
        #expect(!ChatIdentity.verify(userId: "u-2", hash: ChatIdentity.hash(userId: "u-1", secret: "k"), secret: "k"))
        #expect(!ChatIdentity.verify(userId: "u-1", hash: ChatIdentity.hash(userId: "u-1", secret: ""), secret: ""))
        #expect(ChatIdentity.isAnonymousVisitorId(ChatIdentity.newVisitorId()))
        #expect(!ChatIdentity.isAnonymousVisitorId("v_short"))
        #expect(!ChatIdentity.isAnonymousVisitorId(ChatIdentity.visitorId(forUser: "u-1", secret: "k")))
    }

    @Test("business hours: day ranges, wrap-around weekdays, time zones, and clear errors")
    func businessHours() throws {
        let hours = try BusinessHours(parsing: "mon-fri 09:00-17:00, sat 10:00-14:00")
        let utc = TimeZone(identifier: "UTC")!
        let friday0830 = Date(timeIntervalSince1970: 1_800_000_000 + 30 * 60)  // Fri 2027-01-15 08:30 UTC
        #expect(!hours.isOpen(at: friday0830, in: utc))
        #expect(hours.isOpen(at: friday0830, in: TimeZone(identifier: "Europe/Berlin")!))  // 09:30 there
        #expect(hours.isOpen(at: friday0830.addingTimeInterval(86_400 + 2 * 3600), in: utc))  // Sat 10:30
        #expect(!hours.isOpen(at: friday0830.addingTimeInterval(2 * 86_400 + 2 * 3600), in: utc))  // Sun
        #expect(try BusinessHours(parsing: "sat-mon 00:00-24:00").intervals.map(\.weekday) == [7, 1, 2])
        #expect(BusinessHours.always.isOpen(at: friday0830, in: utc))
        #expect(throws: BusinessHours.ParseError.self) { try BusinessHours(parsing: "weekdays 9-5") }
        #expect(throws: BusinessHours.ParseError.self) { try BusinessHours(parsing: "mon 17:00-09:00") }
        let problems = ChatSettings(values: ["chat.business_hours": .string("mon 9-5"), "chat.timezone": .string("Mars/Olympus")])
            .problems(source: "test")
        #expect(Set(problems.map(\.key)) == ["chat.business_hours", "chat.timezone"])
    }

    @Test("frames: not JSON, no type, a bad version and a non-object data are told apart")
    func frameParsing() throws {
        func code(_ text: String) -> String? {
            do { _ = try ChatInboundFrame.parse(Array(text.utf8)); return nil }
            catch let error as ChatFrameError { return error.error.code }
            catch let error as FrontdeskError { return error.code }
            catch { return "other" }
        }
        #expect(code("not json") == "bad_frame")
        #expect(code("[1]") == "bad_frame")
        #expect(code(#"{"data":{}}"#) == "bad_frame")
        #expect(code(#"{"v":2,"type":"ping"}"#) == "unsupported_version")
        #expect(code(#"{"type":"ping","data":[]}"#) == "bad_frame")
        let frame = try ChatInboundFrame.parse(Array(#"{"type":"chat.send","ref":"r1","data":{"conversationId":12,"text":"hi"}}"#.utf8))
        #expect(frame.type == "chat.send" && frame.ref == "r1" && frame.integer("conversationId") == 12)
        #expect(throws: FrontdeskError.self) { try ChatStore.validateSend(clientMessageId: "bad id!", text: "", maxTextBytes: 10) }
        #expect(try ChatStore.validateSend(clientMessageId: "ok-1", text: " hi \n", maxTextBytes: 10) == ("ok-1", "hi"))
    }

    @Test("receipts are cumulative, move status forward only, and name exactly the messages that changed")
    func receipts() async throws {
        let (store, _, dir) = try store()
        _ = dir
        let ann = ChatAgent(id: 1, name: "Ann")
        let visitor = ChatVisitor(id: ChatIdentity.newVisitorId())
        var ids: [Int64] = []
        var conversationId: Int64 = 0
        for index in 0..<3 {
            let result = try await store.send(ChatSendRequest(actor: .visitor(visitor), conversationId: nil, clientMessageId: "m\(index)",
                                                              text: "m\(index)", availability: online))
            ids.append(result.message.id)
            conversationId = result.conversation.id
        }
        let first = try await store.receipt(conversationId: conversationId, by: .agent(ann), upTo: ids[1], status: .delivered)
        #expect(first.messageIds == [ids[0], ids[1]])
        let read = try await store.receipt(conversationId: conversationId, by: .agent(ann), upTo: ids[2], status: .read)
        #expect(read.messageIds == ids)
        let again = try await store.receipt(conversationId: conversationId, by: .agent(ann), upTo: ids[2], status: .delivered)
        #expect(again.messageIds.isEmpty)
        let messages = try await store.messages(conversationId: conversationId)
        #expect(messages.allSatisfy { $0.status == .read && $0.deliveredAt != nil })
        // A visitor cannot acknowledge its own messages, nor another visitor's conversation.
        let own = try await store.receipt(conversationId: conversationId, by: .visitor(visitor), upTo: ids[2], status: .read)
        #expect(own.messageIds.isEmpty)
        await #expect(throws: FrontdeskError.self) {
            _ = try await store.receipt(conversationId: conversationId, by: .visitor(ChatVisitor(id: ChatIdentity.newVisitorId())), upTo: ids[2], status: .read)
        }
    }

    @Test("a send is idempotent per sender and client id, and closed conversations refuse messages")
    func idempotentSend() async throws {
        let (store, database, dir) = try store()
        _ = dir
        let visitor = ChatVisitor(id: ChatIdentity.newVisitorId())
        let request = ChatSendRequest(actor: .visitor(visitor), conversationId: nil, clientMessageId: "same", text: "hello", availability: online)
        let first = try await store.send(request)
        let second = try await store.send(request)
        #expect(second.duplicate && second.message.id == first.message.id)
        let count = try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM chat_messages") }
        #expect(count == 1)
        _ = try await store.close(conversationId: first.conversation.id, by: .visitor, visitorId: visitor.id)
        await #expect(throws: FrontdeskError(.conflict, code: "conversation_closed", message: "Conversation \(first.conversation.id) is closed.")) {
            _ = try await store.send(ChatSendRequest(actor: .visitor(visitor), conversationId: first.conversation.id, clientMessageId: "next",
                                                     text: "more", availability: online))
        }
    }

    @Test("the fast frame writer produces the same JSON as JSONEncoder, escapes included")
    func fastWriter() throws {
        let message = ChatMessage(id: 7, conversationId: 3, sender: .agent, agentId: 2, senderName: "Ann \"the\" agent", senderKey: "a:2",
                                  clientMessageId: "c-1", text: "line1\nline2\t\u{01} ünïcødé 🎂 \\ /", systemEvent: nil,
                                  createdAt: "2026-11-26T16:00:00.000Z", deliveredAt: nil, readAt: "2026-11-26T16:00:01.000Z")
        let view = ChatMessageView(message)
        let fast = ChatFrame.encodeFast("chat.message", ref: "r\"1", view)
        struct Slow: Encodable { let v = 1; let type = "chat.message"; let ref = "r\"1"; let data: ChatMessageView }
        let slow = try JSONEncoder().encode(Slow(data: view))
        let a = try JSONSerialization.jsonObject(with: Data(fast.readableBytesView)) as? NSDictionary
        let b = try JSONSerialization.jsonObject(with: slow) as? NSDictionary
        #expect(a != nil && a == b)
        let data = (a?["data"] as? NSDictionary)?["message"] as? NSDictionary
        #expect(data == nil, "a bare message view is the data itself")
        #expect((a?["data"] as? NSDictionary)?["text"] as? String == message.text)
    }
}
