import FrontdeskCore
#if canImport(Glibc)
import Glibc
#endif
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
        case head
        case body(remaining: Int)
        /// A chunked body: ends with the last chunk `0\r\n` and an empty trailer line.
        case chunked
        case upgraded
    }

    private let `guard`: ConnectionGuard
    private var phase: Phase = .betweenRequests
    /// When the current phase began, on the event loop's clock.
    private var phaseStart = NIODeadline.uptimeNanoseconds(0)
    /// Since when the socket has been unwritable (the client reads nothing), if it is.
    private var unwritableSince: NIODeadline?
    /// One check a second per connection instead of a timer per phase: a request moves through
    /// three phases, and scheduling and cancelling a task at each costs more than the request.
    private var ticker: Scheduled<Void>?
    private var key: String?
    private let timeouts: (head: TimeAmount, body: TimeAmount, idle: TimeAmount, send: TimeAmount)

    // The header block's parse state: only what the deadlines need.
    private var terminatorMatched = 0
    private var lineMatchLength = 0
    private var lineMismatch = false
    private var inContentLength = false
    private var inTransferEncoding = false
    private var contentLength = 0
    private var chunkedMatched = 0
    private var isChunked = false
    private var chunkTailMatched = 0
    /// The request being read (or the last one) carries an `Upgrade` header.
    private var upgradeRequested = false
    /// Which header name the current line may still be: 0 content-length, 1 transfer-encoding, 2 upgrade.
    private var lineName = 0

    static let contentLengthName = Array("content-length:".utf8)
    static let transferEncodingName = Array("transfer-encoding:".utf8)
    static let chunkedWord = Array("chunked".utf8)
    static let lastChunk = Array("\r\n0\r\n\r\n".utf8)
    static let headerEnd: [UInt8] = [13, 10, 13, 10]
    static let upgradeName = Array("upgrade:".utf8)
    static let switching = Array("HTTP/1.1 101 ".utf8)
    /// How often each connection's deadlines are checked; a deadline closes within this of its time.
    static let tick = TimeAmount.seconds(1)

    init(guard: ConnectionGuard) {
        self.guard = `guard`
        let settings = `guard`.settings
        timeouts = (.seconds(Int64(settings.headerTimeoutSeconds)), .seconds(Int64(settings.bodyTimeoutSeconds)),
                    .seconds(Int64(settings.idleTimeoutSeconds)), .seconds(Int64(settings.sendTimeoutSeconds)))
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
        phaseStart = context.eventLoop.now
        scheduleCheck(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    /// Stops timing HTTP/1 phases but keeps the connection counted: for a TLS connection that
    /// negotiated HTTP/2, whose binary frames have no header block to time.
    func passThrough() {
        phase = .upgraded
        ticker?.cancel()
        ticker = nil
    }

    private func stop() {
        ticker?.cancel()
        ticker = nil
        if let key { self.guard.release(key); self.key = nil }
    }

    private func scheduleCheck(context: ChannelHandlerContext) {
        ticker = context.eventLoop.assumeIsolated().scheduleTask(in: Self.tick) { [self] in
            self.check(context: context)
        }
    }

    /// Closes the connection when its phase has lasted longer than that phase may.
    private func check(context: ChannelHandlerContext) {
        defer { if ticker != nil && phase != .upgraded { scheduleCheck(context: context) } }
        let now = context.eventLoop.now
        if let since = unwritableSince, now - since >= timeouts.send {
            close(.sendTimeout, context: context)
            return
        }
        let elapsed = now - phaseStart
        switch phase {
        case .upgraded: return
        case .betweenRequests: if elapsed >= timeouts.idle { close(.idleTimeout, context: context) }
        case .head: if elapsed >= timeouts.head { close(.headerTimeout, context: context) }
        case .body, .chunked: if elapsed >= timeouts.body { close(.bodyTimeout, context: context) }
        }
    }

    private func close(_ reason: ConnectionGuard.CloseReason, context: ChannelHandlerContext) {
        self.guard.count(reason)
        ticker?.cancel()
        ticker = nil
        context.close(promise: nil)
    }

    private func enter(_ next: Phase, context: ChannelHandlerContext) {
        phase = next
        phaseStart = context.eventLoop.now
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if phase != .upgraded {
            let buffer = unwrapInboundIn(data)
            buffer.withUnsafeReadableBytes { consume($0, context: context) }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Only a request that asked for an upgrade can be answered "HTTP/1.1 101 ": look at the
        // answer's first bytes then, and leave every other write alone (this runs per write).
        if upgradeRequested, case .byteBuffer(let buffer) = unwrapOutboundIn(data) {
            upgradeRequested = false
            let isSwitch = buffer.withUnsafeReadableBytes { bytes in
                bytes.count >= Self.switching.count && zip(bytes, Self.switching).allSatisfy { $0 == $1 }
            }
            if isSwitch {
                phase = .upgraded
                ticker?.cancel()
                ticker = nil
            }
        }
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        // An answer going out is activity: the keep-alive idle time starts after it.
        if phase == .betweenRequests { phaseStart = context.eventLoop.now }
        context.flush()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            unwritableSince = nil
        } else if unwritableSince == nil {
            unwritableSince = context.eventLoop.now
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
                startHead(context: context)
            case .head:
                // Fast path: a whole header block at the start of this read, read line by line.
                if terminatorMatched == 0 && lineMatchLength == 0 && lineMismatch, let end = fastHeader(bytes, from: index) {
                    index = end
                    headerComplete(context: context)
                    continue
                }
                while index < bytes.count {
                    let byte = bytes[index]
                    index += 1
                    if scanHeader(byte) { headerComplete(context: context); break }
                }
            case .body(let remaining):
                let taken = min(remaining, bytes.count - index)
                index += taken
                if remaining - taken == 0 { enter(.betweenRequests, context: context) } else { phase = .body(remaining: remaining - taken) }
            case .chunked:
                while index < bytes.count {
                    let byte = bytes[index]
                    index += 1
                    if byte == Self.lastChunk[chunkTailMatched] {
                        chunkTailMatched += 1
                    } else {
                        chunkTailMatched = byte == Self.lastChunk[0] ? 1 : 0
                    }
                    if chunkTailMatched == Self.lastChunk.count { break }
                }
                if chunkTailMatched == Self.lastChunk.count { enter(.betweenRequests, context: context) }
            }
        }
    }

    private func startHead(context: ChannelHandlerContext) {
        enter(.head, context: context)
        terminatorMatched = 0
        lineMatchLength = 0
        lineMismatch = true  // the request line is no header
        inContentLength = false
        inTransferEncoding = false
        contentLength = 0
        isChunked = false
        chunkedMatched = 0
        upgradeRequested = false
    }

    /// One byte of a header block; true at the end of the block (`\r\n\r\n`). Reads
    /// `Content-Length` and `Transfer-Encoding: chunked` on the way, without copying the block.
    private func scanHeader(_ byte: UInt8) -> Bool {
        if byte == Self.headerEnd[terminatorMatched] { terminatorMatched += 1 } else { terminatorMatched = byte == 13 ? 1 : 0 }
        if terminatorMatched == 4 { return true }
        if byte == 10 {
            // A new header line starts.
            lineMatchLength = 0
            lineMismatch = false
            inContentLength = false
            inTransferEncoding = false
            return false
        }
        if byte == 13 { return false }
        if inContentLength {
            if byte >= 48 && byte <= 57 && contentLength < 1 << 40 { contentLength = contentLength * 10 + Int(byte - 48) }
            return false
        }
        if inTransferEncoding {
            let lower = byte | 0x20
            chunkedMatched = lower == Self.chunkedWord[chunkedMatched] ? chunkedMatched + 1 : (lower == Self.chunkedWord[0] ? 1 : 0)
            if chunkedMatched == Self.chunkedWord.count { isChunked = true; chunkedMatched = 0 }
            return false
        }
        guard !lineMismatch else { return false }
        let lower = (byte >= 65 && byte <= 90) ? byte | 0x20 : byte
        if lineMatchLength == 0 {
            switch lower {
            case Self.contentLengthName[0]: lineName = 0
            case Self.transferEncodingName[0]: lineName = 1
            case Self.upgradeName[0]: lineName = 2
            default: lineMismatch = true; return false
            }
        }
        let name = lineName == 0 ? Self.contentLengthName : lineName == 1 ? Self.transferEncodingName : Self.upgradeName
        guard lineMatchLength < name.count, lower == name[lineMatchLength] else { lineMismatch = true; return false }
        lineMatchLength += 1
        if lineMatchLength == name.count {
            switch lineName {
            case 0: inContentLength = true; contentLength = 0
            case 1: inTransferEncoding = true; chunkedMatched = 0
            default: upgradeRequested = true; lineMismatch = true
            }
        }
        return false
    }

    /// Reads a header block that lies whole in `bytes` from `start` (the request line first),
    /// jumping from line to line with `memchr`; returns the index after it, or nil when the block
    /// does not end in these bytes (the byte-by-byte scanner then takes over from `start`).
    private func fastHeader(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        var line = start
        var first = true
        while line < bytes.count {
            guard let found = memchr(base + line, 10, bytes.count - line) else { return nil }
            let newline = base.distance(to: UnsafeRawPointer(found))
            var end = newline
            if end > line && bytes[end - 1] == 13 { end -= 1 }
            if end == line && !first { return newline + 1 }  // the empty line ends the block
            if !first { headerLine(bytes, line, end) }
            first = false
            line = newline + 1
        }
        return nil
    }

    /// One header line `bytes[from..<to]`: notes Content-Length, chunked Transfer-Encoding, Upgrade.
    private func headerLine(_ bytes: UnsafeRawBufferPointer, _ from: Int, _ to: Int) {
        let first = bytes[from] | 0x20
        guard first == 99 || first == 116 || first == 117 else { return }  // c, t, u
        func named(_ name: [UInt8]) -> Bool {
            guard to - from >= name.count else { return false }
            for i in 0..<name.count {
                let byte = bytes[from + i]
                if ((byte >= 65 && byte <= 90) ? byte | 0x20 : byte) != name[i] { return false }
            }
            return true
        }
        if named(Self.contentLengthName) {
            var value = 0
            for i in (from + Self.contentLengthName.count)..<to where bytes[i] >= 48 && bytes[i] <= 57 && value < 1 << 40 {
                value = value * 10 + Int(bytes[i] - 48)
            }
            contentLength = value
        } else if named(Self.transferEncodingName) {
            for i in (from + Self.transferEncodingName.count)..<to {
                let lower = bytes[i] | 0x20
                chunkedMatched = lower == Self.chunkedWord[chunkedMatched] ? chunkedMatched + 1 : (lower == Self.chunkedWord[0] ? 1 : 0)
                if chunkedMatched == Self.chunkedWord.count { isChunked = true; chunkedMatched = 0 }
            }
        } else if named(Self.upgradeName) {
            upgradeRequested = true
        }
    }

    /// The header block is in: find how much body follows.
    private func headerComplete(context: ChannelHandlerContext) {
        if isChunked {
            chunkTailMatched = 2  // a body that is only the last chunk starts with "0\r\n"
            enter(.chunked, context: context)
        } else if contentLength > 0 {
            enter(.body(remaining: contentLength), context: context)
        } else {
            enter(.betweenRequests, context: context)
        }
    }
}
