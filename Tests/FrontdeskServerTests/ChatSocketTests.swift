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

/// The chat protocol over real sockets on a live server (Resources/web/api/chat-protocol.md).
@Suite("Chat sockets")
struct ChatSocketTests {
    @Test("send is acked once committed; delivered and read come from the recipient's receipts and reach the sender")
    func sendAckDeliveredRead() async throws {
        let env = try TestEnvironment()
        try await env.addUser("ann@example.com")
        try await env.withChatServer { client, port in
            let (agent, _) = try await Chat.agent(env, client, port: port, email: "ann@example.com")
            let (visitor, welcome) = try await Chat.visitor(port)
            let availability = welcome["availability"] as? [String: Any]
            #expect(availability?["available"] as? Bool == true)

            let ref = try await visitor.send("chat.send", ["clientMessageId": "m-1", "text": "  Do you deliver on Sundays?  "])
            let ack = try await visitor.next("chat.ack")
            #expect(ack["ref"] as? String == ref)
            let ackData = ack["data"] as! [String: Any]
            let sent = Chat.message(ackData)
            let messageId = Chat.id(sent)
            #expect(sent["status"] as? String == "sent")
            #expect(sent["text"] as? String == "Do you deliver on Sundays?")
            // Acked only after commit: the row is there.
            let stored = try await env.runtime.database.read { db in try ChatMessage.fetchOne(db, key: messageId) }
            #expect(stored?.text == "Do you deliver on Sundays?")
            let conversationId = Chat.id(Chat.conversation(ackData))
            #expect(Chat.conversation(ackData)["status"] as? String == "assigned")

            // The agent (the only one online) was assigned and receives the message.
            let created = try await agent.data("conversation.created")
            #expect(Chat.id(Chat.conversation(created)) == conversationId)
            let incoming = try await agent.data("chat.message", where: { Chat.id(Chat.message($0)) == messageId })
            #expect(Chat.message(incoming)["sender"] as? String == "visitor")
            let joined = try await visitor.data("chat.message", where: { Chat.message($0)["systemEvent"] as? String == "conversation.assigned" })
            #expect((Chat.message(joined)["text"] as? String)?.contains("ann@example.com") == true)

            // Nothing is delivered until the agent's client says so.
            try await visitor.sync()
            #expect(visitor.pending("chat.status").isEmpty)
            try await agent.send("chat.receipt", ["conversationId": conversationId, "messageId": messageId, "status": "delivered"])
            let delivered = try await visitor.data("chat.status")
            #expect(delivered["status"] as? String == "delivered")
            #expect((delivered["messageIds"] as? [NSNumber])?.map(\.int64Value) == [messageId])
            try await agent.send("chat.receipt", ["conversationId": conversationId, "messageId": messageId, "status": "read"])
            let read = try await visitor.data("chat.status", where: { $0["status"] as? String == "read" })
            #expect((read["messageIds"] as? [NSNumber])?.map(\.int64Value) == [messageId])
            let after = try await env.runtime.database.read { db in try ChatMessage.fetchOne(db, key: messageId) }
            #expect(after?.deliveredAt != nil && after?.readAt != nil)
            #expect(after?.status == .read)

            // A repeated receipt changes nothing and sends nothing.
            try await agent.send("chat.receipt", ["conversationId": conversationId, "messageId": messageId, "status": "read"])
            try await agent.sync()
            try await visitor.sync()
            #expect(visitor.pending("chat.status").isEmpty)

            // The agent answers; the visitor's receipts reach the agent.
            try await agent.send("chat.send", ["conversationId": conversationId, "clientMessageId": "a-1", "text": "Yes, until noon."])
            let agentAck = Chat.message(try await agent.data("chat.ack"))
            let reply = try await visitor.data("chat.message", where: { Chat.id(Chat.message($0)) == Chat.id(agentAck) })
            #expect(Chat.message(reply)["senderName"] as? String == "ann@example.com")
            try await visitor.send("chat.receipt", ["conversationId": conversationId, "messageId": Chat.id(agentAck), "status": "read"])
            let agentSees = try await agent.data("chat.status", where: { $0["status"] as? String == "read" })
            #expect((agentSees["messageIds"] as? [NSNumber])?.map(\.int64Value).contains(Chat.id(agentAck)) == true)

            // Sending the same clientMessageId again stores nothing new.
            try await visitor.send("chat.send", ["clientMessageId": "m-1", "text": "Do you deliver on Sundays?"])
            let again = try await visitor.data("chat.ack")
            #expect(again["duplicate"] as? Bool == true)
            #expect(Chat.id(Chat.message(again)) == messageId)
            let copies = try await env.runtime.database.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM chat_messages WHERE client_message_id = 'm-1'")
            }
            #expect(copies == 1)
            await visitor.close()
            await agent.close()
        }
    }

    @Test("typing is forwarded to the other side, throttled to one per 2 s, and stopping always passes")
    func typing() async throws {
        let clock = TestClock()
        let env = try TestEnvironment(now: { clock.date })
        try await env.addUser("ann@example.com")
        try await env.withChatServer { client, port in
            let (agent, _) = try await Chat.agent(env, client, port: port, email: "ann@example.com")
            let (visitor, _) = try await Chat.visitor(port)
            try await visitor.send("chat.send", ["clientMessageId": "m-1", "text": "hi"])
            let conversationId = Chat.id(Chat.conversation(try await visitor.data("chat.ack")))
            try await visitor.send("chat.typing", ["conversationId": conversationId, "typing": true])
            let first = try await agent.data("chat.typing")
            #expect(first["typing"] as? Bool == true)
            #expect(first["sender"] as? String == "visitor")
            try await visitor.send("chat.typing", ["conversationId": conversationId, "typing": true])
            try await visitor.sync()
            try await visitor.send("chat.typing", ["conversationId": conversationId, "typing": false])
            let stop = try await agent.data("chat.typing")
            #expect(stop["typing"] as? Bool == false, "the second typing:true within 2 s was dropped")
            clock.advance(seconds: 2.5)
            try await visitor.send("chat.typing", ["conversationId": conversationId, "typing": true])
            #expect(try await agent.data("chat.typing")["typing"] as? Bool == true)
            // The agent's typing reaches the visitor with the agent's name.
            try await agent.send("chat.typing", ["conversationId": conversationId, "typing": true])
            let agentTyping = try await visitor.data("chat.typing")
            #expect(agentTyping["sender"] as? String == "agent")
            #expect(agentTyping["name"] as? String == "ann@example.com")
            await visitor.close()
            await agent.close()
        }
    }

    @Test("round-robin assignment among online agents, transfer by the assignee, take from the queue")
    func assignmentAndTransfer() async throws {
        let env = try TestEnvironment()
        let ann = try await env.addUser("ann@example.com")
        let bob = try await env.addUser("bob@example.com")
        try await env.withChatServer { client, port in
            let (a, _) = try await Chat.agent(env, client, port: port, email: "ann@example.com")
            let (b, _) = try await Chat.agent(env, client, port: port, email: "bob@example.com")
            var assignees: [Int64] = []
            var visitors: [ChatTestSocket] = []
            var conversations: [Int64] = []
            for index in 0..<3 {
                let (visitor, _) = try await Chat.visitor(port)
                try await visitor.send("chat.send", ["clientMessageId": "m-\(index)", "text": "hello \(index)"])
                let conversation = Chat.conversation(try await visitor.data("chat.ack"))
                assignees.append(Chat.id(conversation["assignee"] as? [String: Any] ?? [:]))
                conversations.append(Chat.id(conversation))
                visitors.append(visitor)
            }
            #expect(assignees == [ann.id!, bob.id!, ann.id!])

            // Bob cannot transfer Ann's conversation; Ann can, to Bob.
            try await b.send("conversation.transfer", ["conversationId": conversations[0], "agentId": bob.id!])
            #expect(try await b.data("error")["code"] as? String == "forbidden")
            try await a.send("conversation.transfer", ["conversationId": conversations[0], "agentId": bob.id!])
            let updated = try await b.data("conversation.updated", where: { $0["reason"] as? String == "transferred" })
            #expect((Chat.conversation(updated)["assignee"] as? [String: Any]).map(Chat.id) == bob.id!)
            let note = try await visitors[0].data("chat.message", where: { Chat.message($0)["systemEvent"] as? String == "conversation.transferred" })
            #expect((Chat.message(note)["text"] as? String)?.contains("bob@example.com") == true)
            let row = try await env.runtime.chat.store.conversation(id: conversations[0])
            #expect(row?.assigneeId == bob.id)

            // With both away, a new conversation waits in the queue; Ann takes it.
            try await a.send("presence.set", ["status": "away"])
            try await b.send("presence.set", ["status": "away"])
            _ = try await a.data("presence.agent", where: { $0["status"] as? String == "away" && ($0["agentId"] as? NSNumber)?.int64Value == bob.id })
            let (late, lateWelcome) = try await Chat.visitor(port)
            #expect((lateWelcome["availability"] as? [String: Any])?["reason"] as? String == "no_agents")
            try await late.send("chat.send", ["clientMessageId": "late", "text": "anyone?"])
            let queued = Chat.conversation(try await late.data("chat.ack"))
            #expect(queued["status"] as? String == "open")
            #expect(queued["offline"] as? Bool == true)
            try await a.send("conversation.take", ["conversationId": Chat.id(queued)])
            let taken = try await a.data("conversation.updated", where: { $0["reason"] as? String == "assigned" })
            #expect(Chat.conversation(taken)["status"] as? String == "assigned")
            #expect((Chat.conversation(taken)["assignee"] as? [String: Any]).map(Chat.id) == ann.id!)
            let seen = try await late.data("conversation.updated", where: { $0["reason"] as? String == "assigned" })
            #expect(Chat.id(Chat.conversation(seen)) == Chat.id(queued))
            for visitor in visitors { await visitor.close() }
            await late.close()
            await a.close()
            await b.close()
        }
    }

    @Test("close by visitor and agent, by inactivity; a closed conversation takes no message")
    func closing() async throws {
        let clock = TestClock()
        let env = try TestEnvironment(now: { clock.date })
        try await env.addUser("ann@example.com")
        try await env.withChatServer { client, port in
            let (agent, _) = try await Chat.agent(env, client, port: port, email: "ann@example.com")
            let (visitor, _) = try await Chat.visitor(port)
            try await visitor.send("chat.send", ["clientMessageId": "m-1", "text": "hi"])
            let first = Chat.id(Chat.conversation(try await visitor.data("chat.ack")))
            try await visitor.send("conversation.close", ["conversationId": first])
            let mine = try await visitor.data("conversation.updated")
            #expect(Chat.conversation(mine)["closedBy"] as? String == "visitor")
            let theirs = try await agent.data("conversation.updated", where: { $0["reason"] as? String == "closed" })
            #expect(Chat.conversation(theirs)["status"] as? String == "closed")
            try await visitor.send("chat.send", ["conversationId": first, "clientMessageId": "m-2", "text": "still there?"])
            #expect(try await visitor.data("error")["code"] as? String == "conversation_closed")
            // Without a conversation id the next message starts a new one.
            try await visitor.send("chat.send", ["clientMessageId": "m-3", "text": "new question"])
            let second = Chat.id(Chat.conversation(try await visitor.data("chat.ack")))
            #expect(second != first)
            try await agent.send("conversation.close", ["conversationId": second])
            let byAgent = try await visitor.data("conversation.updated", where: { Chat.id(Chat.conversation($0)) == second })
            #expect(Chat.conversation(byAgent)["closedBy"] as? String == "agent")

            try await visitor.send("chat.send", ["clientMessageId": "m-4", "text": "third"])
            let third = Chat.id(Chat.conversation(try await visitor.data("chat.ack")))
            clock.advance(seconds: 29 * 60)
            await env.runtime.chat.sweep()
            #expect(try await env.runtime.chat.store.conversation(id: third)?.status == .assigned)
            clock.advance(seconds: 2 * 60)
            await env.runtime.chat.sweep()
            let idle = try await visitor.data("conversation.updated", where: { Chat.id(Chat.conversation($0)) == third })
            #expect(Chat.conversation(idle)["closedBy"] as? String == "inactivity")
            await visitor.close()
            await agent.close()
        }
    }

    @Test("resume after a dropped connection replays what was missed, once, in order")
    func resumeAfterDisconnect() async throws {
        let env = try TestEnvironment()
        try await env.addUser("ann@example.com")
        try await env.withChatServer { client, port in
            let (agent, _) = try await Chat.agent(env, client, port: port, email: "ann@example.com")
            let (visitor, welcome) = try await Chat.visitor(port)
            let visitorId = welcome["visitorId"] as! String
            try await visitor.send("chat.send", ["clientMessageId": "m-1", "text": "hi"])
            let ack = try await visitor.data("chat.ack")
            let conversationId = Chat.id(Chat.conversation(ack))
            try await agent.send("chat.send", ["conversationId": conversationId, "clientMessageId": "a-0", "text": "hello"])
            _ = try await agent.data("chat.ack", where: { $0["clientMessageId"] as? String == "a-0" })
            let seen = Chat.id(Chat.message(try await visitor.data("chat.message", where: { Chat.message($0)["sender"] as? String == "agent" })))

            visitor.drop()
            // While the visitor is away the agent writes three messages.
            var missed: [Int64] = []
            for index in 1...3 {
                try await agent.send("chat.send", ["conversationId": conversationId, "clientMessageId": "a-\(index)", "text": "missed \(index)"])
                missed.append(Chat.id(Chat.message(try await agent.data("chat.ack", where: { $0["clientMessageId"] as? String == "a-\(index)" }))))
            }
            let (back, again) = try await Chat.visitor(port, visitorId: visitorId)
            #expect(again["visitorId"] as? String == visitorId)
            #expect(Chat.id(again["conversation"] as? [String: Any] ?? [:]) == conversationId)
            try await back.send("resume", ["conversationId": conversationId, "lastMessageId": seen])
            let done = try await back.data("resume.done")
            // A message sent right after the replay arrives once, after it.
            try await agent.send("chat.send", ["conversationId": conversationId, "clientMessageId": "a-4", "text": "after"])
            let after = Chat.id(Chat.message(try await agent.data("chat.ack", where: { $0["clientMessageId"] as? String == "a-4" })))
            _ = try await back.data("chat.message", where: { Chat.id(Chat.message($0)) == after })
            try await back.sync()
            let replayed = back.pending("chat.message").map { Chat.id(Chat.message($0["data"] as! [String: Any])) }
            #expect(replayed == missed, "exactly the three missed messages, in order, each once")
            #expect(done["replayed"] as? Int == 3)
            #expect((done["lastMessageId"] as? NSNumber)?.int64Value == missed.last)

            // The visitor re-sends a message whose ack it never saw: stored once.
            try await back.send("chat.send", ["clientMessageId": "m-1", "text": "hi"])
            #expect(try await back.data("chat.ack")["duplicate"] as? Bool == true)
            let all = try await env.runtime.chat.store.messages(conversationId: conversationId)
            #expect(all.filter { $0.clientMessageId == "m-1" }.count == 1)
            await back.close()
            await agent.close()
        }
    }

    @Test("identify: a correct HMAC links the visitor to the site user; a forged one is refused")
    func identity() async throws {
        let secret = "s3cret-for-tests-at-least-32-bytes-long"
        let env = try TestEnvironment(flags: ["chat.identity_secret": secret])
        try await env.withChatServer { _, port in
            let (visitor, welcome) = try await Chat.visitor(port)
            let anonymous = welcome["visitorId"] as! String
            #expect(anonymous.hasPrefix("v_"))
            try await visitor.send("chat.send", ["clientMessageId": "m-1", "text": "hi"])
            let conversationId = Chat.id(Chat.conversation(try await visitor.data("chat.ack")))

            try await visitor.send("identify", ["userId": "u-42", "email": "ada@example.com", "name": "Ada", "hash": String(repeating: "0", count: 64)])
            #expect(try await visitor.data("error")["code"] as? String == "identity_invalid")
            #expect(try await env.runtime.chat.store.conversation(id: conversationId)?.userId == nil)

            let hash = ChatIdentity.hash(userId: "u-42", secret: secret)
            try await visitor.send("identify", ["userId": "u-42", "email": "ada@example.com", "name": "Ada", "hash": hash])
            let ok = try await visitor.data("identify.ok")
            let identifiedId = ok["visitorId"] as! String
            #expect(identifiedId.hasPrefix("u_"))
            #expect(Chat.id(Chat.conversation(ok)) == conversationId)
            let row = try await env.runtime.chat.store.conversation(id: conversationId)
            #expect(row?.userId == "u-42" && row?.identified == true && row?.visitorEmail == "ada@example.com")

            // The same user on another device sees the same conversation.
            let (other, _) = try await Chat.visitor(port)
            try await other.send("identify", ["userId": "u-42", "hash": hash.uppercased()])
            let otherOK = try await other.data("identify.ok")
            #expect(otherOK["visitorId"] as? String == identifiedId)
            #expect(Chat.id(Chat.conversation(otherOK)) == conversationId)
            // An identified id cannot be claimed in hello without the hash.
            let (thief, thiefWelcome) = try await Chat.visitor(port, visitorId: identifiedId)
            #expect(thiefWelcome["visitorId"] as? String != identifiedId)
            #expect(thiefWelcome["conversation"] is NSNull)
            await thief.close()
            await other.close()
            await visitor.close()
        }
    }

    @Test("offline: with no agent online the visitor is told, leaves an email, and the chat becomes a ticket")
    func offlineFallback() async throws {
        let env = try TestEnvironment()
        try await env.withChatServer { _, port in
            let (visitor, welcome) = try await Chat.visitor(port)
            let availability = welcome["availability"] as? [String: Any]
            #expect(availability?["available"] as? Bool == false)
            #expect(availability?["reason"] as? String == "no_agents")
            try await visitor.send("chat.send", ["clientMessageId": "m-1", "text": "Can I order a cake for Saturday?"])
            let ack = try await visitor.data("chat.ack")
            let conversationId = Chat.id(Chat.conversation(ack))
            #expect(Chat.conversation(ack)["offline"] as? Bool == true)
            let notice = try await visitor.data("chat.message", where: { Chat.message($0)["systemEvent"] as? String == "offline" })
            #expect((Chat.message(notice)["text"] as? String)?.contains("Leave your email") == true)

            try await visitor.send("offline.leave_email", ["conversationId": conversationId, "email": "ada@example.com", "name": "Ada"])
            let ticket = try await visitor.data("offline.ticket")
            let ticketId = (ticket["ticketId"] as? NSNumber)?.int64Value ?? 0
            #expect(ticketId > 0)
            let row = try await env.runtime.database.read { db in
                try Row.fetchOne(db, sql: "SELECT email, source, source_id, description FROM support_tickets WHERE id = ?", arguments: [ticketId])
                    .map { (email: $0["email"] as String?, source: $0["source"] as String?, sourceID: $0["source_id"] as Int64?,
                            description: $0["description"] as String?) }
            }
            #expect(row?.email == "ada@example.com")
            #expect(row?.source == "chat")
            #expect(row?.sourceID == conversationId)
            #expect(row?.description?.contains("Can I order a cake for Saturday?") == true)
            let closed = try await env.runtime.chat.store.conversation(id: conversationId)
            #expect(closed?.status == .closed && closed?.closedBy == .ticket && closed?.ticketId == ticketId)
            // Asking again answers the same ticket.
            try await visitor.send("offline.leave_email", ["conversationId": conversationId, "email": "ada@example.com"])
            #expect((try await visitor.data("offline.ticket")["ticketId"] as? NSNumber)?.int64Value == ticketId)
            await visitor.close()
        }
    }

    @Test("outside business hours visitors are offline even with an agent online")
    func businessHours() async throws {
        // 1_800_000_000 is Friday 2027-01-15 08:00 UTC.
        let clock = TestClock()
        let env = try TestEnvironment(flags: ["chat.business_hours": "mon-fri 09:00-17:00"], now: { clock.date })
        try await env.addUser("ann@example.com")
        try await env.withChatServer { client, port in
            let (agent, _) = try await Chat.agent(env, client, port: port, email: "ann@example.com")
            let (visitor, welcome) = try await Chat.visitor(port)
            #expect((welcome["availability"] as? [String: Any])?["reason"] as? String == "outside_hours")
            clock.advance(seconds: 2 * 3600)
            let (later, laterWelcome) = try await Chat.visitor(port)
            #expect((laterWelcome["availability"] as? [String: Any])?["available"] as? Bool == true)
            await later.close()
            await visitor.close()
            await agent.close()
        }
    }

    @Test("transcript by mail is queued in the outbox")
    func transcript() async throws {
        // Transcripts go only to a verified address: the visitor identifies first.
        let secret = "s3cret-for-tests-at-least-32-bytes-long"
        let env = try TestEnvironment(flags: ["chat.identity_secret": secret])
        try await env.withChatServer { _, port in
            let (visitor, _) = try await Chat.visitor(port)
            try await visitor.send("chat.send", ["clientMessageId": "m-1", "text": "Please mail me this"])
            let conversationId = Chat.id(Chat.conversation(try await visitor.data("chat.ack")))
            try await visitor.send("identify", ["userId": "u-1", "email": "ada@example.com", "hash": ChatIdentity.hash(userId: "u-1", secret: secret)])
            _ = try await visitor.data("identify.ok")
            try await visitor.send("transcript.request", ["conversationId": conversationId, "email": "ada@example.com"])
            let queued = try await visitor.data("transcript.queued")
            #expect(queued["email"] as? String == "ada@example.com")
            let mail = try await env.runtime.database.read { db in
                try Row.fetchOne(db, sql: "SELECT to_address, subject, text_body FROM mail_outbox WHERE kind = 'chat_transcript'")
                    .map { (to: $0["to_address"] as String?, text: $0["text_body"] as String?) }
            }
            #expect(mail?.to == "ada@example.com")
            #expect(mail?.text?.contains("Please mail me this") == true)
            await visitor.close()
        }
    }
}
