import FrontdeskCore
import Foundation
import Hummingbird
import NIOCore
import Prometheus

/// `/healthz` (the process answers), `/readyz` (the database is writable and migrated) and
/// `/metrics` (Prometheus text).
struct HealthController: Sendable {
    let database: AppDatabase
    let registry: PrometheusCollectorRegistry

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
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            registry.emit(into: &buffer)
            return Response(status: .ok,
                            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }
}
