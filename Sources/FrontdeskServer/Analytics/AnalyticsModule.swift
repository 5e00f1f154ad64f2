import FrontdeskCore
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// Visitor analytics settings, declared once beside the feature.
enum AnalyticsSettings {
    static let timezone = Setting<String>.string("tracking.timezone", env: "FRONTDESK_TRACKING_TIMEZONE", default: "UTC",
                                                 doc: "The site's time zone (an IANA name such as \"Europe/Berlin\"): where days begin for the daily visitor salt, daily figures and day/week/month buckets.")
    static let rawRetentionDays = Setting<Int>.integer("tracking.raw_retention_days", env: "FRONTDESK_TRACKING_RAW_RETENTION_DAYS", default: 400, range: 1...3650,
                                                       doc: "Days raw page views, events and visits are kept in analytics.sqlite; rollups are kept until deleted.")
    static let hourlyDetailDays = Setting<Int>.integer("tracking.hourly_detail_days", env: "FRONTDESK_TRACKING_HOURLY_DETAIL_DAYS", default: 31, range: 1...3650,
                                                       doc: "Days the hourly rollups per dimension (pages, sources, … by hour) are kept; daily rollups and hourly totals are kept until deleted.")
    static let geoipDatabase = Setting<String>.string("tracking.geoip_db", env: "FRONTDESK_TRACKING_GEOIP_DB", default: "",
                                                      doc: "Path of a MaxMind-format country database (.mmdb, e.g. DB-IP Lite or GeoLite2); empty: countries are unknown.")
    static let maxValuesPerHour = Setting<Int>.integer("tracking.rollup_max_values", env: "FRONTDESK_TRACKING_ROLLUP_MAX_VALUES", default: 1000, range: 10...100_000,
                                                       doc: "Distinct values kept per dimension and hour (and day) in the rollups; the rest are counted as \"(other)\".")
    static let eventsPerMinute = Setting<Int>.integer("rate_limit.events_per_minute", env: "FRONTDESK_RATE_LIMIT_EVENTS_PER_MINUTE", default: 600,
                                                      range: 1...1_000_000, doc: "Tracking beacons (POST /api/v1/events) per client address and minute.")
    static let eventsBurst = Setting<Int>.integer("rate_limit.events_burst", env: "FRONTDESK_RATE_LIMIT_EVENTS_BURST", default: 120, range: 1...1_000_000,
                                                  doc: "Tracking beacons a client address may send at once before the per-minute rate applies.")

    static var all: [SettingSpec] {
        [timezone.spec, rawRetentionDays.spec, hourlyDetailDays.spec, geoipDatabase.spec, maxValuesPerHour.spec, eventsPerMinute.spec, eventsBurst.spec]
    }
}

/// A configuration value the analytics engine cannot use.
struct AnalyticsConfigError: Error, CustomStringConvertible {
    let key: String
    let message: String
    var description: String { "configuration: \"\(key)\" \(message)" }
}

/// The country lookup for `tracking.geoip_db`: none configured → every country unknown.
///
/// The one place the lookup is made; the MaxMind reader (`.mmdb`) plugs in here.
func makeCountryLookup(path: String) throws -> any CountryLookup {
    if path.isEmpty { return NoCountryLookup() }
    do {
        return try MaxMindCountryLookup(path: path)
    } catch {
        throw AnalyticsConfigError(key: AnalyticsSettings.geoipDatabase.spec.key, message: "cannot be used: \(error)")
    }
}

/// The analytics engine of one running Frontdesk: `analytics.sqlite`, the ingest queue, the
/// daily salt, the country lookup, and the readers of the API.
package final class AnalyticsRuntime: Sendable {
    /// Raw retention and hourly detail, as configured.
    package let retention: AnalyticsRetention
    package let database: AnalyticsDatabase
    package let ingest: AnalyticsIngest
    package let salt: VisitorSalt
    package let queries: AnalyticsQueries
    package let goals: AnalyticsGoalStore
    let countries: any CountryLookup
    package let timeZone: TimeZone

    /// `<data dir>/analytics.sqlite`.
    static func path(_ config: FrontdeskConfig) -> String {
        (config.dataDirectory as NSString).appendingPathComponent("analytics.sqlite")
    }

    package init(config: FrontdeskConfig, logger: Logger = Logger(label: "frontdesk.analytics"), metrics: any MetricsFactory = NOOPMetricsHandler.instance,
                 now: @escaping @Sendable () -> Date = { Date() }) throws {
        let zoneName = config[AnalyticsSettings.timezone]
        guard let zone = TimeZone(identifier: zoneName) else {
            throw AnalyticsConfigError(key: AnalyticsSettings.timezone.spec.key, message: "must be an IANA time zone name such as \"Europe/Berlin\", found \"\(zoneName)\"")
        }
        timeZone = zone
        countries = try makeCountryLookup(path: config[AnalyticsSettings.geoipDatabase])
        database = try AnalyticsDatabase(path: Self.path(config), synchronous: config.synchronous, logger: logger, metrics: metrics)
        ingest = AnalyticsIngest(database: database, timeZone: zone, maxValuesPerPeriod: config[AnalyticsSettings.maxValuesPerHour], logger: logger, metrics: metrics)
        salt = VisitorSalt(timeZone: zone, now: now)
        queries = AnalyticsQueries(database: database, timeZone: zone)
        goals = AnalyticsGoalStore(database: database, queries: queries)
        retention = AnalyticsRetention(database: database, retentionDays: config[AnalyticsSettings.rawRetentionDays],
                                       hourlyDetailDays: config[AnalyticsSettings.hourlyDetailDays])
    }
}

/// Sweeps raw events and visits past `tracking.raw_retention_days` every `interval`.
struct AnalyticsRetentionService<C: Clock>: Service where C.Duration == Duration {
    let retention: AnalyticsRetention
    let interval: Duration
    let clock: C
    let now: @Sendable () -> Date
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let (events, visits) = try await retention.sweep(now: now())
                    if events + visits > 0 { logger.info("analytics retention swept", metadata: ["events": "\(events)", "visits": "\(visits)"]) }
                } catch is CancellationError {
                    break
                } catch {
                    logger.error("analytics retention failed", metadata: ["error": "\(error)"])
                }
                do { try await clock.sleep(for: interval) } catch { break }
            }
        }
    }
}

/// Visitor analytics: the ingest endpoint, the batch writer, retention, and the console's API.
struct AnalyticsModule: FeatureModule {
    static var settings: [SettingSpec] { AnalyticsSettings.all }
    let context: FeatureContext
    init(_ context: FeatureContext) { self.context = context }
    var personalData: [any PersonalDataKind] {
        let config = context.runtime.config
        return [AnalyticsPersonalData(hosts: Self.siteHosts(config), retention: AnalyticsSettings.rawRetentionDays)]
    }

    /// The hosts (with a non-default port) events of the site are counted under: the site
    /// origins' and the public URL's.
    static func siteHosts(_ config: FrontdeskConfig) -> [String] {
        var hosts: Set<String> = []
        for origin in config.siteOrigins + [config.publicURL] {
            guard let url = URL(string: origin), let host = url.host?.lowercased() else { continue }
            let isDefault = url.port == nil || (url.scheme == "http" && url.port == 80) || (url.scheme == "https" && url.port == 443)
            let name = host.contains(":") ? "[\(host)]" : host
            hosts.insert(isDefault ? name : "\(name):\(url.port!)")
        }
        return hosts.sorted()
    }

    func addRoutes(to routes: Routes) {
        let runtime = context.runtime
        EventsController(analytics: runtime.analytics, siteOrigins: runtime.config.siteOrigins, now: runtime.now).addRoutes(to: routes)
        AnalyticsAdminController(analytics: runtime.analytics, now: runtime.now).addRoutes(to: routes)
        AnalyticsDashboardController(analytics: runtime.analytics, config: runtime.config, now: runtime.now).addRoutes(to: routes)
    }

    /// A month of synthetic visits (about 4,000 events) through the batch writer, so the demo's
    /// reports have something to show.
    func seedDemo(now: Date) async throws {
        let ingest = context.runtime.analytics.ingest
        var options = AnalyticsGenerator.Options(events: 4_000, months: 1, end: now)
        options.paths = 200
        options.visitors = 800
        var generator = AnalyticsGenerator(options)
        try await generator.generate { hits in
            while !ingest.enqueue(hits) { await ingest.flush() }
        }
        await ingest.flush()
    }

    func services() -> [any Service] {
        let runtime = context.runtime
        return [
            AnalyticsBatchWriterService(ingest: runtime.analytics.ingest, clock: ContinuousClock(), logger: runtime.logger),
            AnalyticsRetentionService(retention: runtime.analytics.retention,
                                      interval: .seconds(3600), clock: ContinuousClock(), now: runtime.now, logger: runtime.logger),
            AnalyticsRealtimePushService(queries: runtime.analytics.queries, hub: runtime.chat, interval: .seconds(3), clock: ContinuousClock(),
                                         now: runtime.now, logger: runtime.logger),
        ]
    }
}
