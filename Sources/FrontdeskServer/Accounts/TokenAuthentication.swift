import FrontdeskCore
import FrontdeskState
import Foundation
import HTTPTypes
import Hummingbird

/// The API tokens' settings, declared once.
enum TokenSettings {
    static let requestsPerMinute = Setting<Int>.integer("tokens.requests_per_minute", env: "FRONTDESK_TOKENS_REQUESTS_PER_MINUTE", default: 600,
                                                        range: 1...1_000_000,
                                                        doc: "Requests one API token may make per minute (its own limit, besides the api class of its address).")
    static let burst = Setting<Int>.integer("tokens.burst", env: "FRONTDESK_TOKENS_BURST", default: 60, range: 0...1_000_000,
                                            doc: "Requests an API token may make at once above its steady per-minute rate.")
}

/// Which scope a route needs from an API token, from the route a request matched (never from
/// how the request spelled its path): the first segment after `/api/v1/admin` names the
/// feature, GET and HEAD need `<feature>:read`, anything else `<feature>:write`. Console-only
/// routes (the session, the agent socket, token management itself, so that a leaked token
/// cannot mint more) refuse tokens. A route in neither list refuses tokens too, and a test
/// checks every admin route is in one.
enum TokenRouteScopes {
    /// Route segment → token feature.
    static let features: [String: String] = [
        "agents": "agents", "analytics": "analytics", "canned-replies": "chat", "chat": "chat", "consent": "consent", "contact-submissions": "contacts",
        "engage": "engage", "faq": "faq", "privacy": "privacy", "mail": "mail", "newsletter": "newsletter", "reviews": "reviews", "tickets": "tickets", "users": "users", "invitations": "users",
        "webhooks": "settings", "webhook-deliveries": "settings", "settings": "settings",
    ]
    /// Route segments only a console session may use.
    static let sessionOnly: Set<String> = ["session", "setup", "ws", "tokens", "account"]

    /// The scope `method` on the route template `path` needs, or nil when tokens may not use it.
    static func scope(route path: String, method: HTTPRequest.Method) -> String? {
        var parts = path.split(separator: "/").map(String.init)
        guard parts.starts(with: ["api", "v1", "admin"]) else { return nil }
        parts.removeFirst(3)
        guard let segment = parts.first, let feature = features[segment] else { return nil }
        return feature + ([.get, .head].contains(method) ? ":read" : ":write")
    }

    static let sessionOnlyError = FrontdeskError(.forbidden, code: "token_not_accepted",
                                                 message: "This route needs a console session; API tokens cannot use it.")
}

/// Authenticates `Authorization: Bearer fd_…` on the signed-in console groups: the token must
/// exist, be neither revoked nor expired (401), belong to an enabled user, cover the matched
/// route's scope (403 naming it) and be within its own rate limit (429).
struct TokenAuthentication: Sendable {
    let store: APITokenStore
    let users: CachedUsers
    let limiter: RateLimiter
    let policy: RateLimitPolicy
    let limitsEnabled: Bool

    enum Outcome {
        case admin(AuthenticatedAdmin)
        case limited(Response)
    }

    /// The secret of an `Authorization: Bearer` header (scheme case-insensitive, RFC 9110 §11.1).
    static func bearer(in request: Request) -> String? {
        guard let value = request.headers[.authorization], value.count > 7, value.prefix(7).lowercased() == "bearer " else { return nil }
        return value.dropFirst(7).trimmingCharacters(in: .whitespaces)
    }

    func authenticate(secret: String, request: Request, context: AppRequestContext) async throws -> Outcome {
        let token: APIToken
        switch try await store.authenticate(secret: secret) {
        case .failure(let refusal): throw refusal.error
        case .success(let found): token = found
        }
        guard let user = try await users.user(id: token.userId), !user.disabled else {
            throw FrontdeskError(.unauthorized, code: "invalid_token", message: "This API token's owner is disabled or gone.")
        }
        if limitsEnabled {
            let decision = limiter.check(key: "token:\(token.id ?? 0)", policy: policy)
            if !decision.allowed {
                let retry = max(1, Int((decision.retryAfter ?? .seconds(1)).components.seconds) + 1)
                var response = ErrorEnvelope.response(for: FrontdeskError(.rateLimited, code: "rate_limited",
                                                                          message: "Too many requests with this token. Try again in \(retry) seconds.",
                                                                          details: ["retryAfterSeconds": String(retry), "policy": policy.name]))
                response.headers[.retryAfter] = String(retry)
                response.headers.append(contentsOf: RateLimitMiddleware.headers(policy: policy, decision: decision))
                return .limited(response)
            }
        }
        guard let scope = TokenRouteScopes.scope(route: context.endpointPath ?? "", method: request.method) else {
            throw TokenRouteScopes.sessionOnlyError
        }
        guard token.has(scope) else {
            throw FrontdeskError(.forbidden, code: "insufficient_scope", message: "This API token lacks the scope \(scope).",
                                 details: ["scope": scope])
        }
        try await store.noteUse(token, network: ClientAddress.truncated(context.clientAddress))
        return .admin(AuthenticatedAdmin(user: user, token: token))
    }
}

/// `GET/POST /api/v1/admin/tokens`, `DELETE /api/v1/admin/tokens/{id}`: a signed-in user's API
/// tokens (an admin sees and revokes everyone's). Console sessions only.
struct TokensController: Sendable {
    let store: APITokenStore

    struct TokenList: Encodable {
        let tokens: [PublicToken]
    }

    struct CreatedToken: Encodable {
        let token: PublicToken
        /// The secret, shown this once.
        let secret: String
    }

    func addRoutes(to routes: Routes) {
        let group = routes.admin.group("/tokens")
        group.get { _, context in
            let user = context.admin.user
            let tokens = try await store.list(userId: user.role == .admin ? nil : user.id)
            return try Response.json(TokenList(tokens: tokens.map(PublicToken.init)), headers: [.cacheControl: "no-store"])
        }
        group.post { request, context in
            let input = try APITokenStore.NewToken(json: try await request.jsonObject(context: context), role: context.admin.user.role)
            let created = try await store.create(input, forUser: context.admin.id)
            context.logger.notice("api token created", metadata: ["token_id": "\(created.token.id ?? 0)", "user_id": "\(context.admin.id)",
                                                                 "scopes": "\(input.scopes.joined(separator: " "))"])
            return try Response.json(CreatedToken(token: PublicToken(created.token), secret: created.secret), status: .created,
                                     headers: [.cacheControl: "no-store"])
        }
        group.delete("/:id") { _, context in
            guard let id = context.parameters.get("id").flatMap(Int64.init) else { throw FrontdeskError.notFound("The token") }
            let user = context.admin.user
            let token = try await store.revoke(id: id, ownedBy: user.role == .admin ? nil : user.id)
            context.logger.notice("api token revoked", metadata: ["token_id": "\(id)", "by": "\(context.admin.id)"])
            return try Response.json(PublicToken(token))
        }
    }
}
