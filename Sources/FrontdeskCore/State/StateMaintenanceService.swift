import Foundation
import FrontdeskState
import GRDB
import Logging
import ServiceLifecycle

/// Keeps the in-process state tidy and durable: every `interval` it drops expired sessions,
/// cache entries and idle rate-limit keys and snapshots the sessions when they changed; every
/// minute it records cache statistics into `cache_stats`; on graceful shutdown it writes a last
/// snapshot. Generic over the clock so tests drive it without sleeping.
package struct StateMaintenanceService<C: Clock>: Service where C.Duration == Duration {
    let state: AppState
    let database: AppDatabase
    let interval: Duration
    let clock: C
    let now: @Sendable () -> Date
    let logger: Logger

    package init(state: AppState, database: AppDatabase, interval: Duration, clock: C, now: @escaping @Sendable () -> Date, logger: Logger) {
        self.state = state
        self.database = database
        self.interval = interval
        self.clock = clock
        self.now = now
        self.logger = logger
    }

    package func run() async throws {
        var lastFingerprint = fingerprint()
        var sinceStats: Duration = .zero
        while !Task.isShuttingDownGracefully {
            do {
                // A graceful shutdown does not cancel sleeps by itself; this makes it end the wait at once.
                try await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) }
            } catch {
                break  // cancelled or shutting down
            }
            if Task.isShuttingDownGracefully { break }
            lastFingerprint = tick(lastFingerprint: lastFingerprint)
            sinceStats += interval
            if sinceStats >= .seconds(60) {
                sinceStats = .zero
                await recordCacheStats()
            }
        }
        do {
            let bytes = try state.snapshotSessions()
            logger.info("sessions snapshotted at shutdown", metadata: ["count": "\(state.sessions.count)", "bytes": "\(bytes)"])
        } catch {
            logger.error("session snapshot at shutdown failed", metadata: ["error": "\(error)"])
        }
    }

    /// One maintenance pass; returns the session fingerprint after it.
    package func tick(lastFingerprint: Int) -> Int {
        state.sessions.cleanup()
        state.cache.sweepExpired()
        state.rateLimiter.sweepIdle()
        let current = fingerprint()
        if current != lastFingerprint {
            do {
                try state.snapshotSessions()
            } catch {
                logger.error("session snapshot failed", metadata: ["error": "\(error)"])
            }
        }
        return current
    }

    /// Changes whenever a session is created, destroyed or touched, so idle periods write nothing.
    func fingerprint() -> Int {
        var hasher = Hasher()
        for session in state.sessions.allSessions() {
            hasher.combine(session.id)
            hasher.combine(session.lastAccessedAt)
            hasher.combine(session.data)
        }
        return hasher.finalize()
    }

    /// Appends one row per cache namespace to `cache_stats`, keeping seven days.
    package func recordCacheStats() async {
        let stats = state.cache.stats()
        let stamp = Timestamps.iso8601(now())
        let cutoff = Timestamps.iso8601(now().addingTimeInterval(-7 * 86_400))
        do {
            try await database.writer.write { db in
                for (namespace, s) in stats.sorted(by: { $0.key < $1.key }) {
                    try db.execute(sql: """
                        INSERT INTO cache_stats(recorded_at, namespace, hits, misses, evictions, expirations, entries, bytes)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [stamp, namespace, s.hits, s.misses, s.evictions, s.expirations, s.entries, s.bytes])
                }
                try db.execute(sql: "DELETE FROM cache_stats WHERE recorded_at < ?", arguments: [cutoff])
            }
        } catch {
            logger.warning("recording cache statistics failed", metadata: ["error": "\(error)"])
        }
    }
}
