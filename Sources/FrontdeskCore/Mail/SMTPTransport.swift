import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// Delivers to an SMTP relay (RFC 5321) with SwiftNIO: EHLO, STARTTLS or implicit TLS, AUTH
/// PLAIN/LOGIN, MAIL FROM, RCPT TO, DATA with dot-stuffing, QUIT. One connection per message,
/// which is plenty for a small site's mail and keeps no state between attempts.
///
/// Every step has a timeout, and every failure says which step failed and with what reply:
/// a 4xx reply or a network problem is temporary (`permanent == false`), a 5xx is permanent.
package struct SMTPTransport: MailTransport {
    /// How the connection is protected.
    package enum Security: String, Sendable, CaseIterable {
        /// Plain connect, then upgrade with STARTTLS (port 587). Without STARTTLS on offer the
        /// attempt fails, except to a loopback relay: a man in the middle could strip the offer.
        case startTLS = "starttls"
        /// TLS from the first byte (port 465).
        case implicitTLS = "tls"
        /// No TLS: only for a relay on this machine (127.0.0.1, ::1, localhost).
        case none
    }

    /// Limits on each step, so a stalled server cannot hold a delivery forever.
    package struct Timeouts: Sendable, Equatable {
        package var connect: Duration
        /// Each command's reply, the greeting and the TLS handshake.
        package var command: Duration
        /// Sending the message and waiting for the reply to its final dot.
        package var data: Duration

        package init(connect: Duration = .seconds(15), command: Duration = .seconds(60), data: Duration = .seconds(120)) {
            self.connect = connect
            self.command = command
            self.data = data
        }
    }

    /// Where and how to connect.
    package struct Configuration: Sendable {
        package var host: String
        package var port: Int
        package var security: Security
        /// AUTH is used when set.
        package var username: String?
        package var password: String?
        /// The name we give in EHLO.
        package var heloName: String
        package var timeouts: Timeouts
        /// Certificate checks for STARTTLS and implicit TLS; by default the system's trust roots
        /// and full hostname verification.
        package var tls: TLSConfiguration
        /// Tests only: apply the rules for a remote relay although the test server is on loopback.
        var assumeRemote = false

        /// Whether the relay is on this machine, where clear text is acceptable.
        var isLocalRelay: Bool { !assumeRemote && SMTPTransport.isLoopback(host) }

        package init(host: String, port: Int, security: Security = .startTLS, username: String? = nil, password: String? = nil,
                    heloName: String = SMTPTransport.defaultHeloName(), timeouts: Timeouts = Timeouts(),
                    tls: TLSConfiguration = .makeClientConfiguration()) {
            self.host = host
            self.port = port
            self.security = security
            self.username = username.flatMap { $0.isEmpty ? nil : $0 }
            self.password = password
            self.heloName = heloName
            self.timeouts = timeouts
            self.tls = tls
        }
    }

    package let name = "smtp"
    package let configuration: Configuration
    let sslContext: NIOSSLContext?
    let group: any EventLoopGroup

    /// Builds the TLS context once (loading trust roots is not free). Throws when the host is
    /// not loopback and `security` is `.none`, or when the TLS configuration is unusable.
    package init(configuration: Configuration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        if configuration.security == .none && !SMTPTransport.isLoopback(configuration.host) {
            throw MailTransportError(step: "configure", message: "smtp_tls = \"none\" is only allowed for a relay on this machine, not \(configuration.host)",
                                     permanent: true)
        }
        self.configuration = configuration
        self.sslContext = configuration.security == .none ? nil : try NIOSSLContext(configuration: configuration.tls)
        self.group = group
    }

    package func send(_ message: RenderedMail) async throws {
        let session = try await SMTPSession.connect(configuration: configuration, sslContext: sslContext, group: group)
        do {
            try await session.deliver(message)
        } catch {
            await session.close()
            throw error
        }
        await session.close()
    }

    /// The host name for EHLO: this machine's name if it is a plausible DNS name, else `localhost`.
    package static func defaultHeloName() -> String {
        let host = ProcessInfo.processInfo.hostName
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
        guard !host.isEmpty, host.count <= 253, host.unicodeScalars.allSatisfy({ allowed.contains($0) }) else { return "localhost" }
        return host
    }

    /// Whether `host` names this machine: `localhost`, 127.0.0.0/8 or ::1.
    package static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if bare == "localhost" || bare == "::1" || bare.hasSuffix(".localhost") { return true }
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// Whether `host` is an IP literal (no SNI may be sent for it).
    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: 0)) != nil
    }

    /// Dot-stuffs a message for DATA (RFC 5321 §4.5.2) and terminates it: every line that
    /// starts with "." gets another, bare LFs become CRLF, and `.\r\n` ends it.
    package static func dotStuffed(_ data: String) -> String {
        let normalized = data.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var lines = normalized.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            line.hasPrefix(".") ? "." + line : String(line)
        }
        if lines.last == "" { lines.removeLast() }
        return lines.map { $0 + "\r\n" }.joined() + ".\r\n"
    }
}

/// One SMTP reply: a three-digit code and its text lines.
struct SMTPReply: Sendable, Equatable {
    var code: Int
    var lines: [String]
    var text: String { lines.joined(separator: " ") }
    var isPositive: Bool { (200..<400).contains(code) }
}

/// One connection to the relay; lives for one message.
final class SMTPSession: Sendable {
    let channel: any Channel
    let reader: NIOLoopBound<SMTPReplyReader>
    let configuration: SMTPTransport.Configuration
    let sslContext: NIOSSLContext?

    private init(channel: any Channel, reader: NIOLoopBound<SMTPReplyReader>, configuration: SMTPTransport.Configuration, sslContext: NIOSSLContext?) {
        self.channel = channel
        self.reader = reader
        self.configuration = configuration
        self.sslContext = sslContext
    }

    /// Opens the TCP connection (and, for implicit TLS, starts the handshake).
    static func connect(configuration: SMTPTransport.Configuration, sslContext: NIOSSLContext?, group: any EventLoopGroup) async throws -> SMTPSession {
        let implicitTLS = configuration.security == .implicitTLS
        let serverName = SMTPTransport.isIPAddress(configuration.host) ? nil : configuration.host
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.nanoseconds(Int64(configuration.timeouts.connect.nanoseconds)))
            .channelInitializer { channel in
                do {
                    if implicitTLS, let sslContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                    }
                    try channel.pipeline.syncOperations.addHandler(SMTPReplyReader(), name: SMTPReplyReader.handlerName)
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            throw MailTransportError(step: "connect", message: "\(configuration.host):\(configuration.port): \(error)", permanent: false)
        }
        let reader = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: SMTPReplyReader.self), eventLoop: channel.eventLoop)
        }.get()
        return SMTPSession(channel: channel, reader: reader, configuration: configuration, sslContext: sslContext)
    }

    /// The whole conversation for one message, from greeting to QUIT.
    func deliver(_ message: RenderedMail) async throws {
        let timeouts = configuration.timeouts
        var encrypted = false
        if configuration.security == .implicitTLS {
            try await waitForHandshake()
            encrypted = true
        }
        try await expect(step: "greeting", codes: [220], reply: try await readReply(step: "greeting", timeout: timeouts.command))
        var capabilities = try await hello()
        if configuration.security == .startTLS {
            if capabilities["STARTTLS"] != nil {
                try await expect(step: "STARTTLS", codes: [220], reply: try await command("STARTTLS", step: "STARTTLS"))
                try await startTLS()
                encrypted = true
                // RFC 3207 §4.2: forget what was learned before TLS and ask again.
                capabilities = try await hello()
            } else if !configuration.isLocalRelay {
                throw MailTransportError(step: "STARTTLS", message: "\(configuration.host) does not offer STARTTLS; refusing to send in clear text (use smtp_tls = \"tls\" for port 465)",
                                         permanent: false)
            }
        }
        if let username = configuration.username {
            guard encrypted || configuration.isLocalRelay else {
                throw MailTransportError(step: "AUTH", message: "refusing to send credentials over an unencrypted connection", permanent: false)
            }
            try await authenticate(username: username, password: configuration.password ?? "", capabilities: capabilities)
        }
        try await expect(step: "MAIL FROM", codes: [250], reply: try await command("MAIL FROM:<\(try safe(message.envelopeFrom))>", step: "MAIL FROM"))
        for recipient in message.recipients {
            try await expect(step: "RCPT TO", codes: [250, 251], reply: try await command("RCPT TO:<\(try safe(recipient))>", step: "RCPT TO"))
        }
        try await expect(step: "DATA", codes: [354], reply: try await command("DATA", step: "DATA"))
        try await write(SMTPTransport.dotStuffed(message.data), step: "message", timeout: timeouts.data)
        try await expect(step: "end of data", codes: [250], reply: try await readReply(step: "end of data", timeout: timeouts.data))
        // The message is accepted; a failing QUIT changes nothing.
        _ = try? await command("QUIT", step: "QUIT")
    }

    /// EHLO (falling back to HELO for a pre-ESMTP server); returns the capabilities by keyword.
    func hello() async throws -> [String: [String]] {
        let ehlo = try await command("EHLO \(configuration.heloName)", step: "EHLO")
        if ehlo.code == 250 {
            var capabilities: [String: [String]] = [:]
            for line in ehlo.lines.dropFirst() {
                // "AUTH=PLAIN LOGIN" is an old spelling some servers still send.
                let words = line.replacingOccurrences(of: "=", with: " ").split(separator: " ").map(String.init)
                guard let keyword = words.first?.uppercased() else { continue }
                capabilities[keyword, default: []] += words.dropFirst().map { $0.uppercased() }
            }
            return capabilities
        }
        if (500...502).contains(ehlo.code) {
            try await expect(step: "HELO", codes: [250], reply: try await command("HELO \(configuration.heloName)", step: "HELO"))
            return [:]
        }
        try await expect(step: "EHLO", codes: [250], reply: ehlo)
        return [:]
    }

    /// AUTH PLAIN when offered, else AUTH LOGIN (RFC 4954, RFC 4616).
    func authenticate(username: String, password: String, capabilities: [String: [String]]) async throws {
        let mechanisms = capabilities["AUTH"] ?? []
        if mechanisms.contains("PLAIN") {
            let token = Data(([0] + Array(username.utf8) + [0] + Array(password.utf8))).base64EncodedString()
            try await expect(step: "AUTH", codes: [235], reply: try await command("AUTH PLAIN \(token)", step: "AUTH"))
        } else if mechanisms.contains("LOGIN") {
            try await expect(step: "AUTH", codes: [334], reply: try await command("AUTH LOGIN", step: "AUTH"))
            try await expect(step: "AUTH", codes: [334], reply: try await command(Data(username.utf8).base64EncodedString(), step: "AUTH"))
            try await expect(step: "AUTH", codes: [235], reply: try await command(Data(password.utf8).base64EncodedString(), step: "AUTH"))
        } else {
            throw MailTransportError(step: "AUTH", message: "the server offers neither AUTH PLAIN nor AUTH LOGIN (offered: \(mechanisms.joined(separator: " ")))",
                                     permanent: false)
        }
    }

    /// Adds TLS in front of the plain connection after the server's 220 to STARTTLS.
    func startTLS() async throws {
        guard let sslContext else { return }
        let serverName = SMTPTransport.isIPAddress(configuration.host) ? nil : configuration.host
        let reader = self.reader
        let channel = self.channel
        try await channel.eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
            // Bytes after the 220 would have been sent in clear text by someone who is not the
            // TLS peer (the STARTTLS command-injection class of bugs): refuse them.
            guard !reader.value.hasBufferedInput else {
                return channel.eventLoop.makeFailedFuture(MailTransportError(step: "STARTTLS", message: "the server sent data before the TLS handshake", permanent: false))
            }
            do {
                try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: serverName), position: .first)
                return channel.eventLoop.makeSucceededVoidFuture()
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        }.get()
        try await waitForHandshake()
    }

    func waitForHandshake() async throws {
        let reader = self.reader
        try await withDeadline(step: "TLS handshake", timeout: configuration.timeouts.command) {
            try await self.channel.eventLoop.flatSubmit { reader.value.handshake() }.get()
        }
    }

    /// Sends one command line and reads its reply.
    func command(_ line: String, step: String) async throws -> SMTPReply {
        try await write(line + "\r\n", step: step, timeout: configuration.timeouts.command)
        return try await readReply(step: step, timeout: configuration.timeouts.command)
    }

    func write(_ text: String, step: String, timeout: Duration) async throws {
        let channel = self.channel
        try await withDeadline(step: step, timeout: timeout) {
            try await channel.writeAndFlush(channel.allocator.buffer(string: text)).get()
        }
    }

    func readReply(step: String, timeout: Duration) async throws -> SMTPReply {
        let reader = self.reader
        return try await withDeadline(step: step, timeout: timeout) {
            try await self.channel.eventLoop.flatSubmit { reader.value.nextReply() }.get()
        }
    }

    /// Turns an unexpected reply into an error naming the step; 5xx is permanent.
    func expect(step: String, codes: Set<Int>, reply: SMTPReply) async throws {
        guard !codes.contains(reply.code) else { return }
        let text = MailHeaderText.singleLine(reply.text, maxLength: 400)
        throw MailTransportError(step: step, code: reply.code, message: text, permanent: (500..<600).contains(reply.code))
    }

    /// An address for an SMTP command: no spaces, brackets or control characters.
    func safe(_ address: String) throws -> String {
        guard !address.isEmpty, address.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != "<" && $0 != ">" }) else {
            throw MailTransportError(step: "envelope", message: "the address is not safe for an SMTP command", permanent: true)
        }
        return address
    }

    /// Runs `body`; if it takes longer than `timeout` the connection is closed and the error
    /// names the step. Connection and TLS errors are reported as temporary failures of `step`.
    func withDeadline<T: Sendable>(step: String, timeout: Duration, _ body: @Sendable () async throws -> T) async throws -> T {
        let expired = Mutex(false)
        let channel = self.channel
        let scheduled = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.nanoseconds))) {
            expired.withLock { $0 = true }
            channel.close(promise: nil)
        }
        defer { scheduled.cancel() }
        do {
            return try await body()
        } catch let error as MailTransportError {
            throw error
        } catch {
            if expired.withLock({ $0 }) {
                throw MailTransportError(step: step, message: "no answer from \(configuration.host) within \(timeout)", permanent: false)
            }
            throw MailTransportError(step: step, message: SMTPSession.describe(error), permanent: false)
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? SMTPReplyReader.ProtocolError { return error.message }
        if error is ChannelError, case .ioOnClosedChannel = error as! ChannelError { return "the connection was closed" }
        return MailHeaderText.singleLine(String(describing: error), maxLength: 400)
    }

    func close() async {
        try? await channel.close().get()
    }
}

/// Splits the server's bytes into SMTP replies (multi-line ones joined) and hands them out one
/// at a time; also reports the end of a TLS handshake. Lives on the channel's event loop.
final class SMTPReplyReader: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    static let handlerName = "smtp-reply-reader"

    /// The server broke the protocol, or the connection ended.
    struct ProtocolError: Error, Sendable, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    private var buffer = ByteBuffer()
    private var pendingLines: [String] = []
    private var replies: [SMTPReply] = []
    private var failure: (any Error)?
    private var waiter: EventLoopPromise<SMTPReply>?
    private var handshakeDone = false
    private var handshakeWaiter: EventLoopPromise<Void>?
    private var eventLoop: (any EventLoop)?

    /// Lines longer than this, or replies with more lines, end the conversation: a real server
    /// never sends them, and a hostile one must not make us buffer without bound.
    static let maxLineBytes = 4096
    static let maxReplyLines = 200

    var hasBufferedInput: Bool { buffer.readableBytes > 0 || !pendingLines.isEmpty || !replies.isEmpty }

    func handlerAdded(context: ChannelHandlerContext) {
        eventLoop = context.eventLoop
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        buffer.writeBuffer(&bytes)
        parse(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(ProtocolError(message: "the server closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            handshakeDone = true
            handshakeWaiter?.succeed()
            handshakeWaiter = nil
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// The next complete reply, as soon as it has arrived.
    func nextReply() -> EventLoopFuture<SMTPReply> {
        let loop = eventLoop!
        if !replies.isEmpty { return loop.makeSucceededFuture(replies.removeFirst()) }
        if let failure { return loop.makeFailedFuture(failure) }
        let promise = loop.makePromise(of: SMTPReply.self)
        waiter = promise
        return promise.futureResult
    }

    /// Succeeds once the TLS handshake in front of this handler completed.
    func handshake() -> EventLoopFuture<Void> {
        let loop = eventLoop!
        if handshakeDone { return loop.makeSucceededVoidFuture() }
        if let failure { return loop.makeFailedFuture(failure) }
        let promise = loop.makePromise(of: Void.self)
        handshakeWaiter = promise
        return promise.futureResult
    }

    private func parse(context: ChannelHandlerContext) {
        while let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - buffer.readerIndex + 1
            guard length <= Self.maxLineBytes, var utf8 = buffer.readBytes(length: length) else {
                protocolViolation(context: context, "a reply line was too long")
                return
            }
            // Bytes, not Characters: in a Swift String "\r\n" is one Character.
            while utf8.last == UInt8(ascii: "\n") || utf8.last == UInt8(ascii: "\r") { utf8.removeLast() }
            guard utf8.count >= 3, let code = Int(String(decoding: utf8[0..<3], as: UTF8.self)), (200...599).contains(code),
                  utf8.count == 3 || utf8[3] == UInt8(ascii: " ") || utf8[3] == UInt8(ascii: "-") else {
                protocolViolation(context: context, "the server sent a malformed reply line")
                return
            }
            pendingLines.append(utf8.count > 4 ? String(decoding: utf8[4...], as: UTF8.self) : "")
            guard pendingLines.count <= Self.maxReplyLines else {
                protocolViolation(context: context, "a reply had too many lines")
                return
            }
            if utf8.count == 3 || utf8[3] == UInt8(ascii: " ") {
                deliver(SMTPReply(code: code, lines: pendingLines))
                pendingLines = []
            }
        }
        if buffer.readableBytes > Self.maxLineBytes {
            protocolViolation(context: context, "a reply line was too long")
        }
        buffer.discardReadBytes()
    }

    private func deliver(_ reply: SMTPReply) {
        if let waiter {
            self.waiter = nil
            waiter.succeed(reply)
        } else {
            replies.append(reply)
        }
    }

    private func protocolViolation(context: ChannelHandlerContext, _ message: String) {
        fail(ProtocolError(message: message))
        context.close(promise: nil)
    }

    private func fail(_ error: any Error) {
        if failure == nil { failure = error }
        if let waiter {
            self.waiter = nil
            waiter.fail(error)
        }
        if let handshakeWaiter {
            self.handshakeWaiter = nil
            handshakeWaiter.fail(error)
        }
    }
}
