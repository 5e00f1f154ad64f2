import Foundation
import GRDB
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// The queue between `POST /api/v1/events` and `analytics.sqlite`, and its writer.
///
/// Beacons are acknowledged (202) once queued — the one place Frontdesk answers before commit,
/// as DESIGN.md allows for tracking. The queue is written in batches of at most `batchSize`
/// hits, each batch one transaction (raw events, visits and rollups together), at least every
/// `interval` (one second) and at once when `batchSize` hits are waiting. So a crash (kill -9,
/// power cut) loses at most the hits of the last second or so; SIGTERM loses none: the service
/// writes everything queued before it returns.
package final class AnalyticsIngest: Sendable {
    private struct State {
        var queue: [AnalyticsHit] = []
        var draining = false
        /// Set by the writer's last flush at shutdown: nothing queued after it would be written.
        var closed = false
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    package let database: AnalyticsDatabase
    private let recorder: AnalyticsRecorder
    private let state = Mutex(State())
    private let logger: Logger
    package let batchSize: Int
    /// Hits beyond this many waiting are refused (503) rather than growing memory without bound.
    package let maxQueued: Int
    private let accepted: Counter
    private let written: Counter
    private let failed: Counter
    package let bots: Counter
    private let batchTimer: Metrics.Timer

    package init(database: AnalyticsDatabase, timeZone: TimeZone, maxValuesPerPeriod: Int, batchSize: Int = 1000, maxQueued: Int = 200_000,
                 logger: Logger, metrics: any MetricsFactory) {
        self.database = database
        self.recorder = AnalyticsRecorder(timeZone: timeZone, maxValuesPerPeriod: maxValuesPerPeriod)
        self.logger = logger
        self.batchSize = batchSize
        self.maxQueued = maxQueued
        accepted = Counter(label: "frontdesk_analytics_events_accepted_total", dimensions: [], factory: metrics)
        written = Counter(label: "frontdesk_analytics_events_written_total", dimensions: [], factory: metrics)
        failed = Counter(label: "frontdesk_analytics_events_failed_total", dimensions: [], factory: metrics)
        bots = Counter(label: "frontdesk_analytics_bot_requests_dropped_total", dimensions: [], factory: metrics)
        batchTimer = Metrics.Timer(label: "frontdesk_analytics_batch_seconds", dimensions: [], factory: metrics)
    }

    /// Queues hits; false when the queue is full or closed for shutdown (the caller answers 503),
    /// so a 202 always means the hits will be written.
    package func enqueue(_ hits: [AnalyticsHit]) -> Bool {
        let startDrain = state.withLock { state -> Bool? in
            guard !state.closed, state.queue.count + hits.count <= maxQueued else { return nil }
            state.queue.append(contentsOf: hits)
            if state.queue.count >= batchSize, !state.draining {
                state.draining = true
                return true
            }
            return false
        }
        guard let startDrain else { return false }
        accepted.increment(by: hits.count)
        if startDrain { Task { await self.drain() } }
        return true
    }

    /// Whether shutdown closed the queue.
    package var isClosed: Bool { state.withLock { $0.closed } }

    /// Refuses new hits from now on, then writes everything queued: the last step at shutdown.
    package func close() async {
        state.withLock { $0.closed = true }
        await flush()
    }

    /// Hits queued and not yet written.
    package var pending: Int { state.withLock { $0.queue.count } }

    /// Writes everything queued so far and returns once it is committed (or failed).
    ///
    /// The waiter is registered and, when nobody drains, the drain started under the same
    /// lock: hits queued between a look at the queue and the wait cannot be left undrained.
    package func flush() async {
        enum Next { case idle, wait, drain }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let next = state.withLock { state -> Next in
                if !state.draining && state.queue.isEmpty { return .idle }
                state.idleWaiters.append(continuation)
                if state.draining { return .wait }
                state.draining = true
                return .drain
            }
            switch next {
            case .idle: continuation.resume()
            case .wait: break
            case .drain: Task { await self.drain() }
            }
        }
    }

    /// Writes batches until the queue is empty. Only one drain runs at a time (`draining`): it
    /// gives the flag up, and wakes the waiters, only under the lock that saw the queue empty.
    private func drain() async {
        while true {
            let (batch, waiters) = state.withLock { state -> ([AnalyticsHit], [CheckedContinuation<Void, Never>]) in
                if state.queue.isEmpty {
                    state.draining = false
                    defer { state.idleWaiters = [] }
                    return ([], state.idleWaiters)
                }
                let count = min(batchSize, state.queue.count)
                let batch = Array(state.queue.prefix(count))
                state.queue.removeFirst(count)
                return (batch, [])
            }
            if batch.isEmpty {
                waiters.forEach { $0.resume() }
                return
            }
            let started = ContinuousClock.now
            do {
                try await database.pool.write { [recorder] db in try recorder.record(batch, in: db) }
                written.increment(by: batch.count)
            } catch {
                // The transaction rolled back: the database is the truth again.
                recorder.reset()
                failed.increment(by: batch.count)
                logger.error("analytics batch failed", metadata: ["events": "\(batch.count)", "error": "\(error)"])
            }
            batchTimer.recordNanoseconds(Int64((ContinuousClock.now - started).nanoseconds))
        }
    }
}

/// Commits the ingest queue at least every `interval`; on graceful shutdown (after the HTTP
/// server has drained) writes everything still queued and closes `analytics.sqlite`.
package struct AnalyticsBatchWriterService<C: Clock>: Service where C.Duration == Duration {
    let ingest: AnalyticsIngest
    let interval: Duration
    let clock: C
    let logger: Logger

    package init(ingest: AnalyticsIngest, interval: Duration = .seconds(1), clock: C, logger: Logger) {
        self.ingest = ingest
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    package func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await clock.sleep(for: interval) } catch { break }
                await ingest.flush()
            }
        }
        // A request still in flight after the HTTP server's drain gets a 503, not a 202 whose
        // events would never be written.
        await ingest.close()
        logger.info("analytics queue written", metadata: ["pending": "\(ingest.pending)"])
        do {
            try ingest.database.close()
        } catch {
            logger.error("closing analytics.sqlite failed", metadata: ["error": "\(error)"])
        }
    }
}
