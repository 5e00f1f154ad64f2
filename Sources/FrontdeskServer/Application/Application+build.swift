import FrontdeskCore
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// Everything one running Frontdesk shares: configuration, database, logger, metrics, assets.
/// Built once by `FrontdeskRuntime.open(_:)`; tests open one on a temp directory.
public final class FrontdeskRuntime: Sendable {
    public let config: FrontdeskConfig
    public let database: AppDatabase
    public let logger: Logger
    public let logFile: LogFile?
    let accessLog: AccessLog
    public let registry: PrometheusCollectorRegistry
    let metricsFactory: PrometheusMetricsFactory
    let assets: AssetStore
    let contract: APIContract
    let now: @Sendable () -> Date

    /// Creates the data directory, opens the log file and the database, and applies migrations.
    public static func open(_ config: FrontdeskConfig, echoLogsToStderr: Bool = false, now: @escaping @Sendable () -> Date = { Date() }) throws -> FrontdeskRuntime {
        try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        let logFile = try LogFile(directory: config.logDirectory, maxBytes: config.logMaxSizeMiB * 1024 * 1024, keep: config.logKeepFiles)
        let level = config.logLevel
        let logger = Logger(label: "frontdesk") { label in
            JSONLogHandler(label: label, file: logFile, level: level, echoToStderr: echoLogsToStderr)
        }
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        let database = try AppDatabase(path: config.databasePath, synchronous: config.synchronous, logger: logger, metrics: factory)
        try database.migrate()
        let accessLog = AccessLog(file: logFile, enabled: level <= .info, echoToStderr: echoLogsToStderr)
        return FrontdeskRuntime(config: config, database: database, logger: logger, logFile: logFile, accessLog: accessLog,
                                registry: registry, metricsFactory: factory, now: now)
    }

    init(config: FrontdeskConfig, database: AppDatabase, logger: Logger, logFile: LogFile?, accessLog: AccessLog, registry: PrometheusCollectorRegistry,
         metricsFactory: PrometheusMetricsFactory, now: @escaping @Sendable () -> Date) {
        self.config = config
        self.database = database
        self.logger = logger
        self.logFile = logFile
        self.accessLog = accessLog
        self.registry = registry
        self.metricsFactory = metricsFactory
        self.assets = AssetStore(source: config.assetsDirectory.map { .directory($0) } ?? .embedded)
        self.contract = APIContract(openAPIDocument: assets.data("web/api/openapi.json"))
        self.now = now
    }

    /// Seeds demo content when demo mode is on.
    public func prepare() async throws {
        if config.demo {
            try await DemoSeeder(database: database).seed(now: now())
        }
    }
}

/// Builds the router: middleware first, then each feature's controller.
public func buildRouter(_ runtime: FrontdeskRuntime) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self, options: [.autoGenerateHeadEndpoints])
    router.add(middleware: RequestEdgeMiddleware(logger: runtime.logger, accessLog: runtime.accessLog,
                                                 metrics: HTTPMetrics(factory: runtime.metricsFactory),
                                                 maxBodyBytes: runtime.config.maxBodyBytes))
    router.add(middleware: ErrorMiddleware(logger: runtime.logger, contract: runtime.contract))
    router.add(middleware: CORSMiddleware(siteOrigins: Set(runtime.config.siteOrigins)))
    HealthController(database: runtime.database, registry: runtime.registry).addRoutes(to: router)
    AssetController(assets: runtime.assets, demo: runtime.config.demo).addRoutes(to: router)
    ContactController(store: ContactStore(database: runtime.database), now: runtime.now).addRoutes(to: router)
    return router
}

/// The composition root: the HTTP application with every long-lived service attached.
///
/// - Parameter onServerRunning: called with the bound address once the socket listens.
public func buildApplication(_ runtime: FrontdeskRuntime, onServerRunning: @escaping @Sendable (String, Int) async -> Void = { _, _ in }) -> some ApplicationProtocol {
    let router = buildRouter(runtime)
    return Application(
        router: router,
        configuration: .init(address: .hostname(runtime.config.host, port: runtime.config.port), serverName: nil),
        onServerRunning: { channel in
            let address = channel.localAddress
            await onServerRunning(address?.ipAddress ?? runtime.config.host, address?.port ?? runtime.config.port)
        },
        logger: runtime.logger
    )
}

/// Closes the database after the HTTP server has drained: flushes group-commit writes, checkpoints
/// the WAL, closes the pool and flushes the log file.
public struct DatabaseShutdownService: Service {
    let runtime: FrontdeskRuntime

    public init(runtime: FrontdeskRuntime) {
        self.runtime = runtime
    }

    public func run() async throws {
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
public func runFrontdesk(_ runtime: FrontdeskRuntime, onServerRunning: @escaping @Sendable (String, Int) async -> Void) async throws {
    let app = buildApplication(runtime, onServerRunning: onServerRunning)
    // Services shut down in reverse order: the HTTP server drains first, the database closes last.
    let group = ServiceGroup(configuration: .init(
        services: [
            .init(service: DatabaseShutdownService(runtime: runtime)),
            .init(service: app),
        ],
        gracefulShutdownSignals: [.sigterm, .sigint],
        cancellationSignals: [],
        logger: runtime.logger
    ))
    try await group.run()
}
