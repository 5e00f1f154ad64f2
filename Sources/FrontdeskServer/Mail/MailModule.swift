import FrontdeskCore
import Foundation
import ServiceLifecycle

/// Outgoing mail: the delivery service that drains the durable outbox with backoff, and the
/// console's view of the outbox.
struct MailModule: FeatureModule {
    static var settings: [SettingSpec] { [MailRetention.sentMail.spec] }
    let context: FeatureContext
    init(_ context: FeatureContext) { self.context = context }
    var personalData: [any PersonalDataKind] {
        [MailPersonalData(spoolDirectory: (context.runtime.config.dataDirectory as NSString).appendingPathComponent("mail"))]
    }

    func addRoutes(to routes: Routes) {
        MailAdminController(outbox: context.runtime.outbox, now: context.runtime.now).addRoutes(to: routes)
    }

    func services() -> [any Service] {
        let runtime = context.runtime
        return [MailDeliveryService(outbox: runtime.outbox, transport: runtime.mailTransport, policy: runtime.config.mail.retryPolicy,
                                    clock: ContinuousClock(), now: runtime.now, logger: runtime.logger)]
    }
}
