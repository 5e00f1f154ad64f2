import FrontdeskCore
import FrontdeskState
import Foundation
import HTTPTypes
import Hummingbird

/// Resolves the console session cookie on the console's route groups and guards state-changing
/// console requests against cross-site forgery: they need a same-site `Origin` and, once signed
/// in, the session's `X-CSRF-Token` (`requireCSRF`; off only for sign-in and setup, which carry
/// no token yet). Sessions of disabled users, or from before a password change, end here.
///
/// Where `tokens` is set (the signed-in groups), `Authorization: Bearer fd_…` is the other way
/// in: no cookie is involved, so a forged cross-site request cannot carry it and neither the
/// Origin rule nor CSRF applies; instead the token's scopes must cover the matched route
/// (`TokenRouteScopes`), and each token has its own rate limit.
struct AdminSessionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let sessions: SessionStore
    let users: CachedUsers
    let publicOrigin: String?
    /// Whether a signed-in change needs the session's `X-CSRF-Token`.
    let requireCSRF: Bool
    /// API tokens, with the per-token limit; nil where a token cannot be used (sign-in, setup).
    var tokens: TokenAuthentication?
    /// `server.public_url` is https: the cookie is always the `__Host-` one.
    var alwaysSecure: Bool { publicOrigin?.hasPrefix("https://") ?? false }

    static let cookieName = "fd_session"
    static let secureCookieName = "__Host-fd_session"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let tokens, let secret = TokenAuthentication.bearer(in: request) {
            switch try await tokens.authenticate(secret: secret, request: request, context: context) {
            case .admin(let admin):
                context.admin = admin
                return try await next(request, context)
            case .limited(let response):
                return response
            }
        }
        let unsafe = ![.get, .head, .options].contains(request.method)
        if unsafe && !isSameSite(request) {
            throw FrontdeskError(.forbidden, code: "origin_not_allowed",
                                 message: "Console requests that change something must come from the console's own origin.")
        }
        if let id = Self.sessionID(in: request, secure: context.isSecure || alwaysSecure), let session = sessions.get(id) {
            if let user = ConsoleSessionCheck.validUser(try await users.user(id: ConsoleSessionCheck.userId(of: session) ?? -1), for: session) {
                context.admin = AuthenticatedAdmin(user: user, session: session)
            } else {
                sessions.destroy(id)
            }
        }
        if unsafe, requireCSRF, let admin = context.admin {
            guard let token = request.headers[.xCSRFToken], Secrets.constantTimeEquals(token.utf8, admin.csrfToken.utf8) else {
                throw FrontdeskError(.forbidden, code: "csrf_failed",
                                     message: "The X-CSRF-Token header is missing or does not match this session. Reload the console.")
            }
        }
        return try await next(request, context)
    }

    /// `Origin` (or, when a browser sends none, `Sec-Fetch-Site`) shows the request came from our own pages.
    func isSameSite(_ request: Request) -> Bool {
        if let origin = request.headers[.origin] {
            if let publicOrigin, origin == publicOrigin { return true }
            return CORSMiddleware.isSameOrigin(origin, host: request.head.authority)
        }
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!] {
            return site == "same-origin"
        }
        return false
    }

    /// The session id from the cookie this connection's kind of transport sets: over TLS only
    /// the `__Host-` cookie, which a man in the middle of a plain-HTTP page of the same host
    /// cannot plant (RFC 6265bis §4.1.3.2); over plain HTTP only the plain one.
    static func sessionID(in request: Request, secure: Bool) -> String? {
        request.cookies[secure ? secureCookieName : cookieName]?.value
    }
}

/// User lookups on every console request, read through the cache for a few seconds and
/// invalidated by every account change this process makes.
struct CachedUsers: Sendable {
    let store: AccountStore
    let cache: ReadThrough

    func user(id: Int64) async throws -> User? {
        try await cache.value("user:\(id)", ttl: .seconds(5)) { try await store.find(id: id) }
    }

    func invalidate(id: Int64) {
        cache.invalidate("user:\(id)")
    }
}
