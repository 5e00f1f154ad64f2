import FrontdeskCore
import FrontdeskState
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
    /// The client's address: the peer, or from `X-Forwarded-For` when the peer is a trusted proxy.
    /// Used for rate limits and throttling only; never stored.
    public var clientAddress: String = ""
    /// Whether the client reached us over TLS (directly or through a trusted proxy).
    public var isSecure: Bool = false
    /// Largest body this route reads; set from configuration by `RequestEdgeMiddleware`.
    public var maxUploadSize: Int = 64 * 1024
    /// The signed-in console user, set by `AdminSessionMiddleware` on admin routes.
    public var admin: AuthenticatedAdmin?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.peerAddress = source.channel.remoteAddress
    }
}

/// A console user with a live session. A class so that the request context, copied through
/// every middleware, carries one reference instead of two records' worth of fields.
public final class AuthenticatedAdmin: Sendable {
    public let user: User
    public let session: Session

    init(user: User, session: Session) {
        self.user = user
        self.session = session
    }

    public var id: Int64 { user.id ?? 0 }
    public var csrfToken: String { session.data["csrf"] ?? "" }
}

/// The context of authenticated admin routes: creating it fails with 401 when nobody is signed
/// in, so a handler never unwraps an optional user.
public struct AdminRequestContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let requestID: String
    public let clientAddress: String
    public let admin: AuthenticatedAdmin
    public var maxUploadSize: Int

    public init(context: AppRequestContext) throws {
        guard let admin = context.admin else {
            throw FrontdeskError(.unauthorized, code: "unauthorized", message: "Sign in to the console first.")
        }
        self.coreContext = context.coreContext
        self.requestID = context.requestID
        self.clientAddress = context.clientAddress
        self.admin = admin
        self.maxUploadSize = context.maxUploadSize
    }

    /// Throws 403 unless the signed-in user is an admin.
    public func requireAdminRole() throws {
        guard admin.user.role == .admin else {
            throw FrontdeskError(.forbidden, code: "forbidden", message: "Only admins may manage users.")
        }
    }
}
