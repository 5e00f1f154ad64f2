import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// How deliveries are retried: `base · 2^(attempt-1)` seconds, capped, dead after `maxAttempts`.
package struct WebhookRetryPolicy: Sendable {
    package var baseSeconds: Double
    package var capSeconds: Double
    package var maxAttempts: Int
    package var timeoutSeconds: Int

    package init(baseSeconds: Double = 30, capSeconds: Double = 6 * 3600, maxAttempts: Int = 8, timeoutSeconds: Int = 10) {
        self.baseSeconds = baseSeconds
        self.capSeconds = capSeconds
        self.maxAttempts = maxAttempts
        self.timeoutSeconds = timeoutSeconds
    }

    package func delay(afterAttempts attempts: Int) -> TimeInterval {
        min(capSeconds, baseSeconds * pow(2, Double(max(0, min(attempts - 1, 30)))))
    }
}

/// Delivers queued webhook events: signs each attempt (Standard Webhooks), re-checks the URL
/// against SSRF right before connecting, logs the answer, retries with backoff, dead-letters.
package struct WebhookDeliveryService: Service {
    let store: WebhookStore
    let client: WebhookClient
    let policy: WebhookRetryPolicy
    let allowPrivate: Bool
    let pollInterval: Duration
    /// `[[webhooks.endpoints]]`, written to the table when the service starts.
    let configured: [ConfiguredWebhook]
    let now: @Sendable () -> Date
    let logger: Logger

    package init(store: WebhookStore, client: WebhookClient, policy: WebhookRetryPolicy, allowPrivate: Bool, pollInterval: Duration = .seconds(1),
                 configured: [ConfiguredWebhook] = [], now: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.store = store
        self.client = client
        self.policy = policy
        self.allowPrivate = allowPrivate
        self.pollInterval = pollInterval
        self.configured = configured
        self.now = now
        self.logger = logger
    }

    /// Writes the configured endpoints, then polls every `pollInterval` (a delivery queued now
    /// goes out within it); shutdown cancels the wait.
    package func run() async throws {
        do {
            let (added, updated, removed) = try await store.syncConfigured(configured)
            if added + updated + removed > 0 {
                logger.notice("webhook endpoints from the configuration file written",
                              metadata: ["added": "\(added)", "updated": "\(updated)", "removed": "\(removed)"])
            }
        } catch {
            logger.error("writing the configured webhook endpoints failed", metadata: ["error": "\(error)"])
        }
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await deliverDue()
                try? await Task.sleep(for: pollInterval)
            }
        }
    }

    /// Delivers every due delivery once; returns how many were attempted.
    @discardableResult
    package func deliverDue() async -> Int {
        guard let due = try? await store.due(limit: 20) else { return 0 }
        for (delivery, endpoint) in due { await deliver(delivery, to: endpoint) }
        return due.count
    }

    func deliver(_ delivery: WebhookDelivery, to endpoint: WebhookEndpoint) async {
        let started = Date()
        let outcome: WebhookClient.Outcome
        switch WebhookTarget.resolve(endpoint.url, allowPrivate: allowPrivate) {
        case .failure(let refusal):
            outcome = .init(statusCode: nil, error: "refused: the URL \(refusal)")
        case .success(let target):
            let timestamp = Int(now().timeIntervalSince1970)
            let headers = WebhookSigner.headers(messageId: delivery.messageId, timestamp: timestamp, body: delivery.payload, secret: endpoint.secret)
            outcome = await client.post(to: target, headers: headers, body: delivery.payload, timeout: .seconds(Int64(policy.timeoutSeconds)))
        }
        let elapsed = Int(Date().timeIntervalSince(started) * 1000)
        let policy = self.policy
        do {
            let updated = try await store.recordAttempt(deliveryId: delivery.id ?? 0, statusCode: outcome.statusCode, error: outcome.error, durationMs: elapsed,
                                                        maxAttempts: policy.maxAttempts, retryDelay: { policy.delay(afterAttempts: $0) })
            logger.info("webhook attempt", metadata: ["delivery_id": "\(delivery.id ?? 0)", "endpoint_id": "\(endpoint.id ?? 0)", "event": "\(delivery.eventType)",
                                                      "status": "\(outcome.statusCode.map(String.init) ?? "-")", "state": "\(updated.status.rawValue)"])
        } catch {
            logger.error("webhook attempt not recorded", metadata: ["delivery_id": "\(delivery.id ?? 0)", "error": "\(error)"])
        }
    }
}
