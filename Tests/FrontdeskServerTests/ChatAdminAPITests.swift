import Foundation
import FrontdeskCore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@testable import FrontdeskServer

/// `GET/PATCH /api/v1/admin/chat/conversations…`, and the per-socket queue under it.
@Suite("Chat admin API and socket queue")
struct ChatAdminAPITests {
    @Test("list with filters and paging, read one with its messages, close and reassign (sockets are told)")
    func historyAPI() async throws {
        let env = try TestEnvironment()
        let ann = try await env.addUser("ann@example.com")
        // Bob reassigns Ann's conversation below, which only an admin may.
        let bob = try await env.addUser("bob@example.com", role: .admin)
        try await env.withChatServer { client, port in
            let (agent, _) = try await Chat.agent(env, client, port: port, email: "ann@example.com")
            var conversations: [Int64] = []
            var visitors: [ChatTestSocket] = []
            for index in 0..<3 {
                let (visitor, _) = try await Chat.visitor(port)
                try await visitor.send("chat.send", ["clientMessageId": "m-\(index)", "text": index == 1 ? "about sourdough" : "hello \(index)"])
                conversations.append(Chat.id(Chat.conversation(try await visitor.data("chat.ack"))))
                visitors.append(visitor)
            }
            var console = ConsoleClient(client: client)
            #expect(try await console.signIn("bob@example.com") == .ok)

            let page = try await console.send(.get, "/api/v1/admin/chat/conversations?perPage=2&page=1&sort=-createdAt")
            #expect(page.status == .ok)
            let body = try #require(page.json)
            #expect(body["total"] as? Int == 3)
            #expect(body["perPage"] as? Int == 2)
            #expect((body["items"] as? [[String: Any]])?.map(Chat.id) == [conversations[2], conversations[1]])
            let searched = try await console.send(.get, "/api/v1/admin/chat/conversations?q=sourdough")
            #expect((searched.json?["items"] as? [[String: Any]])?.map(Chat.id) == [conversations[1]])
            let mine = try await console.send(.get, "/api/v1/admin/chat/conversations?assignee=\(ann.id!)&status=assigned")
            #expect(mine.json?["total"] as? Int == 3)
            let bad = try await console.send(.get, "/api/v1/admin/chat/conversations?status=maybe&perPage=500")
            #expect(bad.status == .unprocessableContent)
            #expect(Set(bad.envelope?.error.details.keys.map { $0 } ?? []) == ["status", "perPage"])

            let one = try await console.send(.get, "/api/v1/admin/chat/conversations/\(conversations[1])")
            let detail = try #require(one.json)
            #expect(detail["status"] as? String == "assigned")
            let messages = detail["messages"] as? [[String: Any]] ?? []
            #expect(messages.first?["text"] as? String == "about sourdough")
            #expect(messages.contains { $0["systemEvent"] as? String == "conversation.assigned" })
            #expect(try await console.send(.get, "/api/v1/admin/chat/conversations/999999").status == .notFound)

            // Reassign to Bob: the visitor sees the system message, Ann's socket the update.
            let moved = try await console.send(.patch, "/api/v1/admin/chat/conversations/\(conversations[0])", json: #"{"assigneeId":\#(bob.id!)}"#)
            #expect(moved.status == .ok)
            #expect((moved.json?["assignee"] as? [String: Any]).map(Chat.id) == bob.id!)
            _ = try await visitors[0].data("chat.message", where: { Chat.message($0)["systemEvent"] as? String == "conversation.transferred" })
            _ = try await agent.data("conversation.updated", where: { Chat.id(Chat.conversation($0)) == conversations[0] })

            let closed = try await console.send(.patch, "/api/v1/admin/chat/conversations/\(conversations[0])", json: #"{"status":"closed"}"#)
            #expect(closed.json?["closedBy"] as? String == "agent")
            let told = try await visitors[0].data("conversation.updated", where: { $0["reason"] as? String == "closed" })
            #expect(Chat.conversation(told)["status"] as? String == "closed")
            let late = try await console.send(.patch, "/api/v1/admin/chat/conversations/\(conversations[0])", json: #"{"assigneeId":\#(ann.id!)}"#)
            #expect(late.status == .conflict)
            #expect(late.envelope?.error.code == "conversation_closed")
            let nothing = try await console.send(.patch, "/api/v1/admin/chat/conversations/\(conversations[1])", json: #"{"colour":"red"}"#)
            #expect(nothing.status == .unprocessableContent)
            // Without a session: 401.
            let anonymous = try await client.executeRequest(uri: "/api/v1/admin/chat/conversations", method: .get, headers: [:], body: nil)
            #expect(anonymous.status == .unauthorized)
            for visitor in visitors { await visitor.close() }
            await agent.close()
        }
    }

    /// A transport that records frames and never finishes writing them (a peer that stopped reading).
    final class StalledPeer: @unchecked Sendable {
        let lock = NSLock()
        var written: [String] = []
        var aborted = false
        /// The channel reports itself writable until this many frames are out (then the peer stalls).
        var writableUpTo = 0
        var transport: ChatConnection.Transport {
            ChatConnection.Transport(write: { buffer in self.lock.withLock { self.written.append(String(buffer: buffer)) } },
                                     isWritable: { self.lock.withLock { self.written.count < self.writableUpTo } },
                                     close: { _ in }, abort: { self.lock.withLock { self.aborted = true } })
        }
    }

    @Test("a socket whose peer stops reading is dropped (1013) once its backlog passes the bound")
    func slowConsumer() {
        let peer = StalledPeer()
        peer.writableUpTo = 2
        let frame = ByteBuffer(string: String(repeating: "x", count: 100))
        let socket = ChatConnection(id: 1, role: .visitor, address: "test", maxPendingBytes: 450, transport: peer.transport)
        // Two frames while writable, then four counted against the 450-byte bound.
        for _ in 0..<6 { #expect(socket.enqueue(frame) == .queued) }
        #expect(!peer.aborted)
        #expect(socket.enqueue(frame) == .overflowed)
        #expect(peer.aborted)
        #expect(socket.enqueue(frame) == .dropped)
        #expect(peer.written.count == 6)
    }

    @Test("during a replay live messages are held; afterwards only those the replay did not include are sent, in id order")
    func replayHold() {
        let peer = StalledPeer()
        peer.writableUpTo = .max
        let socket = ChatConnection(id: 1, role: .visitor, address: "test", transport: peer.transport)
        func frame(_ id: Int64) -> ByteBuffer { ByteBuffer(string: "m\(id)") }
        socket.beginHold(7)
        // Live fan-out while the replay reads: 12 committed before the read (so it is in the
        // replay too), 14 and 13 after it (arriving out of order); another conversation passes.
        socket.enqueue(frame(12), message: (7, 12))
        socket.enqueue(frame(14), message: (7, 14))
        socket.enqueue(frame(13), message: (7, 13))
        socket.enqueue(frame(99), message: (8, 99))
        for id: Int64 in [11, 12] { socket.enqueue(frame(id)) }  // the replay itself
        socket.endHold(7, replayedUpTo: 12)
        #expect(peer.written == ["m99", "m11", "m12", "m13", "m14"])
    }
}
