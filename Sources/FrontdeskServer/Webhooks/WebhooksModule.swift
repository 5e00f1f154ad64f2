import FrontdeskCore
import Foundation
import Hummingbird
import NIOCore
import ServiceLifecycle

/// The webhooks' settings, declared once.
enum WebhookSettings {
    static let allowPrivate = Setting<Bool>.boolean("webhooks.allow_private", env: "FRONTDESK_WEBHOOKS_ALLOW_PRIVATE", default: false,
                                                    doc: "Let webhook URLs resolve to loopback, private and link-local addresses (off: such URLs are refused, against server-side request forgery into the owner's network).")
    static let caFile = Setting<String>.string("webhooks.ca_file", env: "FRONTDESK_WEBHOOKS_CA_FILE", default: "",
                                               doc: "PEM file of extra certificate authorities to trust for webhook receivers, besides the system's (empty: the system's only).")
    static let timeoutSeconds = Setting<Int>.integer("webhooks.timeout_seconds", env: "FRONTDESK_WEBHOOKS_TIMEOUT_SECONDS", default: 10, range: 1...120,
                                                     doc: "Seconds one delivery attempt may take, connecting included, before it counts as failed.")
    static let maxAttempts = Setting<Int>.integer("webhooks.max_attempts", env: "FRONTDESK_WEBHOOKS_MAX_ATTEMPTS", default: 8, range: 1...50,
                                                  doc: "Attempts before a delivery is dead-lettered (the console can redeliver it).")
    static let retryBaseSeconds = Setting<Int>.integer("webhooks.retry_base_seconds", env: "FRONTDESK_WEBHOOKS_RETRY_BASE_SECONDS", default: 30, range: 0...86_400,
                                                       doc: "Wait before the second attempt; it doubles with each further attempt (capped at six hours).")
    static let endpoints = Setting<[ConfiguredWebhook]>.structured(
        "webhooks.endpoints", env: "FRONTDESK_WEBHOOKS_ENDPOINTS", shape: "an array of tables [[webhooks.endpoints]] with url, events, secret, description, enabled",
        default: [], defaultJSON: "[]",
        doc: "Endpoints kept in this file instead of the console, each [[webhooks.endpoints]] with url (https), events (names), secret (whsec_…, what the receiver verifies with), description and enabled; written to the database at every start, shown read-only in the console.") { text in
        try ConfiguredWebhook.decode(text)
    }
}

/// Outgoing webhooks: endpoints with their events and signing secrets, the durable delivery
/// queue the stores write in their own transactions, the delivery service and its log.
struct WebhooksModule: FeatureModule {
    static var settings: [SettingSpec] {
        [WebhookSettings.allowPrivate.spec, WebhookSettings.caFile.spec, WebhookSettings.timeoutSeconds.spec, WebhookSettings.maxAttempts.spec,
         WebhookSettings.retryBaseSeconds.spec, WebhookSettings.endpoints.spec]
    }
    static var migrations: [SchemaMigration] { WebhookStore.migrations + WebhookStore.configuredMigrations }
    let context: FeatureContext
    init(_ context: FeatureContext) { self.context = context }

    /// The HTTPS client of deliveries and save-time probes, or why the TLS setup failed. Made
    /// only where it is used (routes, services): the module is also built for its demo seed and
    /// its personal-data kinds, which need no trust store read from disk.
    func makeClient() -> Result<WebhookClient, any Error> {
        let caFile = context.runtime.config[WebhookSettings.caFile]
        return Result { try WebhookClient(caFile: caFile.isEmpty ? nil : caFile) }
    }
    var personalData: [any PersonalDataKind] { [WebhookPersonalData()] }


    var store: WebhookStore {
        WebhookStore(database: context.runtime.database, outbox: context.runtime.webhookOutbox ?? WebhookOutbox(now: context.runtime.now), now: context.runtime.now)
    }

    func addRoutes(to routes: Routes) {
        let config = context.runtime.config
        WebhooksController(store: store, allowPrivate: config[WebhookSettings.allowPrivate], client: try? makeClient().get(),
                           probeTimeout: .seconds(Int64(min(config[WebhookSettings.timeoutSeconds], 5)))).addRoutes(to: routes)
    }

    func services() -> [any Service] {
        let config = context.runtime.config
        switch makeClient() {
        case .failure(let error):
            context.runtime.logger.error("webhook deliveries are off: the TLS setup failed", metadata: ["error": "\(error)"])
            return []
        case .success(let client):
            let policy = WebhookRetryPolicy(baseSeconds: Double(config[WebhookSettings.retryBaseSeconds]), maxAttempts: config[WebhookSettings.maxAttempts],
                                            timeoutSeconds: config[WebhookSettings.timeoutSeconds])
            return [WebhookDeliveryService(store: store, client: client, policy: policy, allowPrivate: config[WebhookSettings.allowPrivate],
                                           configured: config[WebhookSettings.endpoints], now: context.runtime.now, logger: context.runtime.logger)]
        }
    }
}

/// The console's webhook API (admins only; a token needs `settings:read` / `settings:write`):
/// endpoints, their deliveries with the attempt log, "send test event" and "redeliver".
struct WebhooksController: Sendable {
    let store: WebhookStore
    let allowPrivate: Bool
    /// Asks a URL being saved whether it redirects (nil: not asked).
    var client: WebhookClient? = nil
    var probeTimeout: TimeAmount = .seconds(5)

    struct EndpointView: Encodable {
        let id: Int64
        let url: String
        let description: String
        let events: [String]
        let enabled: Bool
        let createdAt: String
        let updatedAt: String
        let managedBy: String
        /// Only in the answer that creates the endpoint.
        let secret: String?

        init(_ e: WebhookEndpoint, secret: Bool = false) {
            id = e.id ?? 0; url = e.url; description = e.description; events = e.eventList; enabled = e.enabled
            createdAt = e.createdAt; updatedAt = e.updatedAt; managedBy = e.managedBy; self.secret = secret ? e.secret : nil
        }
    }

    struct DeliveryView: Encodable {
        let id: Int64
        let endpointId: Int64
        let eventType: String
        let messageId: String
        let status: String
        let attempts: Int
        let nextAttemptAt: String?
        let lastStatusCode: Int?
        let lastError: String?
        let createdAt: String
        let deliveredAt: String?
        let log: [AttemptView]?

        init(_ d: WebhookDelivery, log: [WebhookAttempt]? = nil) {
            id = d.id ?? 0; endpointId = d.endpointId; eventType = d.eventType; messageId = d.messageId; status = d.status.rawValue
            attempts = d.attempts; nextAttemptAt = d.status == .pending ? d.nextAttemptAt : nil; lastStatusCode = d.lastStatusCode
            lastError = d.lastError; createdAt = d.createdAt; deliveredAt = d.deliveredAt; self.log = log?.map(AttemptView.init)
        }
    }

    struct AttemptView: Encodable {
        let attemptedAt: String
        let statusCode: Int?
        let error: String?
        let durationMs: Int
        init(_ a: WebhookAttempt) { attemptedAt = a.attemptedAt; statusCode = a.statusCode; error = a.error; durationMs = a.durationMs }
    }

    /// Reads and checks an endpoint body: a URL that passes the SSRF rules now and does not
    /// redirect, known events.
    func read(_ json: [String: JSONValue], creating: Bool) async throws -> (url: String?, events: [String]?, description: String?, enabled: Bool?) {
        var reader = FieldReader(json, allowed: ["url", "events", "description", "enabled"])
        let url = reader.text("url", required: creating, maxLength: 2048)
        let description = reader.text("description", required: false, maxLength: 200)
        var events: [String]?
        switch json["events"] {
        case nil: if creating { reader.fail("events", "is required") }
        case .array(let items)?:
            var list: [String] = []
            for item in items {
                guard case .string(let name) = item, WebhookEvents.all.contains(name) else {
                    reader.fail("events", "must list events from: \(WebhookEvents.all.joined(separator: ", "))"); break
                }
                if !list.contains(name) { list.append(name) }
            }
            if items.isEmpty { reader.fail("events", "must name at least one event") }
            if items.count > 50 { reader.fail("events", "must have at most 50 entries") }
            events = list
        case let other?: reader.fail("events", "must be an array of event names, not \(other.typeName)")
        }
        var enabled: Bool?
        switch json["enabled"] {
        case nil: break
        case .bool(let value)?: enabled = value
        case let other?: reader.fail("enabled", "must be true or false, not \(other.typeName)")
        }
        var target: WebhookTarget?
        if let url {
            switch WebhookTarget.resolve(url, allowPrivate: allowPrivate) {
            case .success(let checked): target = checked
            case .failure(let refusal): reader.fail("url", refusal.description)
            }
        }
        try reader.validate()
        // Deliveries never follow a redirect (it could lead anywhere the address checks did not
        // look), so a URL that answers with one would fail every delivery: refused now, naming
        // where it points. No answer at all is not refused: the receiver may not be up yet.
        if let target, let client {
            let answer = await client.probe(target, timeout: probeTimeout)
            if answer.redirected, let status = answer.statusCode {
                reader.fail("url", "redirects (\(status))\(WebhookClient.Outcome.pointing(to: answer.location)); deliveries never follow redirects, so save the address it redirects to")
                try reader.validate()
            }
        }
        return (url, events, description, enabled)
    }

    func addRoutes(to routes: Routes) {
        let group = routes.admin.group("/webhooks")
        group.get { _, context in
            try context.requireAdminRole()
            return try Response.json(Items(items: try await store.endpoints().map { EndpointView($0) }))
        }
        group.post { request, context in
            try context.requireAdminRole()
            let input = try await read(try await request.jsonObject(context: context), creating: true)
            let endpoint = try await store.createEndpoint(url: input.url ?? "", events: input.events ?? [], description: input.description ?? "")
            context.logger.notice("webhook endpoint created", metadata: ["endpoint_id": "\(endpoint.id ?? 0)", "by": "\(context.admin.id)"])
            return try Response.json(EndpointView(endpoint, secret: true), status: .created, headers: [.cacheControl: "no-store"])
        }
        group.patch("/:id") { request, context in
            try context.requireAdminRole()
            let id = try AdminRoutes.id(context)
            let input = try await read(try await request.jsonObject(context: context), creating: false)
            let endpoint = try await store.updateEndpoint(id: id, url: input.url, events: input.events, description: input.description, enabled: input.enabled)
            return try Response.json(EndpointView(endpoint))
        }
        group.delete("/:id") { _, context in
            try context.requireAdminRole()
            try await store.deleteEndpoint(id: try AdminRoutes.id(context))
            return Response(status: .noContent)
        }
        group.get("/:id/deliveries") { _, context in
            try context.requireAdminRole()
            let id = try AdminRoutes.id(context)
            guard try await store.endpoint(id: id) != nil else { throw FrontdeskError.notFound("The webhook endpoint") }
            var views: [DeliveryView] = []
            for delivery in try await store.deliveries(endpointId: id) {
                views.append(DeliveryView(delivery, log: try await store.attempts(deliveryId: delivery.id ?? 0)))
            }
            return try Response.json(Items(items: views))
        }
        group.post("/:id/test") { _, context in
            try context.requireAdminRole()
            let delivery = try await store.sendTest(endpointId: try AdminRoutes.id(context))
            return try Response.json(DeliveryView(delivery), status: .accepted)
        }
        routes.admin.post("/webhook-deliveries/:id/redeliver") { _, context in
            try context.requireAdminRole()
            let delivery = try await store.redeliver(id: try AdminRoutes.id(context))
            return try Response.json(DeliveryView(delivery), status: .accepted)
        }
    }
}
