import FrontdeskCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import Synchronization

/// The outermost middleware: request id, access log, request metrics and security headers, for
/// every response including errors and unknown routes.
///
/// One middleware rather than four because it runs on every request: each extra async frame
/// costs throughput on the hot path (see Benchmarks/http.sh).
struct RequestEdgeMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let logger: Logger
    let metrics: HTTPMetrics
    let maxBodyBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var context = context
        context.requestID = Self.acceptedRequestID(request.headers[.xRequestID]) ?? Self.newRequestID()
        context.maxUploadSize = maxBodyBytes
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            // Only reached when an error escapes ErrorMiddleware (a bug): keep the envelope promise.
            logger.error("unhandled error", metadata: ["request_id": "\(context.requestID)", "error": "\(String(reflecting: error))"])
            response = ErrorEnvelope.response(for: FrontdeskError(.internal, code: "internal_error",
                                                                  message: "Something went wrong on our side. Quote request id \(context.requestID) when reporting it."))
        }
        response.headers[.xRequestID] = context.requestID
        SecurityHeaders.apply(to: &response.headers, path: request.uri.path)
        let elapsed = ContinuousClock.now - start
        let route = context.endpointPath ?? "NotFound"
        metrics.record(route: route, method: request.method.rawValue, status: response.status.code, duration: elapsed)
        if logger.logLevel <= .info {
            logger.info("request", metadata: [
                "request_id": "\(context.requestID)",
                "method": "\(request.method.rawValue)",
                "path": "\(request.uri.path)",
                "route": "\(route)",
                "status": "\(response.status.code)",
                "duration_ms": "\(String(format: "%.2f", Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000))",
                "client": "\(ClientAddress.truncated(context.peerAddress?.ipAddress))",
            ])
        }
        return response
    }

    /// Well-formed ids a proxy or client may pass through: 8–128 of `[A-Za-z0-9._-]`.
    static func acceptedRequestID(_ value: String?) -> String? {
        guard let value, (8...128).contains(value.utf8.count),
              value.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 46 || $0 == 95 })
        else { return nil }
        return value
    }

    /// 16 random bytes as 32 hex digits.
    static func newRequestID() -> String {
        var generator = SystemRandomNumberGenerator()
        func hex16(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return hex16(generator.next()) + hex16(generator.next())
    }
}

extension HTTPField.Name {
    static let xRequestID = HTTPField.Name("X-Request-Id")!
}

/// Security headers on every response.
enum SecurityHeaders {
    /// No inline script or style anywhere Frontdesk serves HTML; everything from our own origin.
    static let contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    static func apply(to headers: inout HTTPFields, path: String) {
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[.referrerPolicy] = "strict-origin-when-cross-origin"
        headers[.xFrameOptions] = "DENY"
        headers[.crossOriginOpenerPolicy] = "same-origin"
        headers[.permissionsPolicy] = "camera=(), microphone=(), geolocation=(), payment=()"
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let crossOriginOpenerPolicy = HTTPField.Name("Cross-Origin-Opener-Policy")!
    static let permissionsPolicy = HTTPField.Name("Permissions-Policy")!
}

/// Request counters and latency histograms by route, method and status, through swift-metrics.
/// Handles are created once per label set and reused: creating one per request would take the
/// registry's lock on every request.
final class HTTPMetrics: Sendable {
    private let factory: any MetricsFactory
    private let handles = Mutex<[String: (Counter, Metrics.Timer)]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func record(route: String, method: String, status: Int, duration: Duration) {
        let key = "\(method) \(status) \(route)"
        let (counter, timer) = handles.withLock { handles in
            if let existing = handles[key] { return existing }
            let dimensions = [("route", route), ("method", method), ("status", String(status))]
            let created = (Counter(label: "frontdesk_http_requests_total", dimensions: dimensions, factory: factory),
                           Metrics.Timer(label: "frontdesk_http_request_duration_seconds", dimensions: dimensions, factory: factory))
            handles[key] = created
            return created
        }
        counter.increment()
        let (seconds, attoseconds) = duration.components
        timer.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
