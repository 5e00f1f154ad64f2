import FrontdeskCore
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import Metrics
import NIOCore
import Synchronization

/// What every HTTP connection is held to, shared by all of them: the deadlines of
/// `ConnectionSettings`, the per-address cap, and the counters in `/metrics`.
final class ConnectionGuard: Sendable {
    let settings: ConnectionSettings
    /// `rate_limit.enabled`: `serve --rate-limit off` lifts the per-address cap (load tests).
    let capEnabled: Bool
    /// Connections from these peers are not capped: every client behind a proxy shares its address.
    let trustedProxies: Set<String>
    private let open = Mutex<[String: Int]>([:])
    private let closed: [CloseReason: Counter]
    private let openGauge: Gauge

    /// Why the guard closed a connection; the `reason` label of `frontdesk_http_connections_closed_total`.
    enum CloseReason: String, CaseIterable, Sendable {
        case headerTimeout = "header_timeout"
        case bodyTimeout = "body_timeout"
        case idleTimeout = "idle_timeout"
        case sendTimeout = "send_timeout"
        case perAddressCap = "per_address_cap"
    }

    init(settings: ConnectionSettings, capEnabled: Bool, trustedProxies: Set<String>, metrics: any MetricsFactory) {
        self.settings = settings
        self.capEnabled = capEnabled
        self.trustedProxies = trustedProxies
        var counters: [CloseReason: Counter] = [:]
        for reason in CloseReason.allCases {
            counters[reason] = Counter(label: "frontdesk_http_connections_closed_total", dimensions: [("reason", reason.rawValue)], factory: metrics)
        }
        closed = counters
        openGauge = Gauge(label: "frontdesk_http_connections_open", dimensions: [], factory: metrics)
    }

    /// Counts a new connection; false when its address holds the most it may already.
    func admit(_ key: String) -> Bool {
        let (admitted, total) = open.withLock { open -> (Bool, Int) in
            let current = open[key, default: 0]
            if capEnabled && !trustedProxies.contains(key) && current >= settings.maxConnectionsPerAddress { return (false, 0) }
            open[key] = current + 1
            return (true, open.values.reduce(0, +))
        }
        if admitted { openGauge.record(total) }
        return admitted
    }

    func release(_ key: String) {
        let total = open.withLock { open -> Int in
            if let current = open[key] { open[key] = current > 1 ? current - 1 : nil }
            return open.values.reduce(0, +)
        }
        openGauge.record(total)
    }

    func count(_ reason: CloseReason) { closed[reason]?.increment() }

    /// Open connections of one address, for tests.
    func openConnections(_ key: String) -> Int { open.withLock { $0[key, default: 0] } }

    /// The HTTP/1 server with the WebSocket upgrade, every connection guarded from its first byte.
    ///
    /// Hummingbird adds a server's extra channel handlers only once the first request head has
    /// been read (after the upgrade negotiation), too late to time a slow first head, so the
    /// guard goes in front of the whole pipeline here instead.
    func http1WebSocketUpgrade<Builder: HTTPResponderBuilder & _HB_SendableMetatype>(
        webSocketRouter: Builder, configuration: HTTP1WebSocketUpgradeChannel.Configuration
    ) -> HTTPServerBuilder where Builder.Responder.Context: WebSocketRequestContext {
        let webSocketResponder = webSocketRouter.buildResponder()
        return HTTPServerBuilder { responder in
            GuardedChildChannel(inner: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder,
                                                                    configuration: configuration),
                                guard: self)
        }
    }
}

/// A server child channel with `ConnectionGuardHandler` first in its pipeline.
struct GuardedChildChannel<Inner: ServerChildChannel>: ServerChildChannel {
    let inner: Inner
    let `guard`: ConnectionGuard

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Inner.Value> {
        do {
            try channel.pipeline.syncOperations.addHandler(ConnectionGuardHandler(guard: self.guard), name: "frontdesk-connection-guard")
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return inner.setup(channel: channel, logger: logger)
    }

    func handle(value: Inner.Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

/// Watches one connection's bytes, before any HTTP parsing, and closes it when a phase of a
/// request takes too long:
///
/// - **idle**: no request starts within `idle_timeout_seconds` (also a connection that never
///   sends anything);
/// - **header**: the header block is not complete `header_timeout_seconds` after its first byte
///   (slowloris: a header line every few seconds keeps an idle timer alive, not this one);
/// - **body**: the `Content-Length` bytes (or the chunked body's last chunk) have not arrived
///   `body_timeout_seconds` after the headers (slow POST);
/// - **send**: the socket stays unwritable — the client reads nothing of our answer — for
///   `send_timeout_seconds` (slow read).
///
/// It parses only what these need (the end of the header block, `Content-Length`,
/// `Transfer-Encoding: chunked`); NIO's HTTP decoder after it still parses everything. Once the
/// connection is upgraded to a WebSocket (a `101` goes out) the chat's own ping and limits take
/// over and this handler only passes bytes on.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    enum Phase: Equatable {
        case betweenRequests
        /// Reading a header block; `matched` counts the bytes of `\r\n\r\n` seen at the end so far.
        case head(matched: Int)
        case body(remaining: Int)
        /// A chunked body; `tail` holds its last bytes to find the final `0\r\n\r\n`.
        case chunked
        case upgraded
    }

    private let `guard`: ConnectionGuard
    private var phase: Phase = .betweenRequests
    private var header: [UInt8] = []
    private var chunkTail: [UInt8] = []
    private var deadline: Scheduled<Void>?
    private var sendDeadline: Scheduled<Void>?
    private var key: String?
    private var sawResponseStart = false

    /// Longest header block kept for reading `Content-Length`; NIO's decoder refuses larger heads.
    static let maxHeaderBytes = 80 * 1024

    init(guard: ConnectionGuard) {
        self.guard = `guard`
    }

    func channelActive(context: ChannelHandlerContext) {
        let key = ClientAddress.limitKey(context.remoteAddress?.ipAddress ?? "")
        guard self.guard.admit(key) else {
            self.guard.count(.perAddressCap)
            let body = #"{"error":{"code":"too_many_connections","message":"This address has too many connections open. Close some and try again.","details":{},"timestamp":""}}"#
            var buffer = context.channel.allocator.buffer(capacity: 256)
            buffer.writeString("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(buffer))).whenComplete { _ in context.close(promise: nil) }
            return
        }
        self.key = key
        arm(.idleTimeout, seconds: self.guard.settings.idleTimeoutSeconds, context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        if let key { self.guard.release(key); self.key = nil }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
        if let key { self.guard.release(key); self.key = nil }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if phase != .upgraded {
            let buffer = unwrapInboundIn(data)
            buffer.withUnsafeReadableBytes { consume($0, context: context) }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if phase != .upgraded, case .byteBuffer(let buffer) = unwrapOutboundIn(data) {
            // The first bytes of an answer tell an upgrade: "HTTP/1.1 101 ".
            if buffer.readableBytes >= 13, buffer.getString(at: buffer.readerIndex, length: 13) == "HTTP/1.1 101 " {
                phase = .upgraded
                cancelTimers()
            } else if phase == .betweenRequests {
                // An answer going out is activity: the keep-alive idle time starts after it.
                arm(.idleTimeout, seconds: self.guard.settings.idleTimeoutSeconds, context: context)
            }
        }
        context.write(data, promise: promise)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if phase != .upgraded {
            if context.channel.isWritable {
                sendDeadline?.cancel()
                sendDeadline = nil
            } else if sendDeadline == nil {
                let loop = context.eventLoop.assumeIsolated()
                sendDeadline = loop.scheduleTask(in: .seconds(Int64(self.guard.settings.sendTimeoutSeconds))) { [self] in
                    self.guard.count(.sendTimeout)
                    context.close(promise: nil)
                }
            }
        }
        context.fireChannelWritabilityChanged()
    }

    /// Advances the phase over one read's bytes; a read may end one request and start the next.
    private func consume(_ bytes: UnsafeRawBufferPointer, context: ChannelHandlerContext) {
        var index = 0
        while index < bytes.count {
            switch phase {
            case .upgraded:
                return
            case .betweenRequests:
                header.removeAll(keepingCapacity: true)
                phase = .head(matched: 0)
                arm(.headerTimeout, seconds: self.guard.settings.headerTimeoutSeconds, context: context)
            case .head(var matched):
                let terminator: [UInt8] = [13, 10, 13, 10]
                while index < bytes.count {
                    let byte = bytes[index]
                    index += 1
                    if header.count < Self.maxHeaderBytes { header.append(byte) }
                    if byte == terminator[matched] { matched += 1 } else { matched = byte == 13 ? 1 : 0 }
                    if matched == 4 { break }
                }
                if matched == 4 { headerComplete(context: context) } else { phase = .head(matched: matched) }
            case .body(let remaining):
                let taken = min(remaining, bytes.count - index)
                index += taken
                if remaining - taken == 0 { requestComplete(context: context) } else { phase = .body(remaining: remaining - taken) }
            case .chunked:
                // The last chunk is `0\r\n` and an empty trailer line: the body ends with `\r\n0\r\n\r\n`.
                let end: [UInt8] = Array("\r\n0\r\n\r\n".utf8)
                while index < bytes.count {
                    chunkTail.append(bytes[index])
                    index += 1
                    if chunkTail.count > end.count { chunkTail.removeFirst(chunkTail.count - end.count) }
                    if chunkTail == end { break }
                }
                if chunkTail == end { chunkTail.removeAll(); requestComplete(context: context) }
            }
        }
    }

    /// The header block is in: find how much body follows.
    private func headerComplete(context: ChannelHandlerContext) {
        var contentLength = 0
        var chunked = false
        let text = String(decoding: header, as: UTF8.self)
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true).dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "content-length" { contentLength = Int(value) ?? 0 }
            if name == "transfer-encoding" && value.lowercased().contains("chunked") { chunked = true }
        }
        header.removeAll(keepingCapacity: true)
        if chunked {
            chunkTail = Array("\r\n".utf8)  // a body that is only the last chunk starts with "0\r\n"
            phase = .chunked
            arm(.bodyTimeout, seconds: self.guard.settings.bodyTimeoutSeconds, context: context)
        } else if contentLength > 0 {
            phase = .body(remaining: contentLength)
            arm(.bodyTimeout, seconds: self.guard.settings.bodyTimeoutSeconds, context: context)
        } else {
            requestComplete(context: context)
        }
    }

    private func requestComplete(context: ChannelHandlerContext) {
        phase = .betweenRequests
        arm(.idleTimeout, seconds: self.guard.settings.idleTimeoutSeconds, context: context)
    }

    /// Replaces the running deadline with one for `reason`.
    private func arm(_ reason: ConnectionGuard.CloseReason, seconds: Int, context: ChannelHandlerContext) {
        deadline?.cancel()
        let loop = context.eventLoop.assumeIsolated()
        deadline = loop.scheduleTask(in: .seconds(Int64(seconds))) { [self] in
            guard self.phase != .upgraded else { return }
            self.guard.count(reason)
            context.close(promise: nil)
        }
    }

    private func cancelTimers() {
        deadline?.cancel()
        deadline = nil
        sendDeadline?.cancel()
        sendDeadline = nil
    }
}
