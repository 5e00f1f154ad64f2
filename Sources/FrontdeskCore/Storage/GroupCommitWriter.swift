import Foundation
import GRDB
import Logging
import Metrics
import Synchronization

/// Batches concurrent writes into one SQLite transaction (group commit) and acknowledges each
/// caller only after that transaction committed.
///
/// Why: with one writer, each commit costs a WAL append and (with `synchronous=FULL`) an fsync.
/// Requests that arrive while a commit is in progress queue up and share the next one, so
/// throughput grows with concurrency instead of being capped by commit latency.
///
/// Each write runs in its own savepoint: one that throws is rolled back alone and its caller
/// gets the error; the rest of the batch commits. If the commit itself fails, every caller in
/// the batch gets the error and nothing of the batch is kept.
package final class GroupCommitWriter: Sendable {
    /// One queued write: runs inside the batch transaction and returns what to do after commit.
    struct Job: Sendable {
        let enqueuedAt: ContinuousClock.Instant
        let perform: @Sendable (Database) -> @Sendable () -> Void
        let abort: @Sendable (any Error) -> Void
    }

    struct State {
        var pending: [Job] = []
        var draining = false
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let pool: DatabasePool
    private let state = Mutex(State())
    private let logger: Logger
    private let maxBatch: Int
    private let batchSize: Recorder
    private let waitTimer: Metrics.Timer
    private let commitTimer: Metrics.Timer

    init(pool: DatabasePool, logger: Logger, metrics: any MetricsFactory, maxBatch: Int = 256) {
        self.pool = pool
        self.logger = logger
        self.maxBatch = maxBatch
        self.batchSize = Recorder(label: "frontdesk_db_write_batch_size", dimensions: [], aggregate: true, factory: metrics)
        self.waitTimer = Metrics.Timer(label: "frontdesk_db_write_wait_seconds", dimensions: [], factory: metrics)
        self.commitTimer = Metrics.Timer(label: "frontdesk_db_write_commit_seconds", dimensions: [], factory: metrics)
    }

    /// Runs `body` in the next group transaction and returns its result once committed.
    package func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(
                enqueuedAt: .now,
                perform: { db in
                    do {
                        var result: T?
                        try db.inSavepoint {
                            result = try body(db)
                            return .commit
                        }
                        let value = result!
                        return { continuation.resume(returning: value) }
                    } catch {
                        return { continuation.resume(throwing: error) }
                    }
                },
                abort: { error in continuation.resume(throwing: error) }
            )
            let startDrain = state.withLock { state -> Bool in
                state.pending.append(job)
                if state.draining { return false }
                state.draining = true
                return true
            }
            if startDrain {
                Task { await self.drain() }
            }
        }
    }

    /// Waits until every write queued so far has committed (or failed).
    package func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state -> Bool in
                if !state.draining && state.pending.isEmpty { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    private func drain() async {
        while true {
            let (batch, waiters) = state.withLock { state -> ([Job], [CheckedContinuation<Void, Never>]) in
                if state.pending.isEmpty {
                    state.draining = false
                    let waiters = state.idleWaiters
                    state.idleWaiters = []
                    return ([], waiters)
                }
                let batch = Array(state.pending.prefix(maxBatch))
                state.pending.removeFirst(batch.count)
                return (batch, [])
            }
            if batch.isEmpty {
                waiters.forEach { $0.resume() }
                return
            }
            let started = ContinuousClock.now
            for job in batch {
                waitTimer.recordNanoseconds(Int64((started - job.enqueuedAt).nanoseconds))
            }
            batchSize.record(batch.count)
            do {
                let completions = try await pool.write { db in batch.map { $0.perform(db) } }
                commitTimer.recordNanoseconds(Int64((ContinuousClock.now - started).nanoseconds))
                completions.forEach { $0() }
            } catch {
                logger.error("group commit failed", metadata: ["batch_size": "\(batch.count)", "error": "\(error)"])
                batch.forEach { $0.abort(error) }
            }
        }
    }
}

extension Duration {
    var nanoseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1e9 + Double(attoseconds) / 1e9
    }
}
