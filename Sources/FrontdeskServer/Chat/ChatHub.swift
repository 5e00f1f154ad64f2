import FrontdeskCore
import FrontdeskState
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The hub of a running server, on the system's clock.
package typealias ChatHub = ChatHubService<ContinuousClock>

/// The live-chat hub: which sockets belong to which visitor and agent, and fan-out. Presence,
/// round-robin assignment and the take/transfer rule are Core's (`ChatAgentRegistry`,
/// `ChatAssignmentRule`); the hub keeps the registry behind a lock, applies the rule, and
/// writes the frames. A `Service`,
/// generic over its clock like the other services: every `sweepInterval` of `clock` it closes
/// idle conversations and agent sockets whose session ended, and on shutdown it drops every
/// socket (1001). Tests drive it on a manual clock without sleeping.
///
/// Fan-out encodes a frame once and appends the same buffer to each recipient's own queue.
/// Visitors live in 16 lock-striped shards keyed by visitor id, so senders in different
/// conversations never contend; agent sockets (a handful) are a snapshot array that writers
/// replace, so readers hold the registry's lock only to take a reference.
package final class ChatHubService<C: Clock>: Service, Sendable where C.Duration == Duration {
    let store: ChatStore
    let settings: ChatSettings
    let limitsEnabled: Bool
    let limiter: RateLimiter
    let logger: Logger
    let now: @Sendable () -> Date
    let sessions: SessionStore
    let tickets: (any ChatTicketSink)?
    /// An active console user by id, as a chat agent: the target of a socket transfer or a
    /// console reassignment.
    let agentLookup: @Sendable (Int64) async throws -> ChatAgent?
    let transcripts: TranscriptMailer?
    let visitorPolicy: RateLimitPolicy
    let agentPolicy: RateLimitPolicy
    let transcriptPolicy = RateLimitPolicy(name: "chat-transcript", limit: 3, period: .seconds(3600), burst: 3)
    /// The public forms' class (`rate_limit.forms_*`), shared by key with the HTTP forms: the
    /// offline e-mail is a form post that happens to arrive over the socket.
    let formsPolicy: RateLimitPolicy
    /// Resumes replay history (a database read each), so they have their own limit, apart
    /// from the frame rate: per client address for visitors, per socket for agents.
    let resumeVisitorPolicy = RateLimitPolicy(name: "chat-resume", limit: 30, period: .seconds(60), burst: 10)
    let resumeAgentPolicy = RateLimitPolicy(name: "chat-resume-agent", limit: 300, period: .seconds(60), burst: 100)
    /// Every mail a visitor can trigger is paid from this per-address daily budget.
    package let mailBudget: VisitorMailBudget
    /// A console user by id, read from SQLite (not the cache): agent sockets re-check their
    /// user on every frame and in the sweep, and `frontdesk user` from another process writes
    /// there without telling this one. Without it only the console session is checked.
    let userLookup: (@Sendable (Int64) async throws -> User?)?
    /// How often the service looks for idle conversations and ended console sessions.
    let sweepInterval: Duration
    /// What the sweep sleeps on.
    let clock: C

    static var shardCount: Int { 16 }
    let visitorShards: [Locked<[String: [ChatConnection]]>]
    let addressShards: [Locked<[String: Int]>]
    let agents = Mutex(ChatAgentRegistry<ChatConnection>())
    let connectionIds = Atomic<UInt64>(0)

    /// Sends a transcript mail in the caller's transaction.
    struct TranscriptMailer: Sendable {
        let outbox: MailOutbox
        let templates: MailTemplates
        let siteName: String
    }

    package init(store: ChatStore, settings: ChatSettings, limitsEnabled: Bool, limiter: RateLimiter, sessions: SessionStore,
                tickets: (any ChatTicketSink)?, agentLookup: @escaping @Sendable (Int64) async throws -> ChatAgent?, outbox: MailOutbox?, templates: MailTemplates?, siteName: String,
                logger: Logger, now: @escaping @Sendable () -> Date, clock: C, sweepInterval: Duration = .seconds(60),
                formsPolicy: RateLimitPolicy = RateLimitPolicy(name: "forms", limit: 10, period: .seconds(60), burst: 5),
                mailBudget: VisitorMailBudget? = nil, userLookup: (@Sendable (Int64) async throws -> User?)? = nil) {
        self.store = store
        self.formsPolicy = formsPolicy
        self.mailBudget = mailBudget ?? VisitorMailBudget(now: now)
        self.userLookup = userLookup
        self.settings = settings
        self.limitsEnabled = limitsEnabled
        self.limiter = limiter
        self.sessions = sessions
        self.tickets = tickets
        self.agentLookup = agentLookup
        self.transcripts = outbox.flatMap { outbox in templates.map { TranscriptMailer(outbox: outbox, templates: $0, siteName: siteName) } }
        self.logger = logger
        self.now = now
        self.sweepInterval = sweepInterval
        self.clock = clock
        visitorPolicy = RateLimitPolicy(name: "chat-visitor", limit: settings.ratePerMinute, period: .seconds(60), burst: settings.rateBurst)
        agentPolicy = RateLimitPolicy(name: "chat-agent", limit: settings.ratePerMinute * 10, period: .seconds(60), burst: settings.rateBurst * 10)
        visitorShards = (0..<Self.shardCount).map { _ in Locked([:]) }
        addressShards = (0..<Self.shardCount).map { _ in Locked([:]) }
    }

    func shard(_ key: String) -> Int {
        var hasher = Hasher()
        hasher.combine(key)
        return Int(UInt(bitPattern: hasher.finalize()) % UInt(Self.shardCount))
    }

    func nextConnectionId() -> UInt64 {
        connectionIds.add(1, ordering: .relaxed).newValue
    }

    // MARK: - Service

    package func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await self.clock.sleep(for: self.sweepInterval)
                await self.sweep()
            }
        }
        closeAll(.goingAway, reason: "server shutting down")
    }

    /// Closes conversations idle for `chat.inactivity_minutes` and agent sockets whose console session ended.
    package func sweep() async {
        do {
            let cutoff = now().addingTimeInterval(-Double(settings.inactivityMinutes) * 60)
            for result in try await store.closeInactive(before: cutoff) where result.changed {
                logger.info("chat conversation closed for inactivity", metadata: ["conversation_id": "\(result.conversation.id)"])
                publishLifecycle(result, reason: "closed", ref: nil, requester: nil)
            }
        } catch {
            logger.error("closing idle chat conversations failed", metadata: ["error": "\(error)"])
        }
        await recheckAgentSockets { _ in true }
    }

    /// Re-checks the agent sockets of one user at once: called when the console disables the
    /// user, changes their role or password, so their live socket closes without waiting for
    /// its next frame or the sweep.
    package func recheckAgents(userId: Int64) async {
        await recheckAgentSockets { $0 == userId }
    }

    private func recheckAgentSockets(of user: (Int64) -> Bool) async {
        for socket in agents.withLock({ $0.sockets }) {
            guard let identity = socket.agentIdentity, user(identity.agent.id) else { continue }
            let session = sessions.sessions(forUser: String(identity.agent.id)).first(where: { $0.id == identity.sessionId })
            let verdict = await standing(of: identity, session: session)
            if verdict != .valid {
                logger.notice("chat agent socket closed: \(verdict.rawValue)", metadata: ["user_id": "\(identity.agent.id)", "code": "1008"])
                socket.close(.policyViolation, reason: verdict.rawValue)
            }
        }
    }

    /// Whether an agent socket still speaks for its user.
    enum AgentStanding: String, Sendable {
        case valid
        /// Signed out, expired, disabled, or the password changed.
        case sessionEnded = "session_ended"
        /// Admin became agent or the reverse: the console reconnects and learns its new role.
        case roleChanged = "role_changed"
    }

    /// Re-checks an agent socket's user with `ConsoleSessionCheck`, the console's own rule.
    /// A database error keeps the socket (it is checked again at the next frame).
    func standing(of identity: ChatConnection.AgentIdentity, session: Session?) async -> AgentStanding {
        guard let session else { return .sessionEnded }
        guard let userLookup else { return .valid }
        let user: User?
        do {
            user = try await userLookup(identity.agent.id)
        } catch {
            logger.error("chat agent re-check failed", metadata: ["user_id": "\(identity.agent.id)", "error": "\(error)"])
            return .valid
        }
        guard let current = ConsoleSessionCheck.validUser(user, for: session) else { return .sessionEnded }
        return (current.role == .admin) == identity.isAdmin ? .valid : .roleChanged
    }

    /// Every socket, visitors and agents.
    func allSockets() -> [ChatConnection] {
        var all = agents.withLock { $0.sockets }
        for shard in visitorShards { shard.withLock { for list in $0.values { all.append(contentsOf: list) } } }
        return all
    }

    func closeAll(_ code: ChatCloseCode, reason: String) {
        for socket in allSockets() { socket.close(code, reason: reason) }
    }

    /// Sockets currently open, by role (for tests and the benchmark).
    package var socketCounts: (visitors: Int, agents: Int) {
        var visitors = 0
        for shard in visitorShards { shard.withLock { for list in $0.values { visitors += list.count } } }
        return (visitors, agents.withLock { $0.sockets.count })
    }

    // MARK: - Addresses

    /// Counts a visitor socket against its address; false when the address is at its limit.
    func admit(address: String) -> Bool {
        addressShards[shard(address)].withLock { counts in
            let current = counts[address, default: 0]
            if limitsEnabled && current >= settings.maxSocketsPerAddress { return false }
            counts[address] = current + 1
            return true
        }
    }

    func isAtSocketLimit(address: String) -> Bool {
        guard limitsEnabled else { return false }
        return addressShards[shard(address)].withLock { $0[address, default: 0] >= settings.maxSocketsPerAddress }
    }

    func release(address: String) {
        addressShards[shard(address)].withLock { counts in
            let next = counts[address, default: 1] - 1
            counts[address] = next > 0 ? next : nil
        }
    }

    // MARK: - Visitors

    /// Adds a visitor socket; true when it is the visitor's first.
    func register(visitor id: String, _ socket: ChatConnection) -> Bool {
        visitorShards[shard(id)].withLock { map in
            let first = map[id]?.isEmpty ?? true
            map[id, default: []].append(socket)
            return first
        }
    }

    /// Removes a visitor socket; true when it was the visitor's last.
    func unregister(visitor id: String, _ socket: ChatConnection) -> Bool {
        visitorShards[shard(id)].withLock { map in
            guard var list = map[id] else { return false }
            list.removeAll { $0 === socket }
            map[id] = list.isEmpty ? nil : list
            return list.isEmpty
        }
    }

    func visitorSockets(_ id: String) -> [ChatConnection] {
        visitorShards[shard(id)].withLock { $0[id] ?? [] }
    }

    func isVisitorOnline(_ id: String) -> Bool {
        visitorShards[shard(id)].withLock { !($0[id]?.isEmpty ?? true) }
    }

    func view(_ conversation: ChatConversation) -> ChatConversationView {
        ChatConversationView(conversation, visitorOnline: isVisitorOnline(conversation.visitorId))
    }

    // MARK: - Agents

    /// Adds an agent socket; returns whether the agent's presence changed.
    func register(agent socket: ChatConnection, away: Bool) -> Bool {
        guard let identity = socket.agentIdentity else { return false }
        return agents.withLock { $0.add(socket, agent: identity.agent, away: away) }
    }

    /// Removes an agent socket; returns whether the agent went offline.
    func unregister(agent socket: ChatConnection) -> Bool {
        guard let identity = socket.agentIdentity else { return false }
        return agents.withLock { $0.remove(socket, agentId: identity.agent.id) }
    }

    /// Sets an agent's presence; returns whether it changed.
    func setAway(_ agentId: Int64, _ away: Bool) -> Bool {
        agents.withLock { $0.setAway(agentId, away) }
    }

    func agentStatus(_ agentId: Int64) -> String {
        agents.withLock { $0.status(of: agentId) }.rawValue
    }

    func agentPresences() -> [ChatAgentPresence] {
        agents.withLock { $0.presences }
    }

    /// The next online agent in round-robin order (the one assigned longest ago), marked as assigned.
    func chooseAssignee() -> ChatAgent? {
        agents.withLock { $0.chooseAssignee() }
    }

    /// Whether visitors can reach an agent now.
    package func availability() -> ChatAvailability {
        let online = agents.withLock { $0.onlineCount }
        if !settings.businessHours.isOpen(at: now(), in: settings.timeZone) {
            return ChatAvailability(available: false, reason: "outside_hours", agentsOnline: online)
        }
        return ChatAvailability(available: online > 0, reason: online > 0 ? nil : "no_agents", agentsOnline: online)
    }

    /// Agent sockets that see a conversation's messages: the assignee's, everyone's while it
    /// waits in the queue, and those subscribed to it.
    func agentSockets(seeing conversation: ChatConversation) -> [ChatConnection] {
        let sockets = agents.withLock { $0.sockets }
        if conversation.status == .open { return sockets }
        return sockets.filter { socket in
            socket.agentIdentity?.agent.id == conversation.assigneeId || socket.isSubscribed(conversation.id)
        }
    }

    // MARK: - Fan-out

    /// Sends a stored message to everyone who sees its conversation, except `except`.
    func deliver(_ message: ChatMessage, in conversation: ChatConversation, except: ChatConnection?) {
        let frame = ChatFrame.encode("chat.message", MessagePayload(message: ChatMessageView(message)))
        let key = (conversation.id, message.id)
        for socket in visitorSockets(conversation.visitorId) where socket !== except {
            send(frame, to: socket, message: key)
        }
        for socket in agentSockets(seeing: conversation) where socket !== except {
            send(frame, to: socket, message: key)
        }
    }

    /// Queues a frame and logs a socket dropped for not reading.
    func send(_ frame: ByteBuffer, to socket: ChatConnection, message: (Int64, Int64)? = nil) {
        if socket.enqueue(frame, message: message) == .overflowed {
            logger.warning("chat socket dropped: slow consumer", metadata: ["connection": "\(socket.id)", "code": "1013"])
        }
    }

    /// Announces a lifecycle change (and its system message) to the visitor and every agent.
    func publishLifecycle(_ result: ChatLifecycleResult, reason: String, ref: String?, requester: ChatConnection?) {
        if let system = result.systemMessage {
            deliver(system, in: result.conversation, except: nil)
        }
        let payload = ConversationPayload(reason: reason, conversation: view(result.conversation))
        let frame = ChatFrame.encode("conversation.updated", payload)
        for socket in visitorSockets(result.conversation.visitorId) where socket !== requester { send(frame, to: socket) }
        for socket in agents.withLock({ $0.sockets }) where socket !== requester { send(frame, to: socket) }
        if let requester {
            send(ChatFrame.encode("conversation.updated", ref: ref, payload), to: requester)
        }
    }

    /// Tells every agent and every visitor about an agent's presence.
    func broadcastPresence(of agent: ChatAgent) {
        let payload = AgentPresencePayload(agentId: agent.id, name: agent.name, status: agentStatus(agent.id), availability: availability())
        broadcast(ChatFrame.encode("presence.agent", payload), to: allSockets())
    }

    /// Sends one frame to many sockets: grouped by event loop, each group written from a single
    /// task on its loop (a write from the socket's own loop goes straight to the kernel). Large
    /// broadcasts log how long the server took to hand the frame to every socket.
    func broadcast(_ frame: ByteBuffer, to sockets: [ChatConnection]) {
        let start = ContinuousClock.now
        var groups: [ObjectIdentifier: (loop: any EventLoop, sockets: [ChatConnection])] = [:]
        var elsewhere: [ChatConnection] = []
        for socket in sockets {
            guard let loop = socket.transport.eventLoop else { elsewhere.append(socket); continue }
            groups[ObjectIdentifier(loop), default: (loop, [])].sockets.append(socket)
        }
        for socket in elsewhere { send(frame, to: socket) }
        let remaining = BroadcastCountdown(groups.count)
        let total = sockets.count
        for (_, group) in groups {
            let members = group.sockets
            group.loop.execute { [self] in
                for socket in members { send(frame, to: socket) }
                if remaining.finishOne(), total >= 1000 {
                    logger.notice("chat broadcast written", metadata: ["sockets": "\(total)",
                                                                       "milliseconds": "\((ContinuousClock.now - start).milliseconds)"])
                }
            }
        }
    }

    /// Tells agents that a visitor with a live conversation came or went.
    func broadcastVisitorPresence(visitorId: String, conversationId: Int64, online: Bool) {
        let frame = ChatFrame.encode("presence.visitor", VisitorPresencePayload(visitorId: visitorId, conversationId: conversationId,
                                                                                 status: online ? "online" : "offline"))
        for socket in agents.withLock({ $0.sockets }) { send(frame, to: socket) }
    }

    // MARK: - Payloads

    struct MessagePayload: Encodable, Sendable, ChatFastPayload {
        let message: ChatMessageView

        func write(to w: inout ChatJSONWriter) {
            w.key("message", first: true); w.raw("{"); message.write(to: &w); w.raw("}")
        }
    }

    struct ConversationPayload: Encodable, Sendable {
        let reason: String
        let conversation: ChatConversationView
    }

    struct AgentPresencePayload: Encodable, Sendable {
        let agentId: Int64
        let name: String
        let status: String
        let availability: ChatAvailability
    }

    struct VisitorPresencePayload: Encodable, Sendable {
        let visitorId: String
        let conversationId: Int64
        let status: String
    }
}

/// One lock stripe: a value behind its own mutex (a class, so stripes can live in an array).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        mutex = Mutex(value)
    }

    func withLock<T>(_ body: (inout sending Value) throws -> sending T) rethrows -> T {
        try mutex.withLock(body)
    }
}

/// Counts the event-loop groups of a broadcast still writing.
final class BroadcastCountdown: Sendable {
    private let left: Atomic<Int>

    init(_ count: Int) {
        left = Atomic(count)
    }

    /// True for the group that finishes last.
    func finishOne() -> Bool {
        left.subtract(1, ordering: .acquiringAndReleasing).newValue == 0
    }
}

extension Duration {
    /// Whole and fractional milliseconds, for logs.
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
