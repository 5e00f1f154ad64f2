import Foundation
import GRDB
import Logging
import Metrics

/// The main SQLite database: one WAL-mode `DatabasePool` (one writer, a pool of readers)
/// plus the group-commit writer every feature's store writes through.
///
/// Analytics and tracking will live in a second file (`analytics.sqlite`) with its own
/// `AppDatabase`, so high-volume beacons never contend with what people wrote.
package final class AppDatabase: Sendable {
    /// Readers (and, for migrations and maintenance, the writer). Private: stores read through
    /// `read`, write through `writer`, and the few other uses have named methods below.
    private let pool: DatabasePool
    /// The path of the database file.
    package let path: String
    /// Every feature write goes through here: concurrent writes share one transaction.
    package let writer: GroupCommitWriter
    /// The metrics factory the database was opened with: the runtime's, for stores and
    /// in-process limits that count what they do.
    package let metrics: any MetricsFactory
    /// The built-in schema history plus the features' own steps.
    private let migrator: DatabaseMigrator

    /// Opens (creating if needed) the database at `path` with Frontdesk's pragmas.
    ///
    /// - `journal_mode=WAL` (GRDB's `DatabasePool` sets it): readers never block the writer.
    /// - `synchronous`: see `SynchronousMode`; in WAL mode NORMAL is corruption-safe.
    /// - `busy_timeout` 5 s: a second process (`frontdesk backup`, `sqlite3`) waits rather than fails.
    /// - `foreign_keys=ON`.
    /// - Parameter migrations: the schema steps of features beyond the built-in ones, from their
    ///   modules (`FeatureModule.migrations`); applied in id order with the built-in ones.
    package init(path: String, synchronous: SynchronousMode = .normal, logger: Logger = Logger(label: "frontdesk.db"),
                metrics: any MetricsFactory = NOOPMetricsHandler.instance, migrations: [SchemaMigration] = []) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        configuration.maximumReaderCount = 4
        configuration.label = "frontdesk"
        let syncPragma = synchronous == .full ? "FULL" : "NORMAL"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(syncPragma)")
        }
        self.path = path
        self.metrics = metrics
        self.migrator = Migrations.migrator(adding: migrations)
        self.pool = try DatabasePool(path: path, configuration: configuration)
        self.writer = GroupCommitWriter(pool: pool, logger: logger, metrics: metrics)
    }

    /// Applies every migration not yet applied. Safe to run on every start.
    package func migrate() throws {
        try migrator.migrate(pool)
    }

    /// Whether every known migration has been applied.
    package func migrationsComplete() async throws -> Bool {
        try await pool.read { [migrator] db in try migrator.hasCompletedMigrations(db) }
    }

    /// True when the writer lock can be taken: the file is writable and not wedged.
    package func isWritable() async -> Bool {
        do {
            try await pool.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) { .rollback }
            }
            return true
        } catch {
            return false
        }
    }

    /// The journal mode in force, e.g. "wal".
    package func journalMode() async throws -> String {
        try await pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// Reads one consistent snapshot on a reader connection.
    package func read<T: Sendable>(_ block: @Sendable @escaping (Database) throws -> T) async throws -> T {
        try await pool.read(block)
    }

    /// Writes into `path` a compact copy of one consistent snapshot (`VACUUM INTO`), while the
    /// writer goes on committing.
    package func vacuum(into path: String) async throws {
        // VACUUM refuses to run inside a transaction, so this reader runs outside one.
        try await pool.unsafeRead { db in
            try db.execute(sql: "VACUUM INTO ?", arguments: [path])
        }
    }

    /// A write outside the group-commit writer, for start-up steps that run before it is busy
    /// (install secrets) and for tests that set a row up by hand.
    package func writeDirectly<T>(_ block: (Database) throws -> T) throws -> T {
        try pool.write(block)
    }

    /// Applies the migrations up to and including `id` only (tests of a migration's effect).
    package func migrate(upTo id: String) throws {
        try migrator.migrate(pool, upTo: id)
    }

    /// Tells `observer` of every transaction (tests counting group commits).
    package func add(transactionObserver observer: some TransactionObserver) {
        pool.add(transactionObserver: observer, extent: .databaseLifetime)
    }

    /// Copies the WAL into the main file and truncates it (after a privacy erasure, so the old
    /// page images in the WAL are gone); skipped quietly when readers keep it busy.
    package func checkpoint() async {
        _ = try? await pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
    }

    /// Flushes the WAL into the main file and closes every connection.
    package func close() throws {
        try? pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        try pool.close()
    }
}
