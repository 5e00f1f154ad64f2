import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A small HTTPS/1.1 client for webhook deliveries: one POST per connection to a checked
/// address (`WebhookTarget`), TLS verified against the system's roots plus an optional CA file
/// (with SNI and the certificate checked for the URL's host, not the address), a deadline for
/// the whole exchange, and redirects never followed (a 3xx is a failed attempt). Written on
/// NIO rather than async-http-client, which would add minutes to every fresh build.
package struct WebhookClient: Sendable {
    let sslContext: NIOSSLContext
    let group: any EventLoopGroup

    /// `caFile`: extra PEM roots to trust (a self-signed receiver in tests, a private CA).
    package init(caFile: String?, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            guard FileManager.default.isReadableFile(atPath: caFile) else {
                throw FrontdeskError(.internal, code: "config_invalid", message: "webhooks.ca_file \(caFile) cannot be read.")
            }
            tls.additionalTrustRoots = [.file(caFile)]
        }
        sslContext = try NIOSSLContext(configuration: tls)
        self.group = group
    }

    /// What came back: the status code, or the error that stopped the exchange.
    package struct Outcome: Sendable {
        package let statusCode: Int?
        package let error: String?
    }

    /// POSTs `body` to `target` with `headers`; never throws, the failure is in the outcome.
    package func post(to target: WebhookTarget, headers: [(String, String)], body: String, timeout: TimeAmount) async -> Outcome {
        let promise = group.next().makePromise(of: Int.self)
        let deadline = group.next().scheduleTask(in: timeout) {
            promise.fail(WebhookClientError.timedOut(Int(timeout.nanoseconds / 1_000_000_000)))
        }
        defer { deadline.cancel() }
        let hostIsLiteral = target.host.contains(":") || target.host.allSatisfy { $0.isNumber || $0 == "." }
        do {
            let sslContext = self.sslContext
            let serverName = hostIsLiteral ? nil : target.host
            let channel = try await ClientBootstrap(group: group)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let tls = try NIOSSLClientHandler(context: sslContext, serverHostname: serverName)
                        try channel.pipeline.syncOperations.addHandler(tls)
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(StatusHandler(promise: promise))
                    }
                }
                .connect(to: try SocketAddress(ipAddress: target.address, port: target.port)).get()
            var fields = HTTPHeaders()
            fields.add(name: "Host", value: target.port == 443 ? target.host : "\(target.host):\(target.port)")
            fields.add(name: "User-Agent", value: "Frontdesk-Webhooks/1")
            fields.add(name: "Content-Type", value: "application/json")
            fields.add(name: "Content-Length", value: String(body.utf8.count))
            fields.add(name: "Connection", value: "close")
            for (name, value) in headers { fields.add(name: name, value: value) }
            let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: target.path, headers: fields)
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: body))), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            defer { channel.close(promise: nil) }
            let status = try await promise.futureResult.get()
            if (300..<400).contains(status) { return Outcome(statusCode: status, error: "redirect not followed (\(status))") }
            return Outcome(statusCode: status, error: (200..<300).contains(status) ? nil : "answered \(status)")
        } catch {
            promise.fail(error)
            return Outcome(statusCode: nil, error: Self.describe(error))
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? WebhookClientError { return error.description }
        if let error = error as? NIOSSLError { return "TLS failed: \(error)" }
        if let error = error as? BoringSSLError { return "TLS failed: \(error)" }
        return "\(error)"
    }
}

enum WebhookClientError: Error, CustomStringConvertible {
    case timedOut(Int)
    case closedEarly

    var description: String {
        switch self {
        case .timedOut(let seconds): return "no answer within \(seconds) s"
        case .closedEarly: return "the connection closed before an answer"
        }
    }
}

/// Completes the promise with the status of the response head.
private final class StatusHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    let promise: EventLoopPromise<Int>

    init(promise: EventLoopPromise<Int>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            promise.succeed(Int(head.status.code))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(WebhookClientError.closedEarly)
        context.fireChannelInactive()
    }
}
