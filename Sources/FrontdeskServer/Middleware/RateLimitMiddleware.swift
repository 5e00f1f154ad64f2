import FrontdeskCore
import FrontdeskState
import HTTPTypes
import Hummingbird

/// Per-client request limits by route class, with the IETF draft `RateLimit-Policy` / `RateLimit`
/// headers (draft-ietf-httpapi-ratelimit-headers) on every limited response and 429 +
/// `Retry-After` when over.
///
/// Classes: `login` (sign-in and first-admin setup), `forms` (anything a visitor submits), `api`
/// (every other API request). Health checks, metrics and static files are not limited.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let limiter: RateLimiter
    let settings: FrontdeskConfig.RateLimitSettings
    let api: RateLimitPolicy
    let forms: RateLimitPolicy
    let login: RateLimitPolicy

    init(limiter: RateLimiter, settings: FrontdeskConfig.RateLimitSettings) {
        self.limiter = limiter
        self.settings = settings
        api = RateLimitPolicy(name: "api", limit: settings.publicPerMinute, period: .seconds(60), burst: settings.publicBurst)
        forms = RateLimitPolicy(name: "forms", limit: settings.formsPerMinute, period: .seconds(60), burst: settings.formsBurst)
        login = RateLimitPolicy(name: "login", limit: settings.loginPerMinute, period: .seconds(60), burst: settings.loginBurst)
    }

    /// Form endpoints: POSTs a visitor makes that store what they wrote.
    static let formPaths: Set<String> = ["/api/v1/contact", "/api/v1/newsletter/subscriptions", "/api/v1/newsletter/unsubscribe", "/api/v1/tickets"]
    static let loginPaths: Set<String> = ["/api/v1/admin/session", "/api/v1/admin/setup"]

    func policy(for request: Request) -> RateLimitPolicy? {
        let path = request.uri.path
        guard path.hasPrefix("/api/v1/") else { return nil }
        if request.method == .options { return nil }
        if request.method == .post && Self.loginPaths.contains(path) { return login }
        if request.method == .post && (Self.formPaths.contains(path) || path.hasPrefix("/api/v1/tickets/")) { return forms }
        return api
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard settings.enabled, let policy = policy(for: request) else {
            return try await next(request, context)
        }
        let decision = limiter.check(key: context.clientAddress, policy: policy)
        let headers = Self.headers(policy: policy, decision: decision)
        guard decision.allowed else {
            let retry = max(1, Int((decision.retryAfter ?? .seconds(1)).components.seconds) + 1)
            var response = ErrorEnvelope.response(for: FrontdeskError(.rateLimited, code: "rate_limited",
                                                                      message: "Too many requests. Try again in \(retry) seconds.",
                                                                      details: ["retryAfterSeconds": String(retry), "policy": policy.name]))
            response.headers[.retryAfter] = String(retry)
            response.headers.append(contentsOf: headers)
            return response
        }
        // Runs outside ErrorMiddleware, so errors arrive here as responses and get the headers too.
        var response = try await next(request, context)
        response.headers.append(contentsOf: headers)
        return response
    }

    /// `RateLimit-Policy: "forms";q=10;w=60` and `RateLimit: "forms";r=4;t=6`.
    static func headers(policy: RateLimitPolicy, decision: RateLimitDecision) -> [HTTPField] {
        let window = Int(policy.period.components.seconds)
        let reset = Int(decision.resetAfter.components.seconds) + (decision.resetAfter.components.attoseconds > 0 ? 1 : 0)
        return [
            HTTPField(name: .rateLimitPolicy, value: "\"\(policy.name)\";q=\(policy.limit);w=\(window)"),
            HTTPField(name: .rateLimit, value: "\"\(policy.name)\";r=\(max(0, decision.remaining));t=\(max(0, reset))"),
        ]
    }
}

extension HTTPField.Name {
    static let rateLimitPolicy = HTTPField.Name("RateLimit-Policy")!
    static let rateLimit = HTTPField.Name("RateLimit")!
}
