import FrontdeskCore
import FrontdeskState
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import ServiceLifecycle
import Synchronization

/// The request context of the WebSocket router: what the upgrade decided, handed to the socket.
package struct ChatSocketContext: RequestContext, WebSocketRequestContext {
    package var coreContext: CoreRequestContextStorage
    package let webSocket: WebSocketHandlerReference<ChatSocketContext>
    let channel: any Channel
    /// Filled by `shouldUpgrade` (a reference, so the socket handler sees it).
    let upgrade: UpgradeBox

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        channel = source.channel
        upgrade = UpgradeBox()
    }

    final class UpgradeBox: Sendable {
        struct Value: Sendable {
            var address = ""
            var agent: ChatConnection.AgentIdentity?
        }
        let value = Mutex(Value())
    }
}

/// The two chat sockets: `GET /api/v1/ws` (visitors) and `GET /api/v1/admin/ws` (agents).
struct ChatSockets: Sendable {
    let hub: ChatHub
    let sessions: SessionStore
    let users: CachedUsers
    let siteOrigins: Set<String>
    let publicOrigin: String?
    let addresses: ClientAddressResolver
    let maxFrameBytes: Int
    /// The public forms' guard (form token, proof of work), for the offline e-mail.
    var formGuard: FormGuard? = nil

    /// The router the WebSocket upgrade consults.
    func router() -> Router<ChatSocketContext> {
        let router = Router(context: ChatSocketContext.self)
        router.ws("/api/v1/ws", shouldUpgrade: { request, context in
            let address = addresses.resolve(peer: context.channel.remoteAddress?.ipAddress, headers: request.headers).address
            guard isAllowedVisitorOrigin(request) else {
                hub.logger.notice("chat socket refused: origin not allowed", metadata: ["origin": "\(request.headers[.origin] ?? "")"])
                return .dontUpgrade
            }
            guard !hub.isAtSocketLimit(address: address) else {
                hub.logger.notice("chat socket refused: too many sockets from one address", metadata: ["limit": "\(hub.settings.maxSocketsPerAddress)"])
                return .dontUpgrade
            }
            context.upgrade.value.withLock { $0.address = address }
            return .upgrade([:])
        }, onUpgrade: { inbound, outbound, context in
            await run(role: .visitor, inbound: inbound, outbound: outbound, context: context.requestContext)
        })
        router.ws("/api/v1/admin/ws", shouldUpgrade: { request, context in
            guard isConsoleOrigin(request) else {
                hub.logger.notice("agent socket refused: origin not allowed", metadata: ["origin": "\(request.headers[.origin] ?? "")"])
                return .dontUpgrade
            }
            let client = addresses.resolve(peer: context.channel.remoteAddress?.ipAddress, headers: request.headers)
            guard let identity = try await authenticate(request, secure: client.secure) else {
                hub.logger.notice("agent socket refused: not signed in")
                return .dontUpgrade
            }
            context.upgrade.value.withLock { $0.address = client.address; $0.agent = identity }
            return .upgrade([:])
        }, onUpgrade: { inbound, outbound, context in
            await run(role: .agent, inbound: inbound, outbound: outbound, context: context.requestContext)
        })
        return router
    }

    // MARK: - Handshake checks

    /// A browser on one of the configured sites, or on our own origin.
    func isAllowedVisitorOrigin(_ request: Request) -> Bool {
        browserOrigins(request, allow: { origin in siteOrigins.contains(origin) || isSameOrigin(origin, request) })
    }

    /// The console's own origin only.
    func isConsoleOrigin(_ request: Request) -> Bool {
        browserOrigins(request, allow: { origin in isSameOrigin(origin, request) })
    }

    /// Cross-site WebSocket hijacking needs a browser, and a browser always sends an http(s)
    /// Origin (or `null` from a sandboxed frame), so every such value must be allowed. Clients
    /// that are not browsers send none, or one of their own (`ws://…`), and are let through:
    /// they carry no victim's cookies.
    func browserOrigins(_ request: Request, allow: (String) -> Bool) -> Bool {
        for origin in request.headers[values: .origin] {
            let lower = origin.lowercased()
            if lower == "null" { return false }
            if (lower.hasPrefix("http://") || lower.hasPrefix("https://")) && !allow(origin) { return false }
        }
        return true
    }

    func isSameOrigin(_ origin: String, _ request: Request) -> Bool {
        if let publicOrigin, origin == publicOrigin { return true }
        return CORSMiddleware.isSameOrigin(origin, host: request.head.authority)
    }

    /// The console user behind the session cookie, as `AdminSessionMiddleware` decides it.
    func authenticate(_ request: Request, secure: Bool) async throws -> ChatConnection.AgentIdentity? {
        let secure = secure || (publicOrigin?.hasPrefix("https://") ?? false)
        guard let id = AdminSessionMiddleware.sessionID(in: request, secure: secure), let session = sessions.get(id) else { return nil }
        guard let user = ConsoleSessionCheck.validUser(try await users.user(id: ConsoleSessionCheck.userId(of: session) ?? -1), for: session),
              let userId = user.id else { return nil }
        return ChatConnection.AgentIdentity(agent: ChatAgent(id: userId, name: user.name.isEmpty ? user.email : user.name), email: user.email,
                                            isAdmin: user.role == .admin, sessionId: session.id)
    }

    // MARK: - The socket

    /// Runs one socket: registers it, then reads frames until the client leaves or breaks a
    /// rule. Frames to the client are written by whoever sends them, straight into the channel.
    func run(role: ChatConnection.Role, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, context: ChatSocketContext) async {
        let upgrade = context.upgrade.value.withLock { $0 }
        if role == .visitor && !hub.admit(address: upgrade.address) {
            try? await outbound.close(.policyViolation, reason: "too many sockets")
            return
        }
        let channel = context.channel
        let logger = hub.logger
        let transport = ChatConnection.Transport(
            write: { buffer in
                channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, data: buffer), promise: nil)
            },
            isWritable: { channel.isWritable },
            close: { socket in
                // Asked from another task (hello timeout, sweeper, shutdown): send the close
                // frame, and drop the connection if the client does not answer in 5 s.
                Task {
                    if let (code, reason) = socket.takePendingClose() {
                        try? await outbound.close(WebSocketErrorCode(codeNumber: Int(code.rawValue)), reason: reason)
                    }
                }
                channel.eventLoop.scheduleTask(in: .seconds(5)) { channel.close(promise: nil) }
            },
            abort: {
                channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, data: Self.closePayload(.tryAgainLater, "slow consumer")))
                    .whenComplete { _ in channel.close(promise: nil) }
                channel.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
            },
            eventLoop: channel.eventLoop)
        let socket = ChatConnection(id: hub.nextConnectionId(), role: role, address: upgrade.address, agent: upgrade.agent,
                                    maxPendingBytes: role == .agent ? 8 << 20 : 1 << 20, transport: transport)
        // A socket must say hello within 10 seconds (a timer on the event loop, not a task).
        let helloTimer = channel.eventLoop.scheduleTask(in: .seconds(10)) {
            if !socket.state.withLock({ $0.helloDone }) {
                logger.notice("chat socket closed: no hello", metadata: ["connection": "\(socket.id)", "code": "1008"])
                socket.close(.policyViolation, reason: "hello_required")
            }
        }
        await withGracefulShutdownHandler {
            await read(inbound, socket)
        } onGracefulShutdown: {
            socket.close(.goingAway, reason: "server shutting down")
        }
        helloTimer.cancel()
        socket.finish()
        if let (code, reason) = socket.takePendingClose() {
            try? await outbound.close(WebSocketErrorCode(codeNumber: Int(code.rawValue)), reason: reason)
        }
        if role == .visitor {
            hub.release(address: upgrade.address)
            if let visitor = socket.visitor, hub.unregister(visitor: visitor.id, socket), let conversationId = socket.conversationId {
                hub.broadcastVisitorPresence(visitorId: visitor.id, conversationId: conversationId, online: false)
            }
        } else if let identity = socket.agentIdentity, socket.state.withLock({ $0.helloDone }) {
            if hub.unregister(agent: socket) { hub.broadcastPresence(of: identity.agent) }
        }
    }

    /// The payload of a close frame: the code, then the reason.
    static func closePayload(_ code: ChatCloseCode, _ reason: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(code.rawValue)
        buffer.writeString(reason)
        return buffer
    }

    /// Reads messages (collating fragments) and hands each frame to the hub, enforcing the
    /// frame size, UTF-8, the frame rate and the hello rule.
    func read(_ inbound: WebSocketInboundStream, _ socket: ChatConnection) async {
        let logger = hub.logger
        var pending = ByteBuffer()
        var pendingIsText = true
        var collecting = false
        do {
            for try await frame in inbound {
                if socket.isFinished { break }
                switch frame.opcode {
                case .text, .binary:
                    pending.clear()
                    pendingIsText = frame.opcode == .text
                    collecting = true
                case .continuation:
                    guard collecting else { return violation(socket, .policyViolation, "unexpected continuation frame") }
                default:
                    continue
                }
                var data = frame.data
                if pending.readableBytes + data.readableBytes > maxFrameBytes {
                    return violation(socket, .messageTooBig, "message larger than \(maxFrameBytes) bytes")
                }
                pending.writeBuffer(&data)
                guard frame.fin else { continue }
                collecting = false
                guard pendingIsText else { return violation(socket, .unsupportedData, "binary messages are not accepted") }
                let bytes = pending.readableBytesView
                guard String(validating: bytes, as: UTF8.self) != nil else {
                    return violation(socket, .invalidPayload, "text message is not valid UTF-8")
                }
                if let refused = hub.admitFrame(on: socket) {
                    if refused.close { return violation(socket, .policyViolation, "kept sending over the rate limit") }
                    hub.replyError(socket, FrontdeskError(.rateLimited, code: "rate_limited", message: "Too many frames. Slow down.",
                                                          details: ["retryAfterSeconds": String(refused.retryAfter)]), ref: nil)
                    continue
                }
                if await !handle(bytes, socket) { return }
            }
        } catch {
            logger.debug("chat socket read ended", metadata: ["connection": "\(socket.id)", "error": "\(error)"])
        }
    }

    /// Parses and dispatches one frame; false when the socket must close.
    func handle(_ bytes: ByteBufferView, _ socket: ChatConnection) async -> Bool {
        var ref: String?
        do {
            let frame = try ChatInboundFrame.parse(bytes)
            ref = frame.ref
            // Every agent frame re-checks the user behind the socket (from SQLite, so a
            // `frontdesk user disable|passwd` in another process counts at once) and its role.
            if socket.role == .agent, let identity = socket.agentIdentity {
                let standing = await hub.standing(of: identity, session: sessions.get(identity.sessionId))
                if standing != .valid {
                    hub.logger.notice("chat agent socket closed: \(standing.rawValue)", metadata: ["user_id": "\(identity.agent.id)", "code": "1008"])
                    socket.markClose(.policyViolation, reason: standing.rawValue)
                    return false
                }
            }
            if socket.role == .visitor {
                try await hub.handleVisitor(frame, on: socket, formGuard: formGuard)
            } else {
                try await hub.handleAgent(frame, on: socket)
            }
            return true
        } catch is ChatHub.HelloRequired {
            hub.replyError(socket, FrontdeskError(.badRequest, code: "hello_required", message: "The first frame must be hello."), ref: ref)
            violation(socket, .policyViolation, "first frame was not hello")
            return false
        } catch let error as ChatFrameError {
            hub.replyError(socket, error.error, ref: error.ref)
            if error.error.code == "unsupported_version" {
                violation(socket, .policyViolation, "unsupported protocol version")
                return false
            }
            return true
        } catch let error as FrontdeskError {
            hub.replyError(socket, error, ref: ref)
            return true
        } catch {
            hub.logger.error("chat frame failed", metadata: ["connection": "\(socket.id)", "error": "\(error)"])
            hub.replyError(socket, FrontdeskError(.internal, code: "internal_error", message: "The server failed; nothing was stored. Try again."), ref: ref)
            return true
        }
    }

    /// Closes the socket for breaking a protocol rule, and logs it.
    func violation(_ socket: ChatConnection, _ code: ChatCloseCode, _ reason: String) {
        hub.logger.notice("chat socket closed: \(reason)", metadata: ["connection": "\(socket.id)", "code": "\(code.rawValue)",
                                                                      "role": "\(socket.role == .agent ? "agent" : "visitor")"])
        socket.markClose(code, reason: reason)
    }
}
