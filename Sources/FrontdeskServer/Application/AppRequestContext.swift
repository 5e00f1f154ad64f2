import FrontdeskCore
import FrontdeskState
import Hummingbird
import Logging
import NIOCore

/// The request context every Frontdesk route sees.
package struct AppRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// `X-Request-Id`: accepted from the client when well-formed, generated otherwise.
    package var requestID: String = ""
    /// The TCP peer (the proxy, when behind one).
    package let peerAddress: SocketAddress?
    /// The client's address: the peer, or from `X-Forwarded-For` when the peer is a trusted proxy.
    /// Used for rate limits and throttling only; never stored.
    package var clientAddress: String = ""
    /// Whether the client reached us over TLS (directly or through a trusted proxy).
    package var isSecure: Bool = false
    /// Largest body this route reads; set from configuration by `RequestEdgeMiddleware`.
    package var maxUploadSize: Int = 64 * 1024
    /// The signed-in console user, set by `AdminSessionMiddleware` on admin routes.
    package var admin: AuthenticatedAdmin?

    package init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.peerAddress = source.channel.remoteAddress
    }
}

/// A console user with a live session, or acting through an API token. A class so that the
/// request context, copied through every middleware, carries one reference instead of two
/// records' worth of fields.
package final class AuthenticatedAdmin: Sendable {
    package let user: User
    /// The console session; nil for a request made with an API token.
    package let session: Session?
    /// The API token the request came with; nil for a console session.
    package let token: APIToken?

    init(user: User, session: Session) {
        self.user = user
        self.session = session
        self.token = nil
    }

    init(user: User, token: APIToken) {
        self.user = user
        self.session = nil
        self.token = token
    }

    package var id: Int64 { user.id ?? 0 }
    package var csrfToken: String { session?.data["csrf"] ?? "" }

    /// The console session, or 403 for a token request (the routes that need one refuse tokens
    /// before this is reached; this keeps a handler from ever unwrapping).
    package func requireSession() throws -> Session {
        guard let session else { throw TokenRouteScopes.sessionOnlyError }
        return session
    }
}

/// The context of authenticated admin routes: creating it fails with 401 when nobody is signed
/// in, so a handler never unwraps an optional user.
package struct AdminRequestContext: ChildRequestContext {
    package var coreContext: CoreRequestContextStorage
    package let requestID: String
    package let clientAddress: String
    package let admin: AuthenticatedAdmin
    package var maxUploadSize: Int
    /// Whether the client reached us over TLS (directly or through a trusted proxy).
    package let isSecure: Bool

    package init(context: AppRequestContext) throws {
        guard let admin = context.admin else {
            throw FrontdeskError(.unauthorized, code: "unauthorized", message: "Sign in to the console first.")
        }
        self.coreContext = context.coreContext
        self.requestID = context.requestID
        self.clientAddress = context.clientAddress
        self.admin = admin
        self.maxUploadSize = context.maxUploadSize
        self.isSecure = context.isSecure
    }

    /// Throws 403 unless the signed-in user is an admin.
    package func requireAdminRole() throws {
        guard admin.user.role == .admin else {
            throw FrontdeskError(.forbidden, code: "forbidden", message: "Only admins may manage users.")
        }
    }
}
