import Foundation
import Logging
import ServiceLifecycle

/// When to try a failed mail again, and when to give up.
package struct MailRetryPolicy: Sendable, Equatable {
    /// The wait after the first failed attempt; it doubles with each further failure.
    package var base: Duration
    /// The longest wait between two attempts.
    package var cap: Duration
    /// Attempts before a mail is dead (`mail.max_attempts`).
    package var maxAttempts: Int
    /// Each wait is scaled by a random factor in this range, so mails that failed together
    /// (a relay outage) do not all come back in the same second.
    package var jitter: ClosedRange<Double>

    package init(base: Duration = .seconds(30), cap: Duration = .seconds(3600), maxAttempts: Int = 8, jitter: ClosedRange<Double> = 0.8...1.2) {
        self.base = base
        self.cap = cap
        self.maxAttempts = maxAttempts
        self.jitter = jitter
    }

    /// The wait after `attempts` failed attempts: base × 2^(attempts−1) × jitter, at most `cap`.
    ///
    /// - Parameter unit: a random number in 0...1 (injected, so tests are exact).
    package func delay(afterAttempts attempts: Int, unit: Double) -> Duration {
        let exponent = Double(max(0, min(attempts - 1, 30)))
        let seconds = base.secondsValue * pow(2, exponent)
        let factor = jitter.lowerBound + (jitter.upperBound - jitter.lowerBound) * min(1, max(0, unit))
        return .milliseconds(Int64((min(cap.secondsValue, seconds * factor) * 1000).rounded()))
    }
}

/// Sends what is in the outbox: picks due mails, marks them `sending`, hands each to the
/// transport, and marks it `sent`, or schedules a retry with exponential backoff, or marks it
/// `dead` after a permanent rejection or `maxAttempts` attempts.
///
/// Runs as a `Service`: at start it re-queues mails a crash left `sending`, then delivers
/// whenever something is enqueued (`MailWakeup`) or `pollInterval` passes, and on graceful
/// shutdown finishes the mail in hand and stops. Generic over the clock so tests drive it
/// without sleeping; tests can also call `deliverDue()` directly.
package struct MailDeliveryService<C: Clock>: Service where C.Duration == Duration {
    let outbox: MailOutbox
    let transport: any MailTransport
    let policy: MailRetryPolicy
    let clock: C
    let pollInterval: Duration
    let batchSize: Int
    let now: @Sendable () -> Date
    let random: @Sendable () -> Double
    let logger: Logger

    /// - Parameters:
    ///   - pollInterval: how often to look for retries that became due (new mail wakes it at once).
    ///   - now: the time used for `next_attempt_at` and the stored timestamps; the outbox's own clock should agree.
    ///   - random: a number in 0...1 for the retry jitter.
    package init(outbox: MailOutbox, transport: any MailTransport, policy: MailRetryPolicy = MailRetryPolicy(), clock: C,
                pollInterval: Duration = .seconds(5), batchSize: Int = 20, now: @escaping @Sendable () -> Date = { Date() },
                random: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }, logger: Logger) {
        self.outbox = outbox
        self.transport = transport
        self.policy = policy
        self.clock = clock
        self.pollInterval = pollInterval
        self.batchSize = max(1, batchSize)
        self.now = now
        self.random = random
        self.logger = logger
    }

    package func run() async throws {
        await recoverInterrupted()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            _ = await deliverDue()
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            let wakeup = outbox.wakeup
            let clock = self.clock
            let interval = pollInterval
            do {
                try await cancelWhenGracefulShutdown {
                    try await wakeup.wait(upTo: interval, clock: clock)
                }
            } catch {
                break  // cancelled
            }
        }
        logger.info("mail delivery stopped")
    }

    /// Puts mails left `sending` by a crash back in the queue; `run()` calls it first.
    @discardableResult
    package func recoverInterrupted() async -> Int {
        do {
            let count = try await outbox.requeueInterrupted()
            if count > 0 { logger.warning("mail re-queued after an interrupted attempt", metadata: ["count": "\(count)"]) }
            return count
        } catch {
            logger.error("re-queueing interrupted mail failed", metadata: ["error": "\(error)"])
            return 0
        }
    }

    /// One delivery pass over every mail due now, in batches; returns how many were attempted.
    ///
    /// Stops between mails on graceful shutdown, giving unattempted claims back to the queue.
    package func deliverDue() async -> Int {
        var attempted = 0
        while true {
            let batch: [OutboxMail]
            do {
                batch = try await outbox.claimDue(limit: batchSize)
            } catch {
                logger.error("reading the mail outbox failed", metadata: ["error": "\(error)"])
                return attempted
            }
            for (index, mail) in batch.enumerated() {
                if Task.isShuttingDownGracefully || Task.isCancelled {
                    try? await outbox.release(ids: batch[index...].map(\.id))
                    return attempted
                }
                await attempt(mail)
                attempted += 1
            }
            if batch.count < batchSize { return attempted }
        }
    }

    /// One attempt at one claimed mail, and its outcome recorded; logs one line.
    func attempt(_ mail: OutboxMail) async {
        let started = ContinuousClock.now
        var metadata: Logger.Metadata = [
            "mail_id": "\(mail.id)", "kind": "\(mail.kind)", "to": "\(MailAddress.mask(mail.toAddress))",
            "attempt": "\(mail.attempts)", "transport": "\(transport.name)",
        ]
        let failure: MailTransportError?
        do {
            let message = try mail.message(date: MailDeliveryService.parse(mail.createdAt) ?? now())
            let rendered = RenderedMail(id: mail.id, envelopeFrom: message.from.address, recipients: message.to.map(\.address),
                                        data: try message.rendered())
            try await transport.send(rendered)
            failure = nil
        } catch let error as MailTransportError {
            failure = error
        } catch let error as MailMessage.BuildError {
            failure = MailTransportError(step: "build message", message: error.description, permanent: true)
        } catch let error as FrontdeskError {
            failure = MailTransportError(step: "build message", message: "\(error.message) \(error.details)", permanent: true)
        } catch {
            failure = MailTransportError(step: transport.name, message: MailHeaderText.singleLine("\(error)", maxLength: 400), permanent: false)
        }
        metadata["duration_ms"] = "\(Int((ContinuousClock.now - started).secondsValue * 1000))"
        do {
            guard let failure else {
                try await outbox.markSent(id: mail.id)
                logger.info("mail sent", metadata: metadata)
                return
            }
            // Servers quote the recipient (`550 <jane@example.com>: …`); keep only its masked form.
            let reason = MailAddress.maskAddresses(in: String(failure.description.prefix(1000)))
            metadata["error"] = "\(reason)"
            if failure.permanent || mail.attempts >= policy.maxAttempts {
                try await outbox.markDead(id: mail.id, error: reason)
                metadata["reason"] = failure.permanent ? "permanent" : "max_attempts"
                logger.error("mail dead", metadata: metadata)
            } else {
                let wait = policy.delay(afterAttempts: mail.attempts, unit: random())
                try await outbox.markFailed(id: mail.id, error: reason, retryAt: now().addingTimeInterval(wait.secondsValue))
                metadata["retry_in_s"] = "\(Int(wait.secondsValue.rounded()))"
                logger.warning("mail attempt failed", metadata: metadata)
            }
        } catch {
            // The mail stays `sending`; the next start re-queues it.
            metadata["db_error"] = "\(error)"
            logger.error("recording the mail attempt failed", metadata: metadata)
        }
    }

    /// Reads a stored timestamp (`2026-11-26T16:00:00.123Z`).
    static func parse(_ stamp: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: stamp) ?? ISO8601DateFormatter().date(from: stamp)
    }
}

fileprivate extension Duration {
    /// The duration in seconds, as a Double.
    var secondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
