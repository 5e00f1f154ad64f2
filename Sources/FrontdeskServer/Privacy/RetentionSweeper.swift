import FrontdeskCore
import Foundation
import Logging
import Metrics
import ServiceLifecycle

extension PrivacyService {
    /// One retention pass: for every kind with a retention setting above 0, removes what expired
    /// before `now − days`, `batch` rows per transaction (yielding between them, so a request
    /// never waits behind a long delete), and the mail spool's files past `retention.sent_mail_days`.
    /// Returns what was removed per kind.
    package func sweepRetention(now: Date, batch: Int) async throws -> [String: Int] {
        var removed: [String: Int] = [:]
        for kind in kinds {
            guard let setting = kind.retention else { continue }
            let days = runtime.config[setting]
            guard days > 0 else { continue }
            let cutoff = now.addingTimeInterval(-Double(days) * 86_400)
            var total = 0
            while true {
                let n: Int
                if kind.database == .main {
                    n = try await runtime.database.writer.write { db in try kind.sweep(before: cutoff, limit: batch, in: db, now: now) }
                } else {
                    n = try await runtime.analytics.database.pool.write { db in try kind.sweep(before: cutoff, limit: batch, in: db, now: now) }
                }
                total += n
                if n < batch { break }
                await Task.yield()
            }
            if let mail = kind as? MailPersonalData {
                var files = 0
                while true {
                    let paths = mail.spoolFiles(before: cutoff, limit: batch)
                    for path in paths where (try? FileManager.default.removeItem(atPath: path)) != nil { files += 1 }
                    if paths.count < batch { break }
                    await Task.yield()
                }
                if files > 0 { removed["mail.spool"] = files }
            }
            if total > 0 { removed[kind.name] = total }
        }
        return removed
    }
}

/// Runs the retention pass every `interval` (`retention.sweep_interval_minutes`); what it removed
/// is counted in `/metrics` (`frontdesk_retention_removed_total{kind=…}`) and logged. Generic over
/// the clock so tests drive it without sleeping.
struct RetentionSweeper<C: Clock>: Service where C.Duration == Duration {
    let service: PrivacyService
    let interval: Duration
    let batch: Int
    let clock: C
    let now: @Sendable () -> Date
    let logger: Logger
    let metrics: any MetricsFactory

    func run() async throws {
        await runPeriodically(every: interval, on: clock, immediately: false) { _ = await tick() }
    }

    /// One pass; errors are logged and the next pass tries again.
    @discardableResult
    func tick() async -> [String: Int] {
        do {
            let removed = try await service.sweepRetention(now: now(), batch: batch)
            for (kind, n) in removed {
                Counter(label: "frontdesk_retention_removed_total", dimensions: [("kind", kind)], factory: metrics).increment(by: n)
            }
            if !removed.isEmpty {
                logger.info("retention sweep", metadata: removed.reduce(into: [:]) { $0[$1.key] = "\($1.value)" })
            }
            return removed
        } catch {
            logger.error("retention sweep failed", metadata: ["error": "\(error)"])
            return [:]
        }
    }
}
