import Hummingbird
import Logging
import NIOCore

/// The request context every Frontdesk route sees.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// `X-Request-Id`: accepted from the client when well-formed, generated otherwise.
    public var requestID: String = ""
    /// The TCP peer (the proxy, when behind one).
    public let peerAddress: SocketAddress?
    /// Largest body this route reads; set from configuration by `RequestIDMiddleware`.
    public var maxUploadSize: Int = 64 * 1024

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.peerAddress = source.channel.remoteAddress
    }
}
