import Foundation
import FrontdeskCore
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP2
import NIOSSL
import NIOTLS
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The TLS context new connections are served with, swapped on SIGHUP.
///
/// Hummingbird's `TLSChannel` and `HTTP2UpgradeChannel` take one `NIOSSLContext` when the server
/// is built; a connection's `NIOSSLServerHandler` only needs one when the connection is accepted,
/// so `TLSListenerChannel` asks this store at that moment. A reload builds the new context before
/// it swaps it in: connections already open keep theirs, new ones get the new certificate, and
/// the listening socket never closes. Files that do not load leave the current context in place.
final class TLSCertificates: Sendable {
    let certificatePath: String
    let keyPath: String
    let http2: Bool
    private let context: Mutex<NIOSSLContext>
    private let logger: Logger

    /// Loads the files named by `server.tls_cert` and `server.tls_key`; throws naming the file.
    init(certificatePath: String, keyPath: String, http2: Bool, logger: Logger) throws {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.http2 = http2
        self.logger = logger
        let identity = try TLSIdentity.load(certificatePath: certificatePath, keyPath: keyPath)
        self.context = Mutex(try NIOSSLContext(configuration: identity.serverConfiguration(http2: http2)))
    }

    /// The context for a connection accepted now.
    var current: NIOSSLContext { context.withLock { $0 } }

    /// Reads both files again and serves new connections with them; on failure logs which file
    /// is wrong and keeps serving the certificate it has. Returns whether the new one is in use.
    @discardableResult
    func reload() -> Bool {
        do {
            let identity = try TLSIdentity.load(certificatePath: certificatePath, keyPath: keyPath)
            let fresh = try NIOSSLContext(configuration: identity.serverConfiguration(http2: http2))
            context.withLock { $0 = fresh }
            logger.info("TLS certificate reloaded", metadata: ["file": "\(certificatePath)", "key_file": "\(keyPath)",
                                                                "serial": "\(identity.chain.first.map { Self.hex($0.serialNumber) } ?? "")"])
            return true
        } catch let error as TLSIdentity.LoadError {
            logger.error("TLS certificate reload failed; still serving the previous certificate",
                         metadata: ["file": "\(error.path)", "setting": "\(error.setting)", "error": "\(error.message)"])
        } catch {
            logger.error("TLS certificate reload failed; still serving the previous certificate",
                         metadata: ["file": "\(certificatePath)", "error": "\(error)"])
        }
        return false
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}

/// Reloads the TLS certificate and key whenever the process gets SIGHUP
/// (`systemctl kill --signal=HUP frontdesk`, or a certificate renewal hook). Without TLS the
/// signal is trapped all the same and only logged, so a reload never stops the server.
struct TLSReloadService: Service {
    let certificates: TLSCertificates?
    let logger: Logger

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups.cancelOnGracefulShutdown() {
            if let certificates {
                certificates.reload()
            } else {
                logger.info("SIGHUP: no TLS certificate to reload (server.tls_cert is not set)")
            }
        }
    }
}

/// One TLS connection: the handshake with the current certificate, then by ALPN either HTTP/2
/// or HTTP/1.1 with the WebSocket upgrade.
///
/// Hummingbird's `HTTP2UpgradeChannel` answers an HTTP/1.1 connection with a plain
/// `HTTP1Channel`, which has no WebSocket upgrade, and `HTTP1WebSocketUpgradeChannel` has no
/// HTTP/2. Both halves are public `ServerChildChannel`s, so this channel negotiates itself and
/// hands the connection to one of them. Browsers open a WebSocket on a connection of its own that
/// offers only `http/1.1` (RFC 8441 WebSockets over HTTP/2 is not offered), so the chat keeps
/// working while pages, the API and assets use HTTP/2.
struct TLSListenerChannel: ServerChildChannel, HTTPChannelHandler {
    struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<NIONegotiatedHTTPVersion<HTTP1WebSocketUpgradeChannel.Value, HTTP2Channel.Value>>
        let channel: any Channel
    }

    let certificates: TLSCertificates
    let http1: HTTP1WebSocketUpgradeChannel
    let http2: HTTP2Channel
    let `guard`: ConnectionGuard
    var responder: Responder { http1.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let guardHandler = ConnectionGuardHandler(guard: self.guard)
        let http1 = self.http1, http2 = self.http2
        return channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(NIOSSLServerHandler(context: certificates.current))
            // After TLS: the guard reads the plaintext HTTP/1 bytes it times.
            try pipeline.addHandler(guardHandler, name: "frontdesk-connection-guard")
            let loopBoundGuard = NIOLoopBound(guardHandler, eventLoop: channel.eventLoop)
            let negotiation = NIOTypedApplicationProtocolNegotiationHandler<NIONegotiatedHTTPVersion<HTTP1WebSocketUpgradeChannel.Value, HTTP2Channel.Value>> { result in
                switch result {
                case .negotiated("h2"):
                    // HTTP/2 frames are binary: the HTTP/1 deadlines stand aside, the per-address
                    // cap stays, and HTTP/2's own idle timeout closes idle connections.
                    loopBoundGuard.value.passThrough()
                    return http2.setup(channel: channel, logger: logger).map { .http2($0) }
                case .negotiated("http/1.1"), .fallback:
                    return http1.setup(channel: channel, logger: logger).map { .http1_1($0) }
                case .negotiated:
                    return channel.close().flatMap { channel.eventLoop.makeFailedFuture(NIOHTTP2Errors.invalidALPNToken()) }
                }
            }
            try pipeline.addHandler(negotiation)
            return Value(negotiated: negotiation.protocolNegotiationResult, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.negotiated.get() {
            case .http1_1(let connection): await http1.handle(value: connection, logger: logger)
            case .http2(let connection): await http2.handle(value: connection, logger: logger)
            }
        } catch {
            logger.debug("TLS connection ended before a protocol was negotiated", metadata: ["error": "\(error)"])
        }
    }
}

extension ConnectionGuard {
    /// The TLS listener: HTTP/2 and HTTP/1.1 with the WebSocket upgrade, each connection guarded
    /// after the TLS handler (the HTTP/1 deadlines need the plaintext).
    func tlsWithWebSocketUpgrade<Builder: HTTPResponderBuilder & _HB_SendableMetatype>(
        certificates: TLSCertificates, webSocketRouter: Builder, configuration: HTTP1WebSocketUpgradeChannel.Configuration
    ) -> HTTPServerBuilder where Builder.Responder.Context: WebSocketRequestContext {
        let webSocketResponder = webSocketRouter.buildResponder()
        let idle = Duration.seconds(settings.idleTimeoutSeconds)
        return HTTPServerBuilder { responder in
            TLSListenerChannel(
                certificates: certificates,
                http1: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder, configuration: configuration),
                http2: HTTP2Channel(responder: responder, configuration: .init(idleTimeout: idle, gracefulCloseTimeout: .seconds(5))),
                guard: self)
        }
    }
}

/// `Strict-Transport-Security` on every answer of the TLS listener, errors included.
struct StrictTransportSecurityMiddleware<Context: RequestContext>: RouterMiddleware {
    let value: String

    init(maxAgeSeconds: Int) {
        value = "max-age=\(maxAgeSeconds)"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.strictTransportSecurity] = value
        return response
    }
}

/// The optional plain-HTTP listener (`server.http_redirect_port`): every request gets a 308 to
/// the same path and query on the https listener.
enum HTTPSRedirect {
    /// The https URL for a request that arrived at the redirect listener.
    ///
    /// `server.public_url`, when it is https, is where visitors are sent; otherwise the host the
    /// request named, with the TLS port (left out when it is 443).
    static func location(host: String?, pathAndQuery: String, publicURL: String, tlsPort: Int) -> String {
        let path = pathAndQuery.hasPrefix("/") ? pathAndQuery : "/" + pathAndQuery
        if publicURL.hasPrefix("https://"), let url = URL(string: publicURL), let publicHost = url.host {
            return "https://\(publicHost)" + (url.port.map { ":\($0)" } ?? "") + path
        }
        var name = host ?? "localhost"
        if name.hasPrefix("[") {
            // An IPv6 literal: keep the brackets, drop a port after them.
            if let close = name.firstIndex(of: "]") { name = String(name[...close]) }
        } else if let colon = name.lastIndex(of: ":") {
            name = String(name[..<colon])
        }
        return "https://\(name)" + (tlsPort == 443 ? "" : ":\(tlsPort)") + path
    }

    /// The redirect listener as a service that runs beside the main one.
    static func application(runtime: FrontdeskRuntime, tlsPort: @escaping @Sendable () -> Int) -> some ApplicationProtocol {
        let config = runtime.config
        // Every method and path: a responder, not a router, so nothing is left to match.
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            let target = location(host: request.head.authority, pathAndQuery: request.uri.description,
                                  publicURL: config.publicURL, tlsPort: tlsPort())
            return Response(status: .permanentRedirect, headers: [.location: target, .contentLength: "0"])
        }
        return Application(
            responder: responder,
            server: .http1(configuration: .init(idleTimeout: .seconds(Int64(config.connections.idleTimeoutSeconds)))),
            configuration: .init(address: .hostname(config.host, port: config[TLSSettings.redirectPort]), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? config[TLSSettings.redirectPort]
                let host = config.host.contains(":") ? "[\(config.host)]" : config.host
                runtime.logger.info("HTTP to HTTPS redirect listening", metadata: ["address": "http://\(host):\(port)/"])
            },
            logger: runtime.logger
        )
    }
}
