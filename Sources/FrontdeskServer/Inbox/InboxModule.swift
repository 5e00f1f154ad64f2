import FrontdeskCore
import ServiceLifecycle

/// The inbox: contact forms, newsletter sign-up, support tickets, the console's inbox API and
/// the hourly maintenance (expired sign-ups, idempotency records, old sent mail).
struct InboxModule: FeatureModule {
    let context: FeatureContext
    init(_ context: FeatureContext) { self.context = context }

    func addRoutes(to routes: Routes) {
        let runtime = context.runtime
        let (forms, idempotent, now) = (context.forms, context.idempotent, runtime.now)
        forms.addRoutes(to: routes)
        ContactController(store: runtime.contacts, forms: forms, idempotent: idempotent, now: now).addRoutes(to: routes)
        NewsletterController(store: runtime.newsletter, forms: forms, idempotent: idempotent, siteName: runtime.config.siteName, now: now)
            .addRoutes(to: routes)
        TicketsController(store: runtime.tickets, forms: forms, idempotent: idempotent, now: now).addRoutes(to: routes)
        ContactAdminController(contacts: runtime.contacts, tickets: runtime.tickets, now: now).addRoutes(to: routes)
        TicketAdminController(tickets: runtime.tickets, now: now).addRoutes(to: routes)
        SubscriberAdminController(newsletter: runtime.newsletter, now: now).addRoutes(to: routes)
    }

    func services() -> [any Service] {
        let runtime = context.runtime
        return [InboxMaintenanceService(newsletter: runtime.newsletter, idempotency: runtime.idempotency, outbox: runtime.outbox,
                                        interval: .seconds(3600), clock: ContinuousClock(), now: runtime.now, logger: runtime.logger)]
    }
}
