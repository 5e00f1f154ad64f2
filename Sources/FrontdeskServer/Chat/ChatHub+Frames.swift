import FrontdeskCore
import Foundation
import Logging
import NIOCore

/// What each client frame does. Every handler runs on the socket's reader task, one frame at a
/// time; answers and fan-out are queued after the database committed.
extension ChatHubService {
    struct Limits: Encodable, Sendable {
        let maxTextBytes: Int
        let maxFrameBytes: Int
        let typingIntervalMs: Int
        let ratePerMinute: Int
        let burst: Int
    }

    static var typingInterval: TimeInterval { 2 }

    func limits(for role: ChatConnection.Role) -> Limits {
        let factor = role == .agent ? 10 : 1
        return Limits(maxTextBytes: settings.maxTextBytes, maxFrameBytes: settings.maxFrameBytes, typingIntervalMs: Int(Self.typingInterval * 1000),
                      ratePerMinute: settings.ratePerMinute * factor, burst: settings.rateBurst * factor)
    }

    /// Checks the per-socket frame rate. Returns nil when allowed, else the seconds to wait;
    /// `close` is true once the client kept sending after being told (10 refused in a row).
    func admitFrame(on socket: ChatConnection) -> (retryAfter: Int, close: Bool)? {
        guard limitsEnabled else { return nil }
        let decision = limiter.check(key: "conn:\(socket.id)", policy: socket.role == .agent ? agentPolicy : visitorPolicy)
        return socket.state.withLock { s in
            if decision.allowed {
                s.refusedInARow = 0
                return nil
            }
            s.refusedInARow += 1
            let retry = max(1, Int((decision.retryAfter ?? .seconds(1)).components.seconds) + 1)
            return (retry, s.refusedInARow >= 10)
        }
    }

    func reply(_ socket: ChatConnection, _ type: String, ref: String?, _ payload: some Encodable & Sendable) {
        send(ChatFrame.encode(type, ref: ref, payload), to: socket)
    }

    func replyError(_ socket: ChatConnection, _ error: FrontdeskError, ref: String?) {
        send(ChatFrame.error(error, ref: ref, now: now()), to: socket)
    }

    // MARK: - Dispatch

    /// Handles one frame from a visitor socket.
    func handleVisitor(_ frame: ChatInboundFrame, on socket: ChatConnection, formGuard: FormGuard? = nil) async throws {
        guard let visitor = socket.visitor else {
            guard frame.kind == .hello else { throw HelloRequired() }
            return try await visitorHello(frame, socket)
        }
        switch frame.kind {
        case .hello: throw FrontdeskError(.badRequest, code: "bad_frame", message: "hello was already sent on this socket.")
        case .identify: try await identify(frame, socket, visitor)
        case .resume: try await resume(frame, socket, actor: .visitor(visitor))
        case .chatSend: try await sendMessage(frame, socket, actor: .visitor(visitor))
        case .chatReceipt: try await receipt(frame, socket, actor: .visitor(visitor))
        case .chatTyping: try await typing(frame, socket, actor: .visitor(visitor))
        case .conversationClose: try await close(frame, socket, actor: .visitor(visitor))
        case .offlineLeaveEmail: try await leaveEmail(frame, socket, visitor, formGuard: formGuard)
        case .transcriptRequest: try await transcript(frame, socket, visitor)
        case .ping: reply(socket, "pong", ref: frame.ref, Pong(time: Timestamps.iso8601Milliseconds(now())))
        case .conversationTake, .conversationTransfer, .conversationSubscribe, .conversationUnsubscribe, .presenceSet, nil:
            throw unknownType(frame.type)
        }
    }

    /// Handles one frame from an agent socket.
    func handleAgent(_ frame: ChatInboundFrame, on socket: ChatConnection) async throws {
        guard let identity = socket.agentIdentity else { return }
        let helloDone = socket.state.withLock { $0.helloDone }
        guard helloDone else {
            guard frame.kind == .hello else { throw HelloRequired() }
            return try await agentHello(frame, socket, identity)
        }
        let actor = ChatActor.agent(identity.agent)
        switch frame.kind {
        case .hello: throw FrontdeskError(.badRequest, code: "bad_frame", message: "hello was already sent on this socket.")
        case .presenceSet:
            guard let status = frame.string("status"), status == "online" || status == "away" else {
                throw FrontdeskError.validation(["status": "must be \"online\" or \"away\""])
            }
            if setAway(identity.agent.id, status == "away") { broadcastPresence(of: identity.agent) }
        case .resume: try await resume(frame, socket, actor: actor)
        case .chatSend: try await sendMessage(frame, socket, actor: actor)
        case .chatReceipt: try await receipt(frame, socket, actor: actor)
        case .chatTyping: try await typing(frame, socket, actor: actor)
        case .conversationClose: try await close(frame, socket, actor: actor)
        case .conversationTake: try await take(frame, socket, identity)
        case .conversationTransfer: try await transfer(frame, socket, identity)
        case .conversationSubscribe, .conversationUnsubscribe:
            let id = try frame.requiredID("conversationId")
            guard let conversation = try await store.conversation(id: id) else { throw FrontdeskError.notFound("Conversation \(id)") }
            let subscribe = frame.kind == .conversationSubscribe
            socket.state.withLock { s in
                if subscribe { s.subscriptions.insert(id) } else { s.subscriptions.remove(id) }
            }
            reply(socket, "conversation.updated", ref: frame.ref, ConversationPayload(reason: subscribe ? "subscribed" : "unsubscribed", conversation: view(conversation)))
        case .ping: reply(socket, "pong", ref: frame.ref, Pong(time: Timestamps.iso8601Milliseconds(now())))
        case .identify, .offlineLeaveEmail, .transcriptRequest, nil: throw unknownType(frame.type)
        }
    }

    struct HelloRequired: Error {}

    func unknownType(_ type: String) -> FrontdeskError {
        FrontdeskError(.badRequest, code: "unknown_type", message: "This socket does not accept frames of type \(type.prefix(64)).")
    }

    struct Pong: Encodable, Sendable { let time: String }

    // MARK: - Hello

    struct VisitorWelcome: Encodable, Sendable {
        let protocolVersion: Int
        let visitorId: String
        let conversation: ChatConversationView?
        let availability: ChatAvailability
        let limits: Limits
        /// `chat.page_url_query_params`: the widget keeps only these in the `pageUrl` of its next hello.
        let pageUrlQueryParams: [String]

        enum CodingKeys: String, CodingKey { case protocolVersion = "protocol", visitorId, conversation, availability, limits, pageUrlQueryParams }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(protocolVersion, forKey: .protocolVersion)
            try c.encode(visitorId, forKey: .visitorId)
            try c.encode(conversation, forKey: .conversation)
            try c.encode(availability, forKey: .availability)
            try c.encode(limits, forKey: .limits)
            try c.encode(pageUrlQueryParams, forKey: .pageUrlQueryParams)
        }
    }

    func visitorHello(_ frame: ChatInboundFrame, _ socket: ChatConnection) async throws {
        var visitorId = frame.string("visitorId") ?? ""
        if !ChatIdentity.isAnonymousVisitorId(visitorId) { visitorId = ChatIdentity.newVisitorId() }
        // Never trust the widget: the fragment and the query parameters the owner did not allow go here too.
        let pageUrl = frame.string("pageUrl").flatMap { ChatPageURL.sanitise($0, allowedQueryParams: settings.pageUrlQueryParams) }
        let visitor = ChatVisitor(id: visitorId, pageUrl: pageUrl)
        let conversation = try await store.currentConversation(visitorId: visitorId)
        socket.state.withLock { s in
            s.visitor = visitor
            s.helloDone = true
            s.conversationId = conversation?.id
        }
        let first = register(visitor: visitorId, socket)
        reply(socket, "welcome", ref: frame.ref, VisitorWelcome(protocolVersion: ChatProtocol.version, visitorId: visitorId,
                                                                conversation: conversation.map(view), availability: availability(),
                                                                limits: limits(for: .visitor), pageUrlQueryParams: settings.pageUrlQueryParams))
        if first, let conversation {
            broadcastVisitorPresence(visitorId: visitorId, conversationId: conversation.id, online: true)
        }
    }

    struct AgentWelcome: Encodable, Sendable {
        struct Me: Encodable, Sendable {
            let id: Int64
            let name: String
            let email: String
            let role: String
            let status: String
        }
        let protocolVersion: Int
        let agent: Me
        let agents: [ChatAgentPresence]
        let conversations: [ChatConversationView]
        let availability: ChatAvailability
        let limits: Limits

        enum CodingKeys: String, CodingKey { case protocolVersion = "protocol", agent, agents, conversations, availability, limits }
    }

    func agentHello(_ frame: ChatInboundFrame, _ socket: ChatConnection, _ identity: ChatConnection.AgentIdentity) async throws {
        let away = frame.string("status") == "away"
        let conversations = try await store.activeConversations(limit: 200)
        socket.state.withLock { $0.helloDone = true }
        let changed = register(agent: socket, away: away)
        let me = AgentWelcome.Me(id: identity.agent.id, name: identity.agent.name, email: identity.email,
                                 role: identity.isAdmin ? "admin" : "agent", status: agentStatus(identity.agent.id))
        reply(socket, "welcome", ref: frame.ref, AgentWelcome(protocolVersion: ChatProtocol.version, agent: me, agents: agentPresences(),
                                                              conversations: conversations.map(view), availability: availability(),
                                                              limits: limits(for: .agent)))
        if changed { broadcastPresence(of: identity.agent) }
    }

    // MARK: - Identify

    struct IdentifyOK: Encodable, Sendable {
        let visitorId: String
        let userId: String
        let email: String?
        let name: String?
        let conversation: ChatConversationView?

        enum CodingKeys: String, CodingKey { case visitorId, userId, email, name, conversation }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(visitorId, forKey: .visitorId)
            try c.encode(userId, forKey: .userId)
            try c.encode(email, forKey: .email)
            try c.encode(name, forKey: .name)
            try c.encode(conversation, forKey: .conversation)
        }
    }

    func identify(_ frame: ChatInboundFrame, _ socket: ChatConnection, _ visitor: ChatVisitor) async throws {
        guard !settings.identitySecret.isEmpty else {
            throw FrontdeskError(.badRequest, code: "identity_not_configured", message: "This site does not identify chat visitors (chat.identity_secret is empty).")
        }
        var reader = FieldReader(frame.data, allowed: ["userId", "email", "name", "hash"])
        let userId = reader.text("userId", required: true, maxLength: 200)
        let email = reader.email("email", required: false)
        let name = reader.text("name", required: false, maxLength: 200)
        let hash = reader.text("hash", required: true, maxLength: 128)
        try reader.validate()
        guard let userId, let hash, ChatIdentity.verify(userId: userId, hash: hash, secret: settings.identitySecret) else {
            logger.notice("chat identify refused: hash does not match", metadata: ["connection": "\(socket.id)"])
            throw FrontdeskError(.forbidden, code: "identity_invalid", message: "The identity hash does not match this user id.")
        }
        let identified = ChatVisitor(id: ChatIdentity.visitorId(forUser: userId, secret: settings.identitySecret), userId: userId,
                                     name: name, email: email, identified: true, pageUrl: visitor.pageUrl)
        let conversation = try await store.identify(from: visitor.id, to: identified)
        if identified.id != visitor.id {
            let wasLast = unregister(visitor: visitor.id, socket)
            _ = register(visitor: identified.id, socket)
            if wasLast, let old = socket.conversationId, old != conversation?.id {
                broadcastVisitorPresence(visitorId: visitor.id, conversationId: old, online: false)
            }
        }
        socket.state.withLock { s in
            s.visitor = identified
            s.conversationId = conversation?.id
        }
        reply(socket, "identify.ok", ref: frame.ref, IdentifyOK(visitorId: identified.id, userId: userId, email: email, name: name,
                                                                conversation: conversation.map(view)))
        if let conversation {
            publishLifecycle(ChatLifecycleResult(conversation: conversation, systemMessage: nil, changed: true), reason: "identified",
                             ref: nil, requester: socket)
        }
    }

    // MARK: - Resume

    struct ResumeDone: Encodable, Sendable {
        let conversationId: Int64
        let replayed: Int
        let lastMessageId: Int64
        /// More history after `lastMessageId`: send `resume` again with it as the cursor.
        let hasMore: Bool
        let conversation: ChatConversationView
        let receipts: ChatReceipts
    }

    /// Messages one `resume` replays at most; the rest comes page by page.
    static var resumePageSize: Int { 200 }

    /// Checks the resume limit of the socket's client (apart from the frame rate).
    func admitResume(on socket: ChatConnection) throws {
        guard limitsEnabled else { return }
        let decision = socket.role == .agent ? limiter.check(key: "conn:\(socket.id)", policy: resumeAgentPolicy)
                                             : limiter.check(key: socket.address, policy: resumeVisitorPolicy)
        if !decision.allowed {
            let retry = max(1, Int((decision.retryAfter ?? .seconds(1)).components.seconds) + 1)
            throw FrontdeskError(.rateLimited, code: "rate_limited", message: "Too many resumes. Try again in \(retry) seconds.",
                                 details: ["retryAfterSeconds": String(retry), "policy": "chat-resume"])
        }
    }

    /// Replays one page (up to 200 messages after `lastMessageId`), then `resume.done` with the
    /// cursor and `hasMore`. Live frames of the conversation are held from the first page until
    /// the last one: a held message the later pages will read anyway is dropped at each page, so
    /// the hold stays small, and at the last page only what committed after its read is sent.
    func resume(_ frame: ChatInboundFrame, _ socket: ChatConnection, actor: ChatActor) async throws {
        let id = try frame.requiredID("conversationId")
        let last = max(0, frame.integer("lastMessageId") ?? 0)
        try admitResume(on: socket)
        guard let conversation = try await store.conversation(id: id) else { throw FrontdeskError.notFound("Conversation \(id)") }
        if case .visitor(let visitor) = actor, conversation.visitorId != visitor.id { throw FrontdeskError.notFound("Conversation \(id)") }
        if case .agent = actor { socket.state.withLock { _ = $0.subscriptions.insert(id) } }
        // Hold live frames first, then read: whatever commits after the read is held, whatever
        // committed before is in the read, and the hold drops what is in both.
        socket.beginHold(id)
        var messages: [ChatMessage]
        let fresh: ChatConversation
        do {
            messages = try await store.messages(conversationId: id, after: last, limit: Self.resumePageSize + 1)
            fresh = try await store.conversation(id: id) ?? conversation
        } catch {
            socket.endHold(id, replayedUpTo: last)
            throw error
        }
        let hasMore = messages.count > Self.resumePageSize
        if hasMore { messages.removeLast(messages.count - Self.resumePageSize) }
        for message in messages {
            send(ChatFrame.encode("chat.message", MessagePayload(message: ChatMessageView(message))), to: socket)
        }
        let upTo = max(last, messages.last?.id ?? 0)
        let own: ChatSender = { if case .visitor = actor { return .visitor } else { return .agent } }()
        if case .visitor = actor, fresh.status != .closed { socket.state.withLock { $0.conversationId = id } }
        reply(socket, "resume.done", ref: frame.ref, ResumeDone(conversationId: id, replayed: messages.count, lastMessageId: upTo, hasMore: hasMore,
                                                                conversation: view(fresh), receipts: fresh.receipts(forMessagesOf: own)))
        if hasMore {
            // Everything held has an id a later page reads from the database.
            socket.dropHeld(id)
        } else {
            socket.endHold(id, replayedUpTo: upTo)
        }
    }

    // MARK: - Messages

    struct Ack: Encodable, Sendable, ChatFastPayload {
        let clientMessageId: String
        let duplicate: Bool
        let message: ChatMessageView
        let conversation: ChatConversationView

        func write(to w: inout ChatJSONWriter) {
            w.key("clientMessageId", first: true); w.string(clientMessageId)
            w.key("duplicate"); w.bool(duplicate)
            w.key("message"); w.raw("{"); message.write(to: &w); w.raw("}")
            w.key("conversation"); w.raw("{"); conversation.write(to: &w); w.raw("}")
        }
    }

    func sendMessage(_ frame: ChatInboundFrame, _ socket: ChatConnection, actor: ChatActor) async throws {
        let (clientMessageId, text) = try ChatStore.validateSend(clientMessageId: frame.string("clientMessageId"), text: frame.string("text"),
                                                                 maxTextBytes: settings.maxTextBytes)
        let conversationId: Int64?
        if case .agent = actor {
            conversationId = try frame.requiredID("conversationId")
        } else {
            conversationId = frame.integer("conversationId")
        }
        let result = try await store.send(ChatSendRequest(actor: actor, conversationId: conversationId, clientMessageId: clientMessageId, text: text,
                                                          availability: availability(), chooseAssignee: { [weak self] in self?.chooseAssignee() }))
        let conversation = result.conversation
        reply(socket, "chat.ack", ref: frame.ref, Ack(clientMessageId: clientMessageId, duplicate: result.duplicate,
                                                      message: ChatMessageView(result.message), conversation: view(conversation)))
        guard !result.duplicate else { return }
        if case .visitor = actor { socket.state.withLock { $0.conversationId = conversation.id } }
        if result.created {
            let created = ChatFrame.encode("conversation.created", ConversationPayload(reason: "created", conversation: view(conversation)))
            for agent in agents.withLock({ $0.sockets }) { send(created, to: agent) }
        }
        deliver(result.message, in: conversation, except: socket)
        for system in result.systemMessages { deliver(system, in: conversation, except: nil) }
        if result.assigned && !result.created {
            publishLifecycle(ChatLifecycleResult(conversation: conversation, systemMessage: nil, changed: true), reason: "assigned",
                             ref: nil, requester: nil)
        }
    }

    struct StatusPayload: Encodable, Sendable {
        let conversationId: Int64
        let status: ChatMessageStatus
        let messageIds: [Int64]
        let upTo: Int64
        let at: String
    }

    func receipt(_ frame: ChatInboundFrame, _ socket: ChatConnection, actor: ChatActor) async throws {
        let id = try frame.requiredID("conversationId")
        let upTo = try frame.requiredID("messageId")
        guard let raw = frame.string("status"), let status = ChatMessageStatus(rawValue: raw), status != .sent else {
            throw FrontdeskError.validation(["status": "must be \"delivered\" or \"read\""])
        }
        let result = try await store.receipt(conversationId: id, by: actor, upTo: upTo, status: status)
        guard !result.messageIds.isEmpty else { return }
        let statusFrame = ChatFrame.encode("chat.status", StatusPayload(conversationId: id, status: status, messageIds: result.messageIds,
                                                                         upTo: result.upTo, at: result.at))
        switch result.sender {
        case .visitor:
            for target in visitorSockets(result.conversation.visitorId) { send(statusFrame, to: target) }
        case .agent, .system:
            for target in agentSockets(seeing: result.conversation) { send(statusFrame, to: target) }
        }
    }

    struct TypingPayload: Encodable, Sendable {
        let conversationId: Int64
        let sender: ChatSender
        let agentId: Int64?
        let name: String?
        let typing: Bool

        enum CodingKeys: String, CodingKey { case conversationId, sender, agentId, name, typing }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(conversationId, forKey: .conversationId)
            try c.encode(sender, forKey: .sender)
            try c.encode(agentId, forKey: .agentId)
            try c.encode(name, forKey: .name)
            try c.encode(typing, forKey: .typing)
        }
    }

    func typing(_ frame: ChatInboundFrame, _ socket: ChatConnection, actor: ChatActor) async throws {
        let id = try frame.requiredID("conversationId")
        guard let typing = frame.bool("typing") else { throw FrontdeskError.validation(["typing": "must be true or false"]) }
        let instant = now()
        if typing {
            let throttled = socket.state.withLock { s -> Bool in
                if let last = s.lastTyping[id], instant.timeIntervalSince(last) < Self.typingInterval { return true }
                s.lastTyping[id] = instant
                return false
            }
            if throttled { return }
        } else {
            socket.state.withLock { _ = $0.lastTyping.removeValue(forKey: id) }
        }
        guard let conversation = try await store.conversation(id: id) else { throw FrontdeskError.notFound("Conversation \(id)") }
        guard conversation.status != .closed else { return }
        switch actor {
        case .visitor(let visitor):
            guard conversation.visitorId == visitor.id else { throw FrontdeskError.notFound("Conversation \(id)") }
            let payload = TypingPayload(conversationId: id, sender: .visitor, agentId: nil, name: visitor.name, typing: typing)
            let encoded = ChatFrame.encode("chat.typing", payload)
            for target in agentSockets(seeing: conversation) { send(encoded, to: target) }
        case .agent(let agent):
            let payload = TypingPayload(conversationId: id, sender: .agent, agentId: agent.id, name: agent.name, typing: typing)
            let encoded = ChatFrame.encode("chat.typing", payload)
            for target in visitorSockets(conversation.visitorId) { send(encoded, to: target) }
            for target in agentSockets(seeing: conversation) where target.agentIdentity?.agent.id != agent.id { send(encoded, to: target) }
        }
    }

    // MARK: - Lifecycle

    func close(_ frame: ChatInboundFrame, _ socket: ChatConnection, actor: ChatActor) async throws {
        let id = try frame.requiredID("conversationId")
        let result: ChatLifecycleResult
        switch actor {
        case .visitor(let visitor):
            result = try await store.close(conversationId: id, by: .visitor, visitorId: visitor.id)
            socket.state.withLock { s in if s.conversationId == id { s.conversationId = nil } }
        case .agent(let agent):
            result = try await store.close(conversationId: id, by: .agent, agent: agent)
        }
        publishLifecycle(result, reason: "closed", ref: frame.ref, requester: socket)
    }

    func take(_ frame: ChatInboundFrame, _ socket: ChatConnection, _ identity: ChatConnection.AgentIdentity) async throws {
        let id = try frame.requiredID("conversationId")
        let rule = ChatAssignmentRule(actorId: identity.agent.id, actorIsAdmin: identity.isAdmin)
        let result = try await store.assign(conversationId: id, to: identity.agent, kind: .take, rule: rule, move: .take(force: frame.bool("force") == true))
        publishLifecycle(result, reason: "assigned", ref: frame.ref, requester: socket)
    }

    func transfer(_ frame: ChatInboundFrame, _ socket: ChatConnection, _ identity: ChatConnection.AgentIdentity) async throws {
        let id = try frame.requiredID("conversationId")
        let targetId = try frame.requiredID("agentId")
        guard let conversation = try await store.conversation(id: id) else { throw FrontdeskError.notFound("Conversation \(id)") }
        let rule = ChatAssignmentRule(actorId: identity.agent.id, actorIsAdmin: identity.isAdmin)
        // Checked first to answer before looking the target up, and again in the write.
        try rule.check(.transfer(to: targetId), on: conversation)
        guard let target = try await agentLookup(targetId) else { throw FrontdeskError.notFound("Agent \(targetId)") }
        let result = try await store.assign(conversationId: id, to: target, kind: .transfer(from: identity.agent), rule: rule, move: .transfer(to: targetId))
        publishLifecycle(result, reason: "transferred", ref: frame.ref, requester: socket)
    }

    // MARK: - Offline fallback and transcripts

    struct OfflineTicket: Encodable, Sendable {
        let conversationId: Int64
        let ticketId: Int64
        let email: String
    }

    /// The offline fallback: the visitor's e-mail turns the chat into a ticket (and the ticket
    /// mail goes to that address). Only while nobody can answer, and with every defence of the
    /// public forms: the `forms` rate limit of the client's address, the form guard (form
    /// `ticket`'s token, proof of work when enabled) and the visitor mail budget.
    func leaveEmail(_ frame: ChatInboundFrame, _ socket: ChatConnection, _ visitor: ChatVisitor, formGuard: FormGuard?) async throws {
        var reader = FieldReader(frame.data, allowed: ["conversationId", "email", "name", "message", FormGuard.tokenField, FormGuard.proofField])
        let email = reader.email("email", required: true)
        let name = reader.text("name", required: false, maxLength: 200)
        var message: String?
        if frame.data["message"] != nil {
            message = reader.text("message", required: false, maxLength: settings.maxTextBytes, multiline: true)
            if let m = message, m.utf8.count > settings.maxTextBytes { reader.fail("message", "must be at most \(settings.maxTextBytes) bytes") }
        }
        let conversationId = frame.integer("conversationId")
        if frame.data["conversationId"] != nil, frame.data["conversationId"] != .null, (conversationId ?? 0) <= 0 {
            reader.fail("conversationId", "must be a positive integer")
        }
        if conversationId == nil && message == nil { reader.fail("message", "is required when there is no conversation yet") }
        try reader.validate()
        guard let tickets else {
            throw FrontdeskError(.unavailable, code: "tickets_unavailable", message: "Support tickets are not available on this server.")
        }
        // Asking again for a conversation that already became a ticket answers that ticket (no new mail).
        if let conversationId, let existing = try await store.conversation(id: conversationId), existing.visitorId == visitor.id,
           existing.status == .closed, let ticketId = existing.ticketId {
            socket.state.withLock { s in if s.conversationId == conversationId { s.conversationId = nil } }
            return reply(socket, "offline.ticket", ref: frame.ref, OfflineTicket(conversationId: conversationId, ticketId: ticketId, email: existing.visitorEmail ?? email!))
        }
        let availability = self.availability()
        guard !availability.available else {
            throw FrontdeskError(.conflict, code: "agents_available",
                                 message: "An agent is online and can answer here; the e-mail fallback is for when nobody can.")
        }
        try admitForm(from: socket)
        if let formGuard {
            var spam: [String: JSONValue] = [:]
            spam[FormGuard.tokenField] = frame.data[FormGuard.tokenField]
            spam[FormGuard.proofField] = frame.data[FormGuard.proofField]
            _ = try formGuard.screen(form: "ticket", spam)
        }
        try spendMailBudget(for: socket)
        let converted = try await store.convertToTicket(visitor: visitor, conversationId: conversationId, email: email!, name: name, message: message,
                                                        availability: availability, sink: tickets)
        logger.info("chat converted to ticket", metadata: ["conversation_id": "\(converted.result.conversation.id)", "ticket_id": "\(converted.ticketId)"])
        socket.state.withLock { s in if s.conversationId == converted.result.conversation.id { s.conversationId = nil } }
        for message in converted.messages { deliver(message, in: converted.result.conversation, except: nil) }
        if converted.result.changed {
            publishLifecycle(converted.result, reason: "ticket", ref: nil, requester: nil)
        }
        reply(socket, "offline.ticket", ref: frame.ref, OfflineTicket(conversationId: converted.result.conversation.id, ticketId: converted.ticketId, email: email!))
    }

    struct TranscriptQueued: Encodable, Sendable {
        let conversationId: Int64
        let email: String
    }

    /// Mails the conversation to the visitor — only to an address verified on this socket: the
    /// e-mail of a visitor identified with a valid `identify` HMAC. Anything else would let any
    /// socket mail its own text to anyone.
    func transcript(_ frame: ChatInboundFrame, _ socket: ChatConnection, _ visitor: ChatVisitor) async throws {
        var reader = FieldReader(frame.data, allowed: ["conversationId", "email"])
        let given = reader.email("email", required: false)
        let id = frame.integer("conversationId") ?? 0
        if id <= 0 { reader.fail("conversationId", frame.data["conversationId"] == nil ? "is required" : "must be a positive integer") }
        try reader.validate()
        guard let transcripts else {
            throw FrontdeskError(.unavailable, code: "mail_unavailable", message: "This server cannot send mail.")
        }
        guard let conversation = try await store.conversation(id: id), conversation.visitorId == visitor.id else {
            throw FrontdeskError.notFound("Conversation \(id)")
        }
        let verified = visitor.identified ? visitor.email : nil
        guard let verified, given == nil || given!.lowercased() == verified.lowercased() else {
            throw FrontdeskError(.forbidden, code: "transcript_address_unverified",
                                 message: "Transcripts go only to the e-mail address of a signed-in visitor (identify); this socket has none, or another one.")
        }
        let email = verified
        if limitsEnabled {
            let decision = limiter.check(key: "conversation:\(id)", policy: transcriptPolicy)
            if !decision.allowed {
                let retry = max(1, Int((decision.retryAfter ?? .seconds(60)).components.seconds) + 1)
                throw FrontdeskError(.rateLimited, code: "rate_limited", message: "Too many transcripts for this conversation. Try again later.",
                                     details: ["retryAfterSeconds": String(retry)])
            }
        }
        try spendMailBudget(for: socket)
        let messages = try await store.messages(conversationId: id)
        let content = try ChatTranscript.mail(templates: transcripts.templates, siteName: transcripts.siteName, conversation: conversation, messages: messages)
        let to = try MailAddress(email, name: visitor.name ?? "", field: "email")
        try await transcripts.outbox.enqueue(OutgoingMail(kind: MailKind(rawValue: "chat_transcript"), to: to, content: content))
        logger.info("chat transcript queued", metadata: ["conversation_id": "\(id)"])
        reply(socket, "transcript.queued", ref: frame.ref, TranscriptQueued(conversationId: id, email: email))
    }
}


extension ChatHubService {
    /// The `forms` class of the client's address, as the public forms' POSTs count it.
    func admitForm(from socket: ChatConnection) throws {
        guard limitsEnabled else { return }
        let decision = limiter.check(key: socket.address, policy: formsPolicy)
        if !decision.allowed {
            let retry = max(1, Int((decision.retryAfter ?? .seconds(1)).components.seconds) + 1)
            throw FrontdeskError(.rateLimited, code: "rate_limited", message: "Too many requests. Try again in \(retry) seconds.",
                                 details: ["retryAfterSeconds": String(retry), "policy": formsPolicy.name])
        }
    }

    /// Pays for one visitor-triggered mail from the client address's daily budget.
    func spendMailBudget(for socket: ChatConnection) throws {
        do {
            try mailBudget.spendOrThrow(for: socket.address)
        } catch {
            logger.notice("visitor mail refused: daily budget spent", metadata: ["connection": "\(socket.id)", "limit": "\(mailBudget.dailyLimit)"])
            throw error
        }
    }
}
