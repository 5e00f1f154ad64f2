import FrontdeskCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Metrics
import Prometheus

/// `/healthz` (the process answers), `/readyz` (the database is writable and migrated) and
/// `/metrics` (Prometheus text; this machine only, or with the `metrics.token` bearer token).
struct HealthController: Sendable {
    let database: AppDatabase
    let registry: PrometheusCollectorRegistry
    let metricsAccess: MetricsAccess
    let stateMetrics: StateMetrics

    struct Readiness: Encodable {
        let status: String
        let checks: [String: String]
    }

    func addRoutes(to routes: Routes) {
        let router = routes.site
        // Load balancers and monitors poll this; its body is built once.
        let healthy = ByteBuffer(string: #"{"status":"ok"}"#)
        router.get("/healthz") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                     body: .init(byteBuffer: healthy))
        }
        router.get("/readyz") { _, _ in
            let writable = await database.isWritable()
            let migrated = (try? await database.migrationsComplete()) ?? false
            let checks = ["database": writable ? "ok" : "not writable", "migrations": migrated ? "ok" : "pending"]
            guard writable && migrated else {
                throw FrontdeskError(.unavailable, code: "not_ready", message: "Frontdesk is not ready to take writes.", details: checks)
            }
            return try Response.json(Readiness(status: "ready", checks: checks), headers: [.cacheControl: "no-store"])
        }
        router.get("/metrics") { request, context in
            try metricsAccess.check(request, context: context)
            stateMetrics.refresh()
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            registry.emit(into: &buffer)
            return Response(status: .ok,
                            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }
}

/// Cache, session and rate-limiter figures, read from the in-process state at scrape time.
struct StateMetrics: Sendable {
    let state: AppState
    let factory: any MetricsFactory

    func refresh() {
        for (namespace, stats) in state.cache.stats() {
            let dimensions = [("namespace", namespace)]
            Gauge(label: "frontdesk_cache_hits", dimensions: dimensions, factory: factory).record(stats.hits)
            Gauge(label: "frontdesk_cache_misses", dimensions: dimensions, factory: factory).record(stats.misses)
            Gauge(label: "frontdesk_cache_evictions", dimensions: dimensions, factory: factory).record(stats.evictions)
            Gauge(label: "frontdesk_cache_expirations", dimensions: dimensions, factory: factory).record(stats.expirations)
            Gauge(label: "frontdesk_cache_entries", dimensions: dimensions, factory: factory).record(stats.entries)
            Gauge(label: "frontdesk_cache_bytes", dimensions: dimensions, factory: factory).record(stats.bytes)
        }
        Gauge(label: "frontdesk_sessions_active", dimensions: [], factory: factory).record(state.sessions.count)
        Gauge(label: "frontdesk_rate_limit_tracked_keys", dimensions: [], factory: factory).record(state.rateLimiter.trackedKeys)
    }
}

/// Who may read `/metrics`: it tells request rates, queue depths and error counts, which help an
/// attacker time an attack. Requests from this machine (a loopback peer, not forwarded by a
/// proxy) may; others only with `Authorization: Bearer <metrics.token>`.
struct MetricsAccess: Sendable {
    let token: String

    func check(_ request: Request, context: AppRequestContext) throws {
        if let header = request.headers[.authorization], !token.isEmpty, header.hasPrefix("Bearer "),
           Secrets.constantTimeEquals(header.dropFirst("Bearer ".count).utf8, token.utf8) {
            return
        }
        let forwarded = request.headers[.xForwardedFor] != nil || request.headers[HTTPField.Name("Forwarded")!] != nil
        if !forwarded, Self.isLoopback(context.peerAddress?.ipAddress) { return }
        throw FrontdeskError(.forbidden, code: "metrics_forbidden",
                             message: token.isEmpty ? "/metrics answers only requests from this machine. Set metrics.token to scrape it from elsewhere."
                                                    : "/metrics needs Authorization: Bearer with the configured metrics.token.")
    }

    static func isLoopback(_ address: String?) -> Bool {
        guard let address else { return false }
        return address.hasPrefix("127.") || address == "::1" || address.hasPrefix("::ffff:127.")
    }
}
