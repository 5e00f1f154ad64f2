import FrontdeskCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Turns every thrown error into the error envelope, in one place.
///
/// Unknown routes arrive here as Hummingbird's 404; when the path exists in the API contract with
/// other methods the answer is 405 with `Allow`. Errors that are not `FrontdeskError` are logged
/// with the request id and answered with a generic 500 that shows no internals.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let logger: Logger
    let contract: APIContract

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            if let httpError = error as? HTTPError, httpError.status == .notFound, context.endpointPath == nil || context.endpointPath == "NotFound" {
                let methods = contract.methods(forPath: request.uri.path)
                if !methods.isEmpty, !methods.contains(request.method.rawValue) {
                    var headers = HTTPFields()
                    headers[.allow] = methods.sorted().joined(separator: ", ")
                    return ErrorEnvelope.response(for: FrontdeskError(.methodNotAllowed, code: "method_not_allowed",
                                                                      message: "\(request.uri.path) does not accept \(request.method.rawValue); it accepts \(methods.sorted().joined(separator: ", ")).",
                                                                      details: ["allow": methods.sorted().joined(separator: ", ")]),
                                                  headers: headers)
                }
            }
            if let publicError = ErrorMapping.publicError(for: error) {
                if publicError.kind == .internal || publicError.kind == .unavailable {
                    logger.error("request failed", metadata: ["request_id": "\(context.requestID)", "code": "\(publicError.code)"])
                }
                var headers = HTTPFields()
                if let retryAfter = publicError.details["retryAfterSeconds"] { headers[.retryAfter] = retryAfter }
                return ErrorEnvelope.response(for: publicError, headers: headers)
            }
            logger.error("internal error", metadata: ["request_id": "\(context.requestID)", "error": "\(String(reflecting: error))"])
            return ErrorEnvelope.response(for: FrontdeskError(.internal, code: "internal_error",
                                                              message: "Something went wrong on our side. Quote request id \(context.requestID) when reporting it."))
        }
    }
}
