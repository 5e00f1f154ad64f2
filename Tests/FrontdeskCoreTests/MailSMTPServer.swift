import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
@testable import FrontdeskCore

/// A small but real SMTP server on 127.0.0.1 for the transport tests: EHLO/HELO, STARTTLS,
/// implicit TLS, AUTH PLAIN and LOGIN, MAIL/RCPT/DATA with dot-unstuffing, scripted 4xx/5xx.
final class TestSMTPServer: Sendable {
    struct Behaviour: Sendable {
        /// The first N `RCPT TO` commands get `451 4.7.1`.
        var temporaryFailures = 0
        /// Every `RCPT TO` gets `550 5.1.1`.
        var rejectRecipients = false
        /// Offer AUTH and require it before MAIL FROM.
        var credentials: (user: String, password: String)?
        var authMechanisms = ["PLAIN", "LOGIN"]
        /// Offer STARTTLS with this context.
        var startTLS: NIOSSLContext?
        /// Speak TLS from the first byte with this context.
        var implicitTLS: NIOSSLContext?
        /// Send a greeting; false makes a server that never answers.
        var greets = true
        /// Send these bytes right after the STARTTLS 220, in clear text (an injection attempt).
        var injectAfterStartTLS: String?
    }

    /// One accepted message.
    struct Received: Sendable {
        var from: String
        var recipients: [String]
        /// After dot-unstuffing, CRLF line ends.
        var data: String
        /// The DATA lines as they came over the wire (still dot-stuffed).
        var wireLines: [String]
        var overTLS: Bool
        var authenticatedAs: String?
    }

    struct State {
        var temporaryFailuresLeft: Int
        var received: [Received] = []
        var commands: [String] = []
        var connections = 0
    }

    let behaviour: Behaviour
    let state: Mutex<State>
    private let channel: Mutex<(any Channel)?>

    var port: Int { channel.withLock { $0?.localAddress?.port ?? 0 } }
    var received: [Received] { state.withLock { $0.received } }
    var commands: [String] { state.withLock { $0.commands } }
    var connections: Int { state.withLock { $0.connections } }

    private init(behaviour: Behaviour) {
        self.behaviour = behaviour
        self.state = Mutex(State(temporaryFailuresLeft: behaviour.temporaryFailures))
        self.channel = Mutex(nil)
    }

    static func start(_ behaviour: Behaviour = Behaviour()) async throws -> TestSMTPServer {
        let server = TestSMTPServer(behaviour: behaviour)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                do {
                    if let implicit = behaviour.implicitTLS {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: implicit))
                    }
                    try channel.pipeline.syncOperations.addHandler(SMTPServerHandler(server: server, tls: behaviour.implicitTLS != nil))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        server.channel.withLock { $0 = channel }
        return server
    }

    func stop() async {
        let channel = self.channel.withLock { $0 }
        try? await channel?.close().get()
    }

    func record(_ command: String) { state.withLock { $0.commands.append(command) } }

    /// Whether this RCPT should get a 451.
    func takeTemporaryFailure() -> Bool {
        state.withLock { state in
            guard state.temporaryFailuresLeft > 0 else { return false }
            state.temporaryFailuresLeft -= 1
            return true
        }
    }
}

/// One SMTP conversation, server side.
final class SMTPServerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Mode { case command, data, loginUser, loginPassword }

    let server: TestSMTPServer
    var tls: Bool
    var buffer = ByteBuffer()
    var mode = Mode.command
    var mailFrom: String?
    var recipients: [String] = []
    var dataLines: [String] = []
    var loginUser = ""
    var authenticatedAs: String?

    init(server: TestSMTPServer, tls: Bool) {
        self.server = server
        self.tls = tls
    }

    func channelActive(context: ChannelHandlerContext) {
        server.state.withLock { $0.connections += 1 }
        if server.behaviour.greets { reply(context, "220 test.local ESMTP ready") }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        buffer.writeBuffer(&bytes)
        while let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            var bytes = buffer.readBytes(length: newline - buffer.readerIndex + 1)!
            while bytes.last == UInt8(ascii: "\n") || bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
            handle(String(decoding: bytes, as: UTF8.self), context: context)
        }
        buffer.discardReadBytes()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func reply(_ context: ChannelHandlerContext, _ lines: String...) {
        reply(context, lines: lines)
    }

    func reply(_ context: ChannelHandlerContext, lines: [String]) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: lines.map { $0 + "\r\n" }.joined())), promise: nil)
    }

    func handle(_ line: String, context: ChannelHandlerContext) {
        switch mode {
        case .data:
            if line == "." {
                let data = dataLines.map { $0.hasPrefix(".") ? String($0.dropFirst()) : $0 }.map { $0 + "\r\n" }.joined()
                let message = TestSMTPServer.Received(from: mailFrom ?? "", recipients: recipients, data: data, wireLines: dataLines,
                                                      overTLS: tls, authenticatedAs: authenticatedAs)
                server.state.withLock { $0.received.append(message) }
                mode = .command
                mailFrom = nil
                recipients = []
                dataLines = []
                reply(context, "250 2.0.0 Ok: queued")
            } else {
                dataLines.append(line)
            }
            return
        case .loginUser:
            loginUser = String(decoding: Data(base64Encoded: line) ?? Data(), as: UTF8.self)
            mode = .loginPassword
            reply(context, "334 UGFzc3dvcmQ6")
            return
        case .loginPassword:
            mode = .command
            let password = String(decoding: Data(base64Encoded: line) ?? Data(), as: UTF8.self)
            server.record("AUTH LOGIN <credentials>")
            finishAuth(user: loginUser, password: password, context: context)
            return
        case .command:
            break
        }
        let verb = line.split(separator: " ").first.map { $0.uppercased() } ?? ""
        server.record(verb == "AUTH" && line.uppercased().hasPrefix("AUTH PLAIN ") ? "AUTH PLAIN <credentials>" : line)
        let behaviour = server.behaviour
        switch verb {
        case "EHLO":
            var lines = ["250-test.local greets you", "250-8BITMIME", "250-SIZE 10485760"]
            if behaviour.startTLS != nil && !tls { lines.append("250-STARTTLS") }
            if behaviour.credentials != nil { lines.append("250-AUTH " + behaviour.authMechanisms.joined(separator: " ")) }
            lines.append("250 SMTPUTF8")
            reply(context, lines: lines)
        case "HELO":
            reply(context, "250 test.local")
        case "STARTTLS":
            guard let sslContext = behaviour.startTLS, !tls else { return reply(context, "502 5.5.1 not here") }
            reply(context, "220 2.0.0 Ready to start TLS")
            if let injected = behaviour.injectAfterStartTLS {
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: injected)), promise: nil)
            }
            // Written above in clear text; everything from here on goes through TLS.
            try? context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext), position: .first)
            tls = true
            authenticatedAs = nil
        case "AUTH":
            let parts = line.split(separator: " ").map(String.init)
            guard behaviour.credentials != nil, parts.count >= 2 else { return reply(context, "503 5.5.1 AUTH not available") }
            switch parts[1].uppercased() {
            case "PLAIN" where parts.count == 3 && behaviour.authMechanisms.contains("PLAIN"):
                let fields = (Data(base64Encoded: parts[2]) ?? Data()).split(separator: 0, omittingEmptySubsequences: false)
                    .map { String(decoding: $0, as: UTF8.self) }
                guard fields.count == 3 else { return reply(context, "501 5.5.2 bad PLAIN response") }
                finishAuth(user: fields[1], password: fields[2], context: context)
            case "LOGIN" where behaviour.authMechanisms.contains("LOGIN"):
                mode = .loginUser
                reply(context, "334 VXNlcm5hbWU6")
            default:
                reply(context, "504 5.5.4 mechanism not supported")
            }
        case "MAIL":
            if behaviour.credentials != nil && authenticatedAs == nil { return reply(context, "530 5.7.0 Authentication required") }
            mailFrom = TestSMTPServer.angle(line)
            reply(context, "250 2.1.0 Ok")
        case "RCPT":
            guard mailFrom != nil else { return reply(context, "503 5.5.1 need MAIL first") }
            if behaviour.rejectRecipients { return reply(context, "550 5.1.1 <\(TestSMTPServer.angle(line))>: Recipient address rejected: no such user") }
            if server.takeTemporaryFailure() { return reply(context, "451 4.7.1 Greylisted, try again later") }
            recipients.append(TestSMTPServer.angle(line))
            reply(context, "250 2.1.5 Ok")
        case "DATA":
            guard !recipients.isEmpty else { return reply(context, "554 5.5.1 no valid recipients") }
            mode = .data
            reply(context, "354 End data with <CR><LF>.<CR><LF>")
        case "RSET":
            mailFrom = nil
            recipients = []
            reply(context, "250 2.0.0 Ok")
        case "NOOP":
            reply(context, "250 2.0.0 Ok")
        case "QUIT":
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(string: "221 2.0.0 Bye\r\n"))).whenComplete { _ in
                channel.close(promise: nil)
            }
        default:
            reply(context, "502 5.5.2 Error: command not recognized")
        }
    }

    func finishAuth(user: String, password: String, context: ChannelHandlerContext) {
        if let credentials = server.behaviour.credentials, credentials.user == user, credentials.password == password {
            authenticatedAs = user
            reply(context, "235 2.7.0 Authentication successful")
        } else {
            reply(context, "535 5.7.8 Error: authentication failed")
        }
    }
}

extension TestSMTPServer {
    /// The address between angle brackets in `MAIL FROM:<a@b>` / `RCPT TO:<a@b>`.
    static func angle(_ line: String) -> String {
        guard let open = line.firstIndex(of: "<"), let close = line.lastIndex(of: ">"), open < close else { return "" }
        return String(line[line.index(after: open)..<close])
    }
}

/// A self-signed certificate for `localhost` / 127.0.0.1, made with the openssl command at test time.
struct TestCertificate {
    let certificatePath: String
    let keyPath: String

    /// nil when no openssl binary is installed (the TLS tests then say so and skip).
    static func make(in dir: TempDirectory) throws -> TestCertificate? {
        let openssl = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let openssl else { return nil }
        let cert = dir.file("cert.pem"), key = dir.file("key.pem")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: openssl)
        process.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                             "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return TestCertificate(certificatePath: cert, keyPath: key)
    }

    func serverContext() throws -> NIOSSLContext {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem)))
        return try NIOSSLContext(configuration: configuration)
    }

    /// A client configuration that trusts this certificate only.
    func clientConfiguration() throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificatePath))
        return configuration
    }
}
