import FrontdeskCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Turns every thrown error into the error envelope, in one place.
///
/// Used twice: inside each policy group (so CORS and rate-limit headers land on error answers
/// too) and by `RequestEdgeMiddleware` for everything else — unknown routes, where a path that
/// is routed with other methods gets 405 with `Allow` from the router's own `RouteTable`.
/// Errors that are not `FrontdeskError` are logged with the request id and answered with a
/// generic 500 that shows no internals.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let logger: Logger
    /// The registered routes, for the 405 answer; nil inside groups, where a route matched.
    var routes: RouteTable? = nil

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return response(for: error, request: request, context: context)
        }
    }

    /// The envelope answer for `error`.
    func response(for error: any Error, request: Request, context: Context) -> Response {
        if let routes, let httpError = error as? HTTPError, httpError.status == .notFound,
           context.endpointPath == nil || context.endpointPath == "NotFound",
           let (notAllowed, headers) = routes.methodNotAllowed(request) {
            return ErrorEnvelope.response(for: notAllowed, headers: headers)
        }
        if let publicError = ErrorMapping.publicError(for: error) {
            if publicError.kind == .internal || publicError.kind == .unavailable {
                logger.error("request failed", metadata: ["request_id": "\(context.requestID)", "code": "\(publicError.code)"])
            }
            var headers = HTTPFields()
            if let retryAfter = publicError.details["retryAfterSeconds"] { headers[.retryAfter] = retryAfter }
            if publicError.kind == .methodNotAllowed, let allow = publicError.details["allow"] { headers[.allow] = allow }
            return ErrorEnvelope.response(for: publicError, headers: headers)
        }
        logger.error("internal error", metadata: ["request_id": "\(context.requestID)", "error": "\(String(reflecting: error))"])
        return ErrorEnvelope.response(for: FrontdeskError(.internal, code: "internal_error",
                                                          message: "Something went wrong on our side. Quote request id \(context.requestID) when reporting it."))
    }
}
