import FrontdeskCore
import Foundation
import NIOCore
import Synchronization

/// WebSocket close codes the chat uses (RFC 6455 §7.4.1).
enum ChatCloseCode: UInt16, Sendable {
    case normal = 1000
    case goingAway = 1001
    case unsupportedData = 1003
    case invalidPayload = 1007
    case policyViolation = 1008
    case messageTooBig = 1009
    case internalError = 1011
    case tryAgainLater = 1013
}

/// One chat socket as the hub sees it: who is on it, and a bounded queue of encoded frames that
/// its own writer task drains.
///
/// Why a queue per socket: fan-out must never wait for a slow reader. `enqueue` only appends
/// under this socket's lock; when the queue passes its bound the socket is dropped (1013) instead
/// of buffering without limit.
final class ChatConnection: Sendable, Hashable {
    enum Role: Sendable { case visitor, agent }

    enum Outbound: Sendable {
        case frame(ByteBuffer)
        case close(ChatCloseCode, String)
    }

    /// The signed-in agent behind an agent socket.
    struct AgentIdentity: Sendable {
        let agent: ChatAgent
        let email: String
        let isAdmin: Bool
        let sessionId: String
    }

    struct State {
        var queue: [Outbound] = []
        var queuedBytes = 0
        var waiter: CheckedContinuation<[Outbound]?, Never>?
        /// No more frames are accepted: a close is queued or the socket ended.
        var finished = false
        /// The writer is inside a socket write (so a full queue means the peer stopped reading).
        var writing = false
        /// Conversations being replayed: their live `chat.message` frames wait here, by message id.
        var holds: [Int64: [(Int64, ByteBuffer)]] = [:]
        /// Conversations an agent asked to follow.
        var subscriptions: Set<Int64> = []
        var visitor: ChatVisitor?
        /// The visitor's conversation that is not closed, as far as this socket knows.
        var conversationId: Int64?
        var helloDone = false
        /// When this socket last had a `typing: true` forwarded, per conversation.
        var lastTyping: [Int64: Date] = [:]
        /// Frames refused by the rate limit since the last accepted one.
        var refusedInARow = 0
        /// The reader has stopped (the client left or was closed for a violation).
        var readerDone = false
        /// The writer has written a close frame.
        var closeSent = false
    }

    let id: UInt64
    let role: Role
    /// The client's address (rate limits and logs only; never stored).
    let address: String
    let agentIdentity: AgentIdentity?
    let maxQueuedFrames: Int
    let maxQueuedBytes: Int
    let state = Mutex(State())
    /// Drops the TCP connection at once (for a peer that stopped reading).
    let hardClose: @Sendable () -> Void

    init(id: UInt64, role: Role, address: String, agent: AgentIdentity? = nil, maxQueuedFrames: Int = 256, maxQueuedBytes: Int = 1 << 20,
         hardClose: @escaping @Sendable () -> Void = {}) {
        self.id = id
        self.role = role
        self.address = address
        self.agentIdentity = agent
        self.maxQueuedFrames = maxQueuedFrames
        self.maxQueuedBytes = maxQueuedBytes
        self.hardClose = hardClose
    }

    static func == (a: ChatConnection, b: ChatConnection) -> Bool { a === b }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }

    enum EnqueueResult { case queued, dropped, overflowed }

    /// Queues one encoded frame. `message` names the conversation and message id of a
    /// `chat.message` frame, so a replay in progress can hold it back and drop duplicates.
    @discardableResult
    func enqueue(_ frame: ByteBuffer, message: (conversationId: Int64, messageId: Int64)? = nil) -> EnqueueResult {
        var wake: CheckedContinuation<[Outbound]?, Never>?
        var batch: [Outbound] = []
        var result = EnqueueResult.queued
        var mustHardClose = false
        state.withLock { s in
            guard !s.finished else { result = .dropped; return }
            if let message, s.holds[message.conversationId] != nil {
                s.holds[message.conversationId]!.append((message.messageId, frame))
                return
            }
            if s.queue.count >= maxQueuedFrames || s.queuedBytes + frame.readableBytes > maxQueuedBytes {
                s.finished = true
                s.queue = [.close(.tryAgainLater, "slow consumer")]
                s.queuedBytes = 0
                s.holds = [:]
                mustHardClose = s.writing
                result = .overflowed
            } else {
                s.queue.append(.frame(frame))
                s.queuedBytes += frame.readableBytes
            }
            if let waiter = s.waiter {
                s.waiter = nil
                wake = waiter
                batch = s.queue
                s.queue = []
                s.queuedBytes = 0
                s.writing = true
            }
        }
        wake?.resume(returning: batch)
        if mustHardClose { hardClose() }
        return result
    }

    /// Queues a close frame; nothing is accepted after it.
    func close(_ code: ChatCloseCode, reason: String) {
        var wake: CheckedContinuation<[Outbound]?, Never>?
        var batch: [Outbound] = []
        state.withLock { s in
            guard !s.finished else { return }
            s.finished = true
            s.holds = [:]
            s.queue.append(.close(code, reason))
            if let waiter = s.waiter {
                s.waiter = nil
                wake = waiter
                batch = s.queue
                s.queue = []
                s.queuedBytes = 0
                s.writing = true
            }
        }
        wake?.resume(returning: batch)
    }

    /// Ends the queue: the writer stops once it has written what is queued.
    func finish() {
        let waiter = state.withLock { s -> CheckedContinuation<[Outbound]?, Never>? in
            s.finished = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: nil)
    }

    var isFinished: Bool { state.withLock { $0.finished } }

    /// The next frames to write, all at once; nil when the socket is done.
    func next() async -> [Outbound]? {
        await withCheckedContinuation { (continuation: CheckedContinuation<[Outbound]?, Never>) in
            let immediate: [Outbound]?? = state.withLock { s in
                s.writing = false
                if !s.queue.isEmpty {
                    let batch = s.queue
                    s.queue = []
                    s.queuedBytes = 0
                    s.writing = true
                    return .some(batch)
                }
                if s.finished { return .some(nil) }
                s.waiter = continuation
                return .none
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }

    // MARK: - Replay

    /// Holds back live `chat.message` frames of a conversation while its history is replayed.
    func beginHold(_ conversationId: Int64) {
        state.withLock { s in if s.holds[conversationId] == nil { s.holds[conversationId] = [] } }
    }

    /// Ends the hold: the held frames the replay did not already include (ids above `replayedUpTo`)
    /// are queued in id order, so nothing is lost and nothing is sent twice.
    func endHold(_ conversationId: Int64, replayedUpTo: Int64) {
        let held = state.withLock { s in s.holds.removeValue(forKey: conversationId) ?? [] }
        for (messageId, frame) in held.sorted(by: { $0.0 < $1.0 }) where messageId > replayedUpTo {
            enqueue(frame)
        }
    }

    // MARK: - Per-socket state

    var visitor: ChatVisitor? { state.withLock { $0.visitor } }
    var conversationId: Int64? { state.withLock { $0.conversationId } }

    func isSubscribed(_ conversationId: Int64) -> Bool {
        state.withLock { $0.subscriptions.contains(conversationId) }
    }
}
