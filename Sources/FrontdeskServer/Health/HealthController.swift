import FrontdeskCore
import Foundation
import Hummingbird
import NIOCore
import Metrics
import Prometheus

/// `/healthz` (the process answers), `/readyz` (the database is writable and migrated) and
/// `/metrics` (Prometheus text).
struct HealthController: Sendable {
    let database: AppDatabase
    let registry: PrometheusCollectorRegistry
    let stateMetrics: StateMetrics

    struct Readiness: Encodable {
        let status: String
        let checks: [String: String]
    }

    func addRoutes(to router: Router<AppRequestContext>) {
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
        router.get("/metrics") { _, _ in
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
