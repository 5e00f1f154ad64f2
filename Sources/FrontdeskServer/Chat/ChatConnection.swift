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

/// One chat socket as the hub sees it: who is on it, and how frames reach it.
///
/// Fan-out writes an encoded frame straight into the socket's NIO channel (no task, no actor hop
/// per recipient). While the channel reports itself unwritable (its backlog is over NIO's 64 KiB
/// high-water mark, so the peer is not keeping up) the bytes written are counted; past
/// `maxPendingBytes` the socket is dropped (1013) instead of buffering without limit. A socket
/// seen writable again starts counting from zero.
final class ChatConnection: Sendable, Hashable {
    enum Role: Sendable { case visitor, agent }

    /// The signed-in agent behind an agent socket.
    struct AgentIdentity: Sendable {
        let agent: ChatAgent
        let email: String
        let isAdmin: Bool
        let sessionId: String
    }

    /// How the connection reaches the network; tests pass recording closures.
    struct Transport: Sendable {
        /// Writes one text frame and flushes it.
        let write: @Sendable (ByteBuffer) -> Void
        /// Whether the socket's outbound buffer is under NIO's high-water mark (64 KiB).
        let isWritable: @Sendable () -> Bool
        /// Starts the close handshake from outside the socket's own task.
        let close: @Sendable (ChatConnection) -> Void
        /// Drops the TCP connection at once.
        let abort: @Sendable () -> Void
        /// The event loop the socket lives on, so a broadcast can write to all of a loop's
        /// sockets from one task on that loop instead of hopping once per socket.
        var eventLoop: (any EventLoop)? = nil
    }

    struct State {
        /// No more frames are accepted: a close was asked for or the socket ended.
        var finished = false
        /// The close frame to send, until someone sends it.
        var pendingClose: (ChatCloseCode, String)?
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
    }

    let id: UInt64
    let role: Role
    /// The client's address (rate limits and logs only; never stored).
    let address: String
    let agentIdentity: AgentIdentity?
    let maxPendingBytes: Int
    let state = Mutex(State())
    /// Bytes written since the channel was last seen writable.
    let pendingBytes = Atomic<Int>(0)
    let transport: Transport

    init(id: UInt64, role: Role, address: String, agent: AgentIdentity? = nil, maxPendingBytes: Int = 1 << 20, transport: Transport) {
        self.id = id
        self.role = role
        self.address = address
        self.agentIdentity = agent
        self.maxPendingBytes = maxPendingBytes
        self.transport = transport
    }

    static func == (a: ChatConnection, b: ChatConnection) -> Bool { a === b }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }

    enum EnqueueResult { case queued, dropped, overflowed }

    /// Live frames held per conversation during a replay at most. A client that stops paging
    /// through a long replay cannot make the server buffer without bound: past this, live frames
    /// go out at once (possibly before older pages, never lost — the pages still read them).
    static let maxHeld = 2000

    /// Sends one encoded frame. `message` names the conversation and message id of a
    /// `chat.message` frame, so a replay in progress can hold it back and drop duplicates.
    @discardableResult
    func enqueue(_ frame: ByteBuffer, message: (conversationId: Int64, messageId: Int64)? = nil) -> EnqueueResult {
        let open = state.withLock { s -> Bool? in
            guard !s.finished else { return nil }
            if let message, let held = s.holds[message.conversationId], held.count < Self.maxHeld {
                s.holds[message.conversationId]!.append((message.messageId, frame))
                return false
            }
            return true
        }
        guard let open else { return .dropped }
        guard open else { return .queued }
        return write(frame)
    }

    private func write(_ frame: ByteBuffer) -> EnqueueResult {
        let size = frame.readableBytes
        if transport.isWritable() {
            pendingBytes.store(0, ordering: .relaxed)
        } else if pendingBytes.add(size, ordering: .relaxed).newValue > maxPendingBytes {
            let first = state.withLock { s -> Bool in
                defer { s.finished = true; s.holds = [:] }
                return !s.finished
            }
            // The peer is not reading, so a close handshake would wait behind the backlog.
            if first { transport.abort() }
            return .overflowed
        }
        transport.write(frame)
        return .queued
    }

    /// Asks to close with `code`; nothing is sent after it. From the socket's reader, use
    /// `markClose` instead (the reader sends the close itself when it returns).
    func close(_ code: ChatCloseCode, reason: String) {
        if markClose(code, reason: reason) { transport.close(self) }
    }

    /// Records the close to send; false when the socket was already closing.
    @discardableResult
    func markClose(_ code: ChatCloseCode, reason: String) -> Bool {
        state.withLock { s in
            guard !s.finished else { return false }
            s.finished = true
            s.holds = [:]
            s.pendingClose = (code, reason)
            return true
        }
    }

    /// The close frame still to send, taken once.
    func takePendingClose() -> (ChatCloseCode, String)? {
        state.withLock { s in
            defer { s.pendingClose = nil }
            return s.pendingClose
        }
    }

    /// The socket ended: nothing more is accepted.
    func finish() {
        state.withLock { $0.finished = true }
    }

    var isFinished: Bool { state.withLock { $0.finished } }

    // MARK: - Replay

    /// Holds back live `chat.message` frames of a conversation while its history is replayed.
    func beginHold(_ conversationId: Int64) {
        state.withLock { s in if s.holds[conversationId] == nil { s.holds[conversationId] = [] } }
    }

    /// Keeps holding, but forgets what was held so far: between pages of a replay every held
    /// message is one a later page reads from the database.
    func dropHeld(_ conversationId: Int64) {
        state.withLock { s in if s.holds[conversationId] != nil { s.holds[conversationId] = [] } }
    }

    /// Ends the hold: the held frames the replay did not already include (ids above `replayedUpTo`)
    /// are sent in id order, so nothing is lost and nothing is sent twice.
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
