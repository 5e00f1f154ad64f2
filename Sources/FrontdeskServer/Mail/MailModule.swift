import FrontdeskCore
import ServiceLifecycle

/// Outgoing mail: the delivery service that drains the durable outbox with backoff.
struct MailModule: FeatureModule {
    let context: FeatureContext
    init(_ context: FeatureContext) { self.context = context }

    func services() -> [any Service] {
        let runtime = context.runtime
        return [MailDeliveryService(outbox: runtime.outbox, transport: runtime.mailTransport, policy: runtime.config.mail.retryPolicy,
                                    clock: ContinuousClock(), now: runtime.now, logger: runtime.logger)]
    }
}
