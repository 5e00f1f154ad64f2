import Foundation
import Logging
import ServiceLifecycle

/// Deletes proof-of-consent records older than `consent.log_retention_days`, once at start and
/// then every `interval` (the store logs each removal). Generic over the clock so tests drive it
/// without sleeping.
package struct ConsentRetentionService<C: Clock>: Service where C.Duration == Duration {
    let store: ConsentStore
    let retentionDays: Int
    let interval: Duration
    let clock: C
    let now: @Sendable () -> Date
    let logger: Logger

    package init(store: ConsentStore, retentionDays: Int, interval: Duration, clock: C, now: @escaping @Sendable () -> Date, logger: Logger) {
        self.store = store
        self.retentionDays = retentionDays
        self.interval = interval
        self.clock = clock
        self.now = now
        self.logger = logger
    }

    package func run() async throws {
        await runPeriodically(every: interval, on: clock, immediately: true) { await tick() }
    }

    /// One sweep; an error is logged and the next sweep tries again.
    package func tick() async {
        do {
            try await store.sweep(before: now().addingTimeInterval(-Double(retentionDays) * 86_400), now: now())
        } catch {
            logger.error("consent retention sweep failed", metadata: ["error": "\(error)"])
        }
    }
}
