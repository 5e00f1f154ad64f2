import FrontdeskCore
import HTTPTypes
import Hummingbird

/// Cross-origin rules for the public API groups (not the admin API): the sites listed in
/// `server.site_origins` may call it from the browser; the server's own origin always may; any
/// other origin gets 403 `origin_not_allowed`, so a stray site cannot post into the inbox.
///
/// It runs outside its group's rate limiter and error middleware, so every answer to an allowed
/// origin carries the CORS headers — a 422's field errors and a 429's `Retry-After` included;
/// without them the browser hides the answer from the widget.
struct CORSMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let siteOrigins: Set<String>

    static let allowedHeaders = "Content-Type, Authorization, Idempotency-Key, X-Request-Id"
    static let exposedHeaders = "X-Request-Id, Retry-After, RateLimit, RateLimit-Policy, Location"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin] else {
            return try await next(request, context)
        }
        if Self.isSameOrigin(origin, host: request.head.authority) {
            return try await next(request, context)
        }
        guard siteOrigins.contains(origin) else {
            return ErrorEnvelope.response(for: FrontdeskError(.forbidden, code: "origin_not_allowed",
                                                              message: "Requests from \(origin) are not allowed. The site owner can add it to server.site_origins."))
        }
        if request.method == .options {
            var headers = HTTPFields()
            headers[.accessControlAllowOrigin] = origin
            headers[.accessControlAllowMethods] = "GET, POST, PUT, PATCH, DELETE"
            headers[.accessControlAllowHeaders] = Self.allowedHeaders
            headers[.accessControlMaxAge] = "600"
            headers[.vary] = "Origin"
            return Response(status: .noContent, headers: headers)
        }
        var response = try await next(request, context)
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = Self.exposedHeaders
        response.headers[.vary] = "Origin"
        return response
    }

    /// The browser's `Origin` names the same scheme-less host:port this request was sent to.
    static func isSameOrigin(_ origin: String, host: String?) -> Bool {
        guard let host, let schemeEnd = origin.range(of: "://") else { return false }
        let originHost = origin[schemeEnd.upperBound...]
        if originHost == host { return true }
        // Default ports are left out of Origin but may be present in Host, and the other way round.
        let strip: (Substring) -> Substring = { value in
            if value.hasSuffix(":80") || value.hasSuffix(":443") { return value[..<value.lastIndex(of: ":")!] }
            return value
        }
        return strip(originHost) == strip(Substring(host))
    }
}
