import Foundation
import FrontdeskState
import Logging

/// The in-process state that replaces Redis: the cache, the console session store and the rate
/// limiter, plus where their snapshots go. One per running Frontdesk.
package final class AppState: Sendable {
    package let cache: ShardedCache<CachedValue>
    package let sessions: SessionStore
    package let rateLimiter: RateLimiter
    package let snapshotPath: String
    let logger: Logger

    package init(config: FrontdeskConfig, logger: Logger, now: @escaping @Sendable () -> Date) {
        cache = ShardedCache(shards: 16, maxEntries: config.cacheMaxEntries, maxBytes: config.cacheMaxMiB * 1024 * 1024, now: now)
        sessions = SessionStore(idleTimeout: .seconds(config.sessionIdleMinutes * 60),
                                absoluteLifetime: .seconds(config.sessionAbsoluteHours * 3600), shards: 16, now: now)
        rateLimiter = RateLimiter(shards: 16, maxKeysPerShard: 50_000, now: now)
        snapshotPath = (config.stateDirectory as NSString).appendingPathComponent("sessions.snap")
        self.logger = logger
    }

    /// Loads the last session snapshot. A missing file is normal (first start); a truncated or
    /// corrupt one is logged and skipped, so the server starts with no sessions and all data intact.
    package func restoreSessions() {
        do {
            guard let restored = try SessionSnapshot.readIfPresent(from: snapshotPath) else { return }
            sessions.restore(restored)
            logger.info("sessions restored", metadata: ["count": "\(sessions.count)", "snapshot": "\(snapshotPath)"])
        } catch {
            logger.warning("session snapshot unreadable; starting without sessions", metadata: ["snapshot": "\(snapshotPath)", "error": "\(error)"])
        }
    }

    /// Writes the session snapshot (temp file, fsync, rename, directory fsync).
    @discardableResult
    package func snapshotSessions() throws -> Int {
        try FileManager.default.createDirectory(atPath: (snapshotPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        return try SessionSnapshot.write(sessions.allSessions(), to: snapshotPath)
    }
}

/// A value in the shared cache: anything `Sendable`, read back with its type.
package struct CachedValue: Sendable {
    package let value: any Sendable

    package init(_ value: any Sendable) {
        self.value = value
    }
}

/// The read-through layer for hot database reads: results are cached under a namespaced key
/// (`user:42`, `faq:en`) and invalidated by the store that writes them.
package struct ReadThrough: Sendable {
    let cache: ShardedCache<CachedValue>

    package init(cache: ShardedCache<CachedValue>) {
        self.cache = cache
    }

    /// The cached value for `key`, or `load()`'s, computed once however many callers miss at once.
    package func value<T: Sendable>(_ key: String, ttl: Duration, cost: Int = 256, load: @escaping @Sendable () async throws -> T) async throws -> T {
        let cached = try await cache.getOrSet(key, ttl: ttl, cost: cost) { CachedValue(try await load()) }
        if let typed = cached.value as? T { return typed }
        // A different type under the same key is a programming error; recover by reloading.
        let fresh = try await load()
        cache.set(key, CachedValue(fresh), ttl: ttl, cost: cost)
        return fresh
    }

    package func invalidate(_ key: String) {
        cache.delete(key)
    }

    package func invalidate(matching glob: String) {
        cache.invalidatePattern(glob)
    }
}
