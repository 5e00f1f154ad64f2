import Foundation
import FrontdeskCore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOWebSocket
import Testing
@testable import FrontdeskServer
import FrontdeskTestSupport

/// Who may open a chat socket, and what closes one.
@Suite("Chat limits and handshakes")
struct ChatLimitTests {
    @Test("a visitor socket from a foreign Origin is refused at the handshake; site origins and our own are let in")
    func originRejection() async throws {
        let env = try TestEnvironment(flags: ["server.site_origins": "https://www.example.com"])
        try await env.withChatServer { client, port in
            await #expect(throws: (any Error).self) {
                _ = try await ChatTestSocket.connect(port: port, headers: [.origin: "https://evil.example"])
            }
            let (site, _) = try await Chat.visitor(port, origin: "https://www.example.com")
            await site.close()
            let (own, _) = try await Chat.visitor(port, origin: "http://localhost:\(port)")
            await own.close()
            // Plain GETs get the envelope that says why.
            let refused = try await client.executeRequest(uri: "/api/v1/ws", method: .get, headers: [.origin: "https://evil.example"], body: nil)
            #expect(refused.status == .forbidden)
            #expect(refused.envelope?.error.code == "origin_not_allowed")
            let plain = try await client.executeRequest(uri: "/api/v1/ws", method: .get, headers: [:], body: nil)
            #expect(plain.status.code == 426)
            #expect(plain.envelope?.error.code == "upgrade_required")
        }
    }

    @Test("the agent socket needs a console session and the console's own origin")
    func agentSocketAuthentication() async throws {
        let env = try TestEnvironment()
        try await env.addUser("ann@example.com")
        try await env.withChatServer { client, port in
            await #expect(throws: (any Error).self) {
                _ = try await ChatTestSocket.connect(port: port, path: "/api/v1/admin/ws", headers: [.origin: "http://localhost:\(port)"])
            }
            await #expect(throws: (any Error).self) {
                _ = try await ChatTestSocket.connect(port: port, path: "/api/v1/admin/ws",
                                                     headers: [.origin: "http://localhost:\(port)", .cookie: "fd_session=forged"])
            }
            var console = ConsoleClient(client: client)
            #expect(try await console.signIn("ann@example.com") == .ok)
            await #expect(throws: (any Error).self) {
                _ = try await ChatTestSocket.connect(port: port, path: "/api/v1/admin/ws", headers: [.origin: "https://evil.example", .cookie: console.cookie])
            }
            let plain = try await client.executeRequest(uri: "/api/v1/admin/ws", method: .get, headers: [:], body: nil)
            #expect(plain.status == .unauthorized)
            let (agent, welcome) = try await Chat.agent(env, client, port: port, email: "ann@example.com")
            #expect((welcome["agent"] as? [String: Any])?["email"] as? String == "ann@example.com")
            // Ending the user's sessions (sign-out, password change) ends the socket at its next frame.
            env.runtime.state.sessions.destroyAll(forUser: String(try #require(try await env.runtime.accounts.find(email: "ann@example.com")?.id)))
            try await agent.send("ping")
            #expect(await agent.closeCode() == .policyViolation)
        }
    }

    @Test("an oversize message closes with 1009, invalid UTF-8 with 1007, binary with 1003")
    func frameViolations() async throws {
        let env = try TestEnvironment()
        try await env.withChatServer { _, port in
            let (big, _) = try await Chat.visitor(port)
            try await big.sendRaw(#"{"type":"ping","data":{"pad":""# + String(repeating: "x", count: 17_000) + #""}}"#)
            #expect(await big.closeCode() == .messageTooLarge)

            let (bad, _) = try await Chat.visitor(port)
            try await bad.sendBytes(Array(#"{"type":"ping","data":{"x":""#.utf8) + [0xC3, 0x28] + Array(#""}}"#.utf8))
            #expect(await bad.closeCode() == .dataInconsistentWithMessage)

            let (binary, _) = try await Chat.visitor(port)
            try await binary.sendBytes([1, 2, 3], opcode: .binary)
            #expect(await binary.closeCode() == .unacceptableData)

            // A message text over chat.max_text_bytes is an error frame; the socket stays open.
            let (long, _) = try await Chat.visitor(port)
            try await long.send("chat.send", ["clientMessageId": "m-1", "text": String(repeating: "é", count: 2049)])
            let error = try await long.data("error")
            #expect(error["code"] as? String == "validation_failed")
            #expect((error["details"] as? [String: String])?["text"] == "must be at most 4096 bytes")
            try await long.sync()
            await long.close()
        }
    }

    @Test("the first frame must be hello")
    func helloRequired() async throws {
        let env = try TestEnvironment()
        try await env.withChatServer { _, port in
            let socket = try await ChatTestSocket.connect(port: port)
            try await socket.send("chat.send", ["clientMessageId": "m-1", "text": "hi"])
            #expect(try await socket.data("error")["code"] as? String == "hello_required")
            #expect(await socket.closeCode() == .policyViolation)
        }
    }

    @Test("over the frame rate a socket gets rate_limited; one that keeps going is closed with 1008")
    func rateLimit() async throws {
        let clock = TestClock()
        let env = try TestEnvironment(flags: ["chat.rate_burst": "5", "chat.rate_per_minute": "60"], now: { clock.date })
        try await env.withChatServer { _, port in
            let (socket, _) = try await Chat.visitor(port)  // hello is frame 1
            for _ in 0..<4 { try await socket.sync() }        // frames 2-5
            try await socket.send("ping")
            let limited = try await socket.data("error")
            #expect(limited["code"] as? String == "rate_limited")
            #expect((limited["details"] as? [String: String])?["retryAfterSeconds"] != nil)
            clock.advance(seconds: 1.1)
            try await socket.sync()                           // one more allowed after a second
            for _ in 0..<10 { try await socket.send("ping") }
            #expect(await socket.closeCode() == .policyViolation)
        }
    }

    @Test("`--rate-limit off` lifts the frame rate and the socket limit per address")
    func limitsOff() async throws {
        let env = try TestEnvironment(flags: ["chat.rate_burst": "2", "chat.max_sockets_per_address": "2", "rate_limit.enabled": "false"])
        try await env.withChatServer { _, port in
            // Three sockets from one address, over chat.max_sockets_per_address = 2: each is
            // let in and welcomed (with the limit on, the third handshake is refused).
            var sockets: [ChatTestSocket] = []
            for _ in 0..<3 {
                let (socket, welcome) = try await Chat.visitor(port)
                #expect(welcome["visitorId"] is String)
                sockets.append(socket)
            }
            #expect(env.runtime.chat.socketCounts.visitors == 3)
            // hello used the burst of 2 minus one; every frame past the burst is answered, none refused.
            var refs: [String] = []
            for _ in 0..<5 { refs.append(try await sockets[0].send("ping")) }
            for ref in refs {
                let pong = try await sockets[0].next("pong", where: { ($0["ref"] as? String) == ref })
                #expect(pong["ref"] as? String == ref)
            }
            #expect(sockets[0].pending("error").isEmpty, "no rate_limited error frames: \(sockets[0].pending("error"))")
            // All three stay open and answer.
            for socket in sockets { try await socket.sync() }
            #expect(env.runtime.chat.socketCounts.visitors == 3)
            for socket in sockets { await socket.close() }
        }
    }

    @Test("a frame with a key given twice, or nested deeper than 64 levels, gets error bad_frame; the socket stays open")
    func strictFrames() async throws {
        let env = try TestEnvironment()
        try await env.withChatServer { _, port in
            let (socket, welcome) = try await Chat.visitor(port)
            let visitorId = try #require(welcome["visitorId"] as? String)
            try await socket.sendRaw(#"{"v":1,"type":"chat.send","ref":"d1","data":{"clientMessageId":"m-1","text":"a","text":"b"}}"#)
            let duplicate = try await socket.data("error")
            #expect(duplicate["code"] as? String == "bad_frame")
            #expect((duplicate["details"] as? [String: String])?["reason"]?.contains("appears twice") == true)
            let deep = String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
            try await socket.sendRaw(#"{"v":1,"type":"ping","data":{"pad":"# + deep + "}}")
            let tooDeep = try await socket.data("error")
            #expect(tooDeep["code"] as? String == "bad_frame")
            #expect((tooDeep["details"] as? [String: String])?["reason"]?.contains("nested deeper than 64") == true)
            // Nothing was stored, and the socket still answers.
            #expect(try await env.runtime.chat.store.currentConversation(visitorId: visitorId) == nil)
            try await socket.sync()
            try await socket.send("chat.sendd")
            #expect(try await socket.data("error")["code"] as? String == "unknown_type")
            await socket.close()
        }
    }

    @Test("more visitor sockets than chat.max_sockets_per_address from one address are refused")
    func socketsPerAddress() async throws {
        let env = try TestEnvironment(flags: ["chat.max_sockets_per_address": "2"])
        try await env.withChatServer { _, port in
            let (one, _) = try await Chat.visitor(port)
            let (two, _) = try await Chat.visitor(port)
            await #expect(throws: (any Error).self) {
                _ = try await ChatTestSocket.connect(port: port)
            }
            await one.close()
            // A freed slot can be used again (the close is counted once the server saw it).
            var reopened: ChatTestSocket?
            for _ in 0..<50 where reopened == nil {
                reopened = try? await ChatTestSocket.connect(port: port)
                if reopened == nil { try await two.sync() }
            }
            #expect(reopened != nil)
            await reopened?.close()
            await two.close()
        }
    }
}
