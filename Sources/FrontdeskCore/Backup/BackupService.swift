import Foundation
import Logging
import ServiceLifecycle

/// Takes a backup every `interval` while the server runs and keeps the newest `keep`.
/// Generic over the clock so tests drive it without sleeping.
package struct BackupService<C: Clock>: Service where C.Duration == Duration {
    let database: AppDatabase
    let sessionsPath: String
    let directory: String
    let interval: Duration
    let keep: Int
    let clock: C
    let now: @Sendable () -> Date
    let logger: Logger

    package init(database: AppDatabase, sessionsPath: String, directory: String, interval: Duration, keep: Int, clock: C,
                now: @escaping @Sendable () -> Date, logger: Logger) {
        self.database = database
        self.sessionsPath = sessionsPath
        self.directory = directory
        self.interval = interval
        self.keep = keep
        self.clock = clock
        self.now = now
        self.logger = logger
    }

    package func run() async throws {
        await runPeriodically(every: interval, on: clock, immediately: false) { _ = await backupNow() }
    }

    /// One scheduled backup plus pruning; failures are logged, never fatal to the server.
    @discardableResult
    package func backupNow() async -> String? {
        let path = (directory as NSString).appendingPathComponent(Backup.defaultFileName(now: now()))
        do {
            let manifest = try await Backup.create(database: database, sessionsPath: sessionsPath, to: path, now: now())
            let pruned = Backup.prune(directory: directory, keep: keep)
            logger.info("scheduled backup written", metadata: ["path": "\(path)", "database_bytes": "\(manifest.databaseBytes)", "pruned": "\(pruned.count)"])
            return path
        } catch {
            logger.error("scheduled backup failed", metadata: ["path": "\(path)", "error": "\(error)"])
            return nil
        }
    }
}
