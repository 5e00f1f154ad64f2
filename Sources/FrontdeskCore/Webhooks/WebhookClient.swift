import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A small HTTPS/1.1 client for webhook deliveries: one POST per connection to a checked
/// address (`WebhookTarget`), TLS verified against the system's roots plus an optional CA file
/// (with SNI and the certificate checked for the URL's host, not the address), a deadline for
/// the whole exchange, and redirects never followed (a 3xx is a failed attempt, naming where it
/// pointed). `probe` asks the same address with a HEAD when an endpoint is saved, so a URL that
/// redirects is refused then rather than failing every delivery later. Written on
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

    /// What came back: the status code (and a redirect's `Location`), or the error that stopped
    /// the exchange.
    package struct Outcome: Sendable {
        package let statusCode: Int?
        package let error: String?
        package var location: String? = nil

        /// The status was a redirect (3xx).
        package var redirected: Bool { statusCode.map { (300..<400).contains($0) } ?? false }

        /// " to <Location>", or nothing when the redirect named none: for messages about it.
        package static func pointing(to location: String?) -> String { location.map { " to \($0)" } ?? "" }
    }

    /// POSTs `body` to `target` with `headers`; never throws, the failure is in the outcome.
    package func post(to target: WebhookTarget, headers: [(String, String)], body: String, timeout: TimeAmount) async -> Outcome {
        await send(.POST, to: target, headers: headers + [("Content-Type", "application/json")], body: body, timeout: timeout)
    }

    /// A HEAD to `target`: what a delivery there would meet, without a body or a signature. The
    /// receiver's answer is only looked at for a redirect; any other status, or no answer, is
    /// the delivery log's business.
    package func probe(_ target: WebhookTarget, timeout: TimeAmount) async -> Outcome {
        await send(.HEAD, to: target, headers: [], body: nil, timeout: timeout)
    }

    private func send(_ method: HTTPMethod, to target: WebhookTarget, headers: [(String, String)], body: String?, timeout: TimeAmount) async -> Outcome {
        let promise = group.next().makePromise(of: ResponseHead.self)
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
            if let body { fields.add(name: "Content-Length", value: String(body.utf8.count)) }
            fields.add(name: "Connection", value: "close")
            for (name, value) in headers { fields.add(name: name, value: value) }
            let head = HTTPRequestHead(version: .http1_1, method: method, uri: target.path, headers: fields)
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: body))), promise: nil) }
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            defer { channel.close(promise: nil) }
            let answer = try await promise.futureResult.get()
            let status = answer.status
            if (300..<400).contains(status) {
                return Outcome(statusCode: status, error: "redirect\(Outcome.pointing(to: answer.location)) not followed (\(status))", location: answer.location)
            }
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

/// The part of a response head a delivery looks at.
private struct ResponseHead {
    let status: Int
    /// A redirect's target, cut to a length fit for a log line.
    let location: String?
}

/// Completes the promise with the status (and `Location`) of the response head.
private final class StatusHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    let promise: EventLoopPromise<ResponseHead>

    init(promise: EventLoopPromise<ResponseHead>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            promise.succeed(ResponseHead(status: Int(head.status.code), location: head.headers.first(name: "Location").map { String($0.prefix(300)) }))
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
