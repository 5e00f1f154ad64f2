import FrontdeskAssets
import FrontdeskCore
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// Everything one running Frontdesk shares: configuration, database, logger, metrics, assets.
/// Built once by `FrontdeskRuntime.open(_:)`; tests open one on a temp directory.
package final class FrontdeskRuntime: Sendable {
    package let config: FrontdeskConfig
    package let database: AppDatabase
    package let logger: Logger
    package let logFile: LogFile?
    let accessLog: AccessLog
    package let registry: PrometheusCollectorRegistry
    let metricsFactory: PrometheusMetricsFactory
    let assets: AssetStore
    /// The features this runtime serves (`FeatureModules.all`, or a test's list).
    let modules: [any FeatureModule.Type]
    /// The routes of the last router built, for tests and `frontdesk doctor`.
    let routeTable = RouteTableSlot()
    let now: @Sendable () -> Date
    /// Cache, console sessions and rate limiter.
    package let state: AppState
    package let accounts: AccountStore
    /// API tokens for scripts and services (`Authorization: Bearer fd_…`).
    package let tokens: APITokenStore
    let throttle: LoginThrottle
    /// Offered while no admin exists; printed by `serve` as the setup link.
    package let setupToken = SetupToken()
    /// The base of links in mails: `server.public_url`, else the address the server bound to.
    package let links: PublicLinks
    package let outbox: MailOutbox
    /// Every mail template, the features' own included (`FeatureModule.mailTemplates`).
    let mailTemplates: MailTemplates
    let mailTransport: any MailTransport
    package let contacts: ContactStore
    package let newsletter: NewsletterStore
    package let tickets: TicketStore
    /// Where the stores queue webhook events; nil when the webhooks module is not served.
    package let webhookOutbox: WebhookOutbox?
    let idempotency: IdempotencyStore
    let formGuard: FormGuard
    let ticketSecret: Data
    /// Live chat: sockets, presence, fan-out.
    package let chat: ChatHub
    /// Deadlines and the per-address cap of every HTTP connection.
    let connections: ConnectionGuard
    /// Mails a visitor may make the server send per day, counted per client address across the
    /// forms and the chat socket.
    let mailBudget: VisitorMailBudget
    /// Visitor analytics: `analytics.sqlite` with its own pool and writers, the ingest queue, the daily salt.
    package let analytics: AnalyticsRuntime
    /// Notification banners: the store and the scheduler that pushes publish, withdraw and schedule edges live.
    package let engage: EngageScheduler
    /// The certificate the listener serves when `server.tls_cert` and `server.tls_key` are set;
    /// nil for plain HTTP (behind a TLS proxy).
    let tls: TLSCertificates?
    /// The scheme of the main listener: "https" when serving TLS.
    package var scheme: String { tls == nil ? "http" : "https" }

    /// Creates the data directory, opens the log file and the database, and applies migrations.
    package static func open(_ config: FrontdeskConfig, echoLogsToStderr: Bool = false, passwordHasher: PasswordHasher = PasswordHasher(),
                            now: @escaping @Sendable () -> Date = { Date() }) throws -> FrontdeskRuntime {
        try open(config, echoLogsToStderr: echoLogsToStderr, passwordHasher: passwordHasher, modules: FeatureModules.all, now: now)
    }

    /// `open(_:)` with another list of feature modules (tests add a fixture module this way).
    static func open(_ config: FrontdeskConfig, echoLogsToStderr: Bool = false, passwordHasher: PasswordHasher = PasswordHasher(),
                     modules: [any FeatureModule.Type], now: @escaping @Sendable () -> Date = { Date() }) throws -> FrontdeskRuntime {
        try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        let logFile = try LogFile(directory: config.logDirectory, maxBytes: config.logMaxSizeMiB * 1024 * 1024, keep: config.logKeepFiles)
        let level = config.logLevel
        let logger = Logger(label: "frontdesk") { label in
            JSONLogHandler(label: label, file: logFile, level: level, echoToStderr: echoLogsToStderr)
        }
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        let database = try AppDatabase(path: config.databasePath, synchronous: config.synchronous, logger: logger, metrics: factory,
                                       migrations: modules.flatMap { $0.migrations })
        try database.migrate()
        let accessLog = AccessLog(file: logFile, enabled: level <= .info, echoToStderr: echoLogsToStderr)
        return try FrontdeskRuntime(config: config, database: database, logger: logger, logFile: logFile, accessLog: accessLog,
                                    registry: registry, metricsFactory: factory, passwordHasher: passwordHasher, modules: modules, now: now)
    }

    init(config: FrontdeskConfig, database: AppDatabase, logger: Logger, logFile: LogFile?, accessLog: AccessLog, registry: PrometheusCollectorRegistry,
         metricsFactory: PrometheusMetricsFactory, passwordHasher: PasswordHasher, modules: [any FeatureModule.Type],
         now: @escaping @Sendable () -> Date) throws {
        self.config = config
        self.modules = modules
        self.database = database
        self.logger = logger
        self.logFile = logFile
        self.accessLog = accessLog
        self.registry = registry
        self.metricsFactory = metricsFactory
        self.assets = AssetStore(source: config.assetsDirectory.map { .directory($0) } ?? .embedded)
        self.now = now
        self.state = AppState(config: config, logger: logger, now: now)
        self.accounts = AccountStore(database: database, hasher: passwordHasher, now: now)
        self.tokens = APITokenStore(database: database, now: now)
        self.throttle = LoginThrottle(now: now)
        self.links = PublicLinks(configured: config.publicURL)
        self.outbox = MailOutbox(database: database, defaultSender: try config.mail.sender(), now: now)
        self.mailTransport = try config.mail.makeTransport(dataDirectory: config.dataDirectory, now: now)
        var templateSources = try Self.mailTemplateSources(assets: assets)
        if let own = config.mailTemplatesDirectory {
            templateSources.merge(try MailTemplates.sources(inDirectory: own)) { $1 }
        }
        let templates = try MailTemplates(sources: templateSources, required: modules.flatMap { $0.mailTemplates })
        self.mailTemplates = templates
        let mailer = InboxMailer(outbox: outbox, templates: templates, siteName: config.siteName, owner: try config.mail.owner(), links: links,
                                  cache: ReadThrough(cache: state.cache))
        let secret = try InstallSecret.load("secret.inbox", database: database, now: now())
        self.ticketSecret = secret
        // Webhook events are queued in the stores' own transactions, where the feature is served.
        let webhooks = modules.contains { ObjectIdentifier($0) == ObjectIdentifier(WebhooksModule.self) } ? WebhookOutbox(now: now) : nil
        self.webhookOutbox = webhooks
        var contacts = ContactStore(database: database, mailer: mailer)
        contacts.webhooks = webhooks
        self.contacts = contacts
        var newsletter = NewsletterStore(database: database, mailer: mailer, settings: config.newsletter)
        newsletter.webhooks = webhooks
        self.newsletter = newsletter
        var tickets = TicketStore(database: database, mailer: mailer, secret: secret)
        tickets.webhooks = webhooks
        self.tickets = tickets
        self.idempotency = IdempotencyStore(database: database, secret: secret)
        self.formGuard = FormGuard(secret: secret, settings: config.spam, now: now)
        self.connections = ConnectionGuard(settings: config.connections, capEnabled: config.rateLimits.enabled,
                                           trustedProxies: Set(config.trustedProxies), metrics: metricsFactory)
        self.mailBudget = VisitorMailBudget(dailyLimit: config.mail.visitorDailyLimit, enabled: config.rateLimits.enabled,
                                            metrics: metricsFactory, now: now)
        self.analytics = try AnalyticsRuntime(config: config, logger: logger, metrics: metricsFactory, now: now)
        self.chat = ChatHub.make(config: config, database: database, state: state, accounts: accounts, outbox: outbox, templates: templates,
                                 tickets: tickets, mailBudget: mailBudget, webhooks: webhooks, logger: logger, now: now)
        self.engage = EngageScheduler.make(config: config, database: database, cache: ReadThrough(cache: state.cache), hub: chat,
                                           timeZone: analytics.timeZone, logger: logger, now: now)
        // The files were checked with the configuration; read again here, they may have changed since.
        self.tls = try config.tlsFiles.map {
            try TLSCertificates(certificatePath: $0.certificate, keyPath: $0.key, http2: config[TLSSettings.http2], logger: logger)
        }
    }

    /// The mail templates: `Resources/mail/*.mustache` from the binary, or from `--assets-dir`.
    static func mailTemplateSources(assets: AssetStore) throws -> [String: String] {
        if case .directory(let root) = assets.source {
            return try MailTemplates.sources(inDirectory: (root as NSString).appendingPathComponent("mail"))
        }
        var sources: [String: String] = [:]
        for (path, data) in EmbeddedAssets.files where path.hasPrefix("mail/") && path.hasSuffix(".mustache") {
            sources[String(path.dropFirst("mail/".count))] = String(decoding: data, as: UTF8.self)
        }
        return sources
    }

    /// Restores sessions, seeds demo content in demo mode, and issues the setup token when no admin exists.
    package func prepare() async throws {
        state.restoreSessions()
        let settings = AppSettingsStore(database: database)
        // Before the seeds: the demo's chat history is answered by the demo account.
        if config.demo { _ = try await DemoAccount.ensure(accounts: accounts, settings: settings, now: now()) }
        if config.demo, try await settings.value(for: DemoContent.seededKey) == nil {
            let context = FeatureContext(runtime: self)
            for module in modules {
                try await module.init(context).seedDemo(now: now())
            }
            try await settings.set(DemoContent.seededKey, to: "true", now: now())
        }
        if !(try await accounts.adminExists()) {
            _ = setupToken.issue()
        }
    }

    /// The demo console sign-in (`serve --demo`), printed on every start; nil outside demo mode.
    package func demoAccount() async throws -> DemoAccount? {
        guard config.demo else { return nil }
        return try await DemoAccount.stored(in: AppSettingsStore(database: database))
    }

    /// The link that creates the first admin, while none exists.
    package func setupURL(base: String) -> String? {
        guard setupToken.isPending else { return nil }
        return "\(base)admin/setup#token=\(setupToken.issue())"
    }

    /// The long-lived services besides the HTTP server: the state snapshotter, then each
    /// feature module's.
    package func services() -> [any Service] {
        let context = FeatureContext(runtime: self)
        return [StateMaintenanceService(state: state, database: database, interval: .seconds(config.sessionSnapshotSeconds),
                                        clock: ContinuousClock(), now: now, logger: logger)]
            + modules.flatMap { $0.init(context).services() }
    }
}

/// Builds the router: the edge middleware, the policy groups, then each feature's routes.
package func buildRouter(_ runtime: FrontdeskRuntime) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self, options: [.autoGenerateHeadEndpoints])
    let config = runtime.config
    let publicOrigin = URL(string: config.publicURL).flatMap { url -> String? in
        guard let scheme = url.scheme, let host = url.host else { return nil }
        return "\(scheme)://\(host)" + (url.port.map { ":\($0)" } ?? "")
    }
    let table = RouteTable()
    // Outermost, so that every answer of the TLS listener carries it, the edge's error answers too.
    if runtime.tls != nil, config[TLSSettings.hstsMaxAge] > 0 {
        router.add(middleware: StrictTransportSecurityMiddleware(maxAgeSeconds: config[TLSSettings.hstsMaxAge]))
    }
    router.add(middleware: RequestEdgeMiddleware(logger: runtime.logger, accessLog: runtime.accessLog,
                                                 metrics: HTTPMetrics(factory: runtime.metricsFactory),
                                                 maxBodyBytes: config.maxBodyBytes,
                                                 addresses: ClientAddressResolver(trustedProxies: Set(config.trustedProxies)),
                                                 errors: ErrorMiddleware(logger: runtime.logger, routes: table),
                                                 listenerIsTLS: runtime.tls != nil))
    let context = FeatureContext(runtime: runtime)
    let routes = Routes(router: router, table: table, runtime: runtime, users: context.users, publicOrigin: publicOrigin)
    for module in runtime.modules {
        module.init(context).addRoutes(to: routes)
    }
    runtime.routeTable.adopt(table)
    return router
}

/// The composition root: the HTTP application with every long-lived service attached.
///
/// - Parameter onServerRunning: called with the bound address once the socket listens.
package func buildApplication(_ runtime: FrontdeskRuntime, onServerRunning: @escaping @Sendable (String, Int) async -> Void = { _, _ in }) -> some ApplicationProtocol {
    let router = buildRouter(runtime)
    let server: HTTPServerBuilder
    if let certificates = runtime.tls {
        server = runtime.connections.tlsWithWebSocketUpgrade(certificates: certificates, webSocketRouter: ChatSockets(runtime: runtime).router(),
                                                             configuration: ChatSockets.serverConfiguration(runtime.config))
    } else {
        server = runtime.connections.http1WebSocketUpgrade(webSocketRouter: ChatSockets(runtime: runtime).router(),
                                                           configuration: ChatSockets.serverConfiguration(runtime.config))
    }
    return Application(
        router: router,
        server: server,
        configuration: .init(address: .hostname(runtime.config.host, port: runtime.config.port), serverName: nil),
        onServerRunning: { channel in
            let address = channel.localAddress
            if runtime.config.publicURL.isEmpty, let port = address?.port {
                let host = runtime.config.host == "0.0.0.0" || runtime.config.host == "::" ? "localhost" : runtime.config.host
                runtime.links.setBase("\(runtime.scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)")
            }
            await onServerRunning(address?.ipAddress ?? runtime.config.host, address?.port ?? runtime.config.port)
        },
        logger: runtime.logger
    )
}

/// Closes the database after the HTTP server has drained: flushes group-commit writes, checkpoints
/// the WAL, closes the pool and flushes the log file.
package struct DatabaseShutdownService: Service {
    let runtime: FrontdeskRuntime

    package init(runtime: FrontdeskRuntime) {
        self.runtime = runtime
    }

    package func run() async throws {
        try? await gracefulShutdown()
        await runtime.database.writer.flush()
        do {
            try runtime.database.close()
            runtime.logger.info("database closed")
        } catch {
            runtime.logger.error("closing the database failed", metadata: ["error": "\(error)"])
        }
        runtime.logFile?.flush()
    }
}

/// Runs Frontdesk until SIGTERM or SIGINT, then drains requests for up to `drain_seconds`,
/// flushes writes and closes the database.
package func runFrontdesk(_ runtime: FrontdeskRuntime, onServerRunning: @escaping @Sendable (String, Int) async -> Void) async throws {
    let boundPort = Locked(runtime.config.port)
    let app = buildApplication(runtime) { host, port in
        boundPort.withLock { $0 = port }
        await onServerRunning(host, port)
    }
    // SIGHUP reloads the TLS certificate; serving TLS, the optional plain-HTTP listener redirects.
    var tlsServices: [any Service] = [TLSReloadService(certificates: runtime.tls, logger: runtime.logger)]
    if runtime.tls != nil, runtime.config[TLSSettings.redirectPort] != 0 {
        tlsServices.append(HTTPSRedirect.application(runtime: runtime, tlsPort: { boundPort.withLock { $0 } }))
    }
    // Services shut down in reverse order: the HTTP server drains first, the database closes last.
    let group = ServiceGroup(configuration: .init(
        services: [.init(service: DatabaseShutdownService(runtime: runtime))]
            + runtime.services().map { .init(service: $0) }
            + tlsServices.map { .init(service: $0) }
            + [.init(service: app)],
        gracefulShutdownSignals: [.sigterm, .sigint],
        cancellationSignals: [],
        logger: runtime.logger
    ))
    try await group.run()
}
