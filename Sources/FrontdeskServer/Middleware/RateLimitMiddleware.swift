import FrontdeskCore
import FrontdeskState
import HTTPTypes
import Hummingbird

/// Per-client request limits of one route class, with the IETF draft `RateLimit-Policy` /
/// `RateLimit` headers (draft-ietf-httpapi-ratelimit-headers) on every limited response and
/// 429 + `Retry-After` when over.
///
/// Attached to a route group (`Routes`): `login` (sign-in and first-admin setup), `forms`
/// (anything a visitor submits), `api` (every other API request). Health checks, metrics and
/// static files are in no limited group. The class comes from the group a route was registered
/// in, never from the request's spelling of its path.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let limiter: RateLimiter
    let policy: RateLimitPolicy
    /// `rate_limit.enabled`; `serve --rate-limit off` for load tests.
    let enabled: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // A CORS preflight is answered by CORSMiddleware and costs the visitor nothing.
        guard enabled, request.method != .options else {
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
        // Runs outside the group's ErrorMiddleware, so errors arrive here as responses and get the headers too.
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
