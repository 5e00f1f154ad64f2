import FrontdeskCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import Synchronization

/// The one router-wide middleware: request id, client address, the path check, the error
/// envelope for whatever escapes a group (unknown routes, 405), access log, request metrics and
/// security headers — for every response.
///
/// One middleware rather than six because it runs on every request: each extra async frame
/// costs throughput on the hot path (see Benchmarks/http.sh). Policy (CORS, rate limits, the
/// console session) is not here: it belongs to the route groups (`Routes`).
struct RequestEdgeMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let logger: Logger
    let accessLog: AccessLog
    let metrics: HTTPMetrics
    let maxBodyBytes: Int
    let addresses: ClientAddressResolver
    /// Maps errors to the envelope; knows the routes for 405.
    let errors: ErrorMiddleware
    /// The listener itself speaks TLS (`server.tls_cert`): every request arrived encrypted,
    /// so secure cookies apply without a proxy's `X-Forwarded-Proto`.
    var listenerIsTLS = false

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var context = context
        context.requestID = Self.acceptedRequestID(request.headers[.xRequestID]) ?? RequestIDs.next()
        context.maxUploadSize = maxBodyBytes
        let client = addresses.resolve(peer: context.peerAddress?.ipAddress, headers: request.headers)
        context.clientAddress = client.address
        context.isSecure = listenerIsTLS || client.secure
        var response: Response
        if let problem = PathCanonicalForm.problem(in: request.uri.path) {
            response = ErrorEnvelope.response(for: FrontdeskError(.badRequest, code: "path_not_canonical", message: problem))
        } else {
            do {
                response = try await next(request, context)
            } catch {
                response = errors.response(for: error, request: request, context: context)
            }
        }
        response.headers.append(HTTPField(name: .xRequestID, value: context.requestID))
        SecurityHeaders.apply(to: &response.headers)
        let elapsed = ContinuousClock.now - start
        let route = context.endpointPath ?? "NotFound"
        metrics.record(route: route, method: request.method, status: response.status.code, duration: elapsed)
        let (seconds, attoseconds) = elapsed.components
        accessLog.record(requestID: context.requestID, method: request.method.rawValue, path: request.uri.path, route: route,
                         status: response.status.code, durationMicros: seconds * 1_000_000 + attoseconds / 1_000_000_000_000,
                         client: ClientAddress.truncated(context.clientAddress))
        return response
    }

    /// Well-formed ids a proxy or client may pass through: 8–128 of `[A-Za-z0-9._-]`.
    static func acceptedRequestID(_ value: String?) -> String? {
        guard let value, (8...128).contains(value.utf8.count),
              value.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 46 || $0 == 95 })
        else { return nil }
        return value
    }
}

/// Paths the edge refuses before routing: dot segments and percent-encoded slashes, backslashes,
/// dots and NULs. The router would not match them to the route a proxy, a log reader or a path
/// check elsewhere takes them for (`/api/v1/%2e%2e/admin`), so they get 400 instead of a guess.
/// Empty segments (`//x`) and a trailing slash need no rule: the router matches them to the
/// canonical route, and policy comes from the route, so they get the canonical route's policy.
enum PathCanonicalForm {
    static func problem(in path: String) -> String? {
        var path = path
        return path.withUTF8 { bytes -> String? in
            var segmentLength = 0
            var segmentDots = 0
            var i = 0
            while i < bytes.count {
                let byte = bytes[i]
                i += 1
                if byte == UInt8(ascii: "/") {
                    if segmentLength > 0 && segmentLength <= 2 && segmentLength == segmentDots { return dotSegment }
                    segmentLength = 0
                    segmentDots = 0
                    continue
                }
                segmentLength += 1
                if byte == UInt8(ascii: ".") { segmentDots += 1 }
                if byte == UInt8(ascii: "\\") { return "The path contains a backslash; use / to separate segments." }
                if byte == UInt8(ascii: "%") {
                    guard i + 1 < bytes.count else { return "The path has an incomplete percent escape." }
                    switch (bytes[i], bytes[i + 1] | 0x20) {
                    case (UInt8(ascii: "2"), UInt8(ascii: "f")), (UInt8(ascii: "5"), UInt8(ascii: "c")):
                        return "The path contains an encoded slash or backslash (%2F, %5C); send the path without it."
                    case (UInt8(ascii: "2"), UInt8(ascii: "e")):
                        return "The path contains an encoded dot (%2E); send the path without it."
                    case (UInt8(ascii: "0"), UInt8(ascii: "0")):
                        return "The path contains an encoded NUL (%00)."
                    default: break
                    }
                }
            }
            if segmentLength > 0 && segmentLength <= 2 && segmentLength == segmentDots { return dotSegment }
            return nil
        }
    }

    static let dotSegment = "The path contains a . or .. segment; send the canonical path."
}

/// Request ids: a random per-process prefix and a counter, 32 hex digits. Unique without a
/// `getrandom` syscall per request; they identify requests, they are not secrets.
enum RequestIDs {
    static let prefix: String = hex(UInt64.random(in: .min ... .max))
    static let counter = Atomic<UInt64>(UInt64.random(in: 0...UInt64(UInt32.max)))

    static func next() -> String {
        let value = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return prefix + hex(value)
    }

    static func hex(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            let digits: StaticString = "0123456789abcdef"
            digits.withUTF8Buffer { table in
                for i in 0..<16 {
                    buffer[i] = table[Int((value >> UInt64((15 - i) * 4)) & 0xF)]
                }
            }
            return 16
        }
    }
}

extension HTTPField.Name {
    static let xRequestID = HTTPField.Name("X-Request-Id")!
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let xForwardedProto = HTTPField.Name("X-Forwarded-Proto")!
    static let xCSRFToken = HTTPField.Name("X-CSRF-Token")!
}

/// Security headers on every response.
///
/// Documents (HTML) get the full policy: no inline script or style, everything from our own
/// origin, no framing, no powerful features. Everything else (JSON, scripts, files) gets the
/// minimal policy OWASP recommends for APIs, `default-src 'none'; frame-ancestors 'none'`:
/// a response that is not a document cannot run anything, and the shorter header set keeps the
/// per-request cost down.
enum SecurityHeaders {
    static let documentPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    static let resourcePolicy = "default-src 'none'; frame-ancestors 'none'"

    static let documentFields: [HTTPField] = [
        HTTPField(name: .contentSecurityPolicy, value: documentPolicy),
        HTTPField(name: .xContentTypeOptions, value: "nosniff"),
        HTTPField(name: .referrerPolicy, value: "strict-origin-when-cross-origin"),
        HTTPField(name: .xFrameOptions, value: "DENY"),
        HTTPField(name: .crossOriginOpenerPolicy, value: "same-origin"),
        HTTPField(name: .permissionsPolicy, value: "camera=(), microphone=(), geolocation=(), payment=()"),
    ]
    static let resourceFields: [HTTPField] = [
        HTTPField(name: .contentSecurityPolicy, value: resourcePolicy),
        HTTPField(name: .xContentTypeOptions, value: "nosniff"),
        HTTPField(name: .referrerPolicy, value: "strict-origin-when-cross-origin"),
    ]

    static func apply(to headers: inout HTTPFields) {
        let isDocument = headers[.contentType]?.hasPrefix("text/html") ?? false
        headers.append(contentsOf: isDocument ? documentFields : resourceFields)
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
    private struct Key: Hashable {
        let route: String
        let method: HTTPRequest.Method
        let status: Int
    }
    /// A class rather than a tuple: a tuple value type in a generic container costs a runtime
    /// metadata lookup on every access.
    private final class Handles: Sendable {
        let counter: Counter
        let timer: Metrics.Timer
        init(counter: Counter, timer: Metrics.Timer) {
            self.counter = counter
            self.timer = timer
        }
    }
    private let handles = Mutex<[Key: Handles]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func record(route: String, method: HTTPRequest.Method, status: Int, duration: Duration) {
        let key = Key(route: route, method: method, status: status)
        let entry = handles.withLock { handles in
            if let existing = handles[key] { return existing }
            let dimensions = [("route", route), ("method", method.rawValue), ("status", String(status))]
            let created = Handles(counter: Counter(label: "frontdesk_http_requests_total", dimensions: dimensions, factory: factory),
                                  timer: Metrics.Timer(label: "frontdesk_http_request_duration_seconds", dimensions: dimensions, factory: factory))
            handles[key] = created
            return created
        }
        entry.counter.increment()
        let (seconds, attoseconds) = duration.components
        entry.timer.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
