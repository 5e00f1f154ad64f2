import Foundation
import FrontdeskCore
import ServiceLifecycle

/// The inbox: contact forms, newsletter sign-up, support tickets, the console's inbox API and
/// the hourly maintenance (expired sign-ups, idempotency records, old sent mail).
struct InboxModule: FeatureModule {
    static var mailTemplates: [String] { InboxMailer.templates }
    static var settings: [SettingSpec] { InboxRetention.all }
    let context: FeatureContext
    init(_ context: FeatureContext) { self.context = context }
    var personalData: [any PersonalDataKind] { InboxPersonalData.kinds }

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

    /// A small bakery's contact messages, newsletter subscribers and tickets with a thread,
    /// through the stores without a mailer (nothing is mailed).
    func seedDemo(now: Date) async throws {
        let database = context.runtime.database
        let contacts = ContactStore(database: database)
        let samples: [(String, String, String, String)] = [
            ("Maria Keller", "maria@example.com", "Wedding cake", "Do you bake three-tier cakes for 80 guests in June?"),
            ("Tom Berg", "tom@example.org", "Gluten-free bread", "Which of your loaves are gluten-free?"),
            ("Aiko Tanaka", "aiko@example.net", "Opening hours", "Are you open on the 24th of December?"),
        ]
        for (name, email, subject, message) in samples {
            let input = try NewContactSubmission(json: ["name": .string(name), "email": .string(email), "subject": .string(subject),
                                                        "message": .string(message)])
            _ = try await contacts.submit(input, userAgent: nil, now: now)
        }
        let newsletter = NewsletterStore(database: database, mailer: nil, settings: context.runtime.config.newsletter)
        _ = try await newsletter.importCSV("lena@example.com\nomar@example.org", confirmed: true, now: now)
        _ = try await newsletter.importCSV("jo@example.net", confirmed: false, now: now)
        let tickets = TicketStore(database: database, mailer: nil, secret: context.runtime.ticketSecret)
        let order = try await tickets.create(NewTicket(email: "peter@example.com", name: "Peter Hahn", subject: "Order #1042 not picked up",
                                                       description: "I could not come on Saturday. Can I pick up my order on Monday instead?",
                                                       priority: .high), now: now)
        _ = try await tickets.customerReply(ticketID: order.ticket.id ?? 0, body: "It is two sourdough loaves and a plum cake.", now: now)
        _ = try await tickets.create(NewTicket(email: "sara@example.org", name: "Sara Lind", subject: "Allergen list",
                                               description: "Do you have a list of allergens for your cakes?", priority: .low), now: now)
    }
}
