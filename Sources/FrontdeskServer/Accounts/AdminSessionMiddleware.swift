import FrontdeskCore
import FrontdeskState
import Foundation
import HTTPTypes
import Hummingbird

/// Resolves the console session cookie on `/api/v1/admin/…` and guards state-changing admin
/// requests against cross-site forgery: they need a same-site `Origin` and, once signed in, the
/// session's `X-CSRF-Token`. Sessions of disabled users, or from before a password change,
/// end here.
struct AdminSessionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let sessions: SessionStore
    let users: CachedUsers
    let publicOrigin: String?

    static let cookieName = "fd_session"
    static let secureCookieName = "__Host-fd_session"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/api/v1/admin") else {
            return try await next(request, context)
        }
        var context = context
        let unsafe = ![.get, .head, .options].contains(request.method)
        if unsafe && !isSameSite(request) {
            throw FrontdeskError(.forbidden, code: "origin_not_allowed",
                                 message: "Console requests that change something must come from the console's own origin.")
        }
        if let id = Self.sessionID(in: request), let session = sessions.get(id) {
            if let user = try await users.user(id: Int64(session.userId) ?? -1), !user.disabled,
               String(user.sessionEpoch) == session.data["epoch"] {
                context.admin = AuthenticatedAdmin(user: user, session: session)
            } else {
                sessions.destroy(id)
            }
        }
        if unsafe, let admin = context.admin, !RouteNeedsNoCSRF.paths.contains(request.uri.path) {
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

    static func sessionID(in request: Request) -> String? {
        (request.cookies[secureCookieName] ?? request.cookies[cookieName])?.value
    }
}

/// Sign-in and first-admin setup carry no token yet; their Origin is still checked.
enum RouteNeedsNoCSRF {
    static let paths: Set<String> = ["/api/v1/admin/session", "/api/v1/admin/setup"]
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
