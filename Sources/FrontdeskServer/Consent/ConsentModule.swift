import FrontdeskCore
import Foundation
import Metrics
import ServiceLifecycle
import Synchronization

/// Cookie consent with server-side proof: the published banner for the widget, the append-only
/// proof-of-consent log, the console's editor, log search, statistics and export, and the daily
/// retention sweep.
struct ConsentModule: FeatureModule {
    static var settings: [SettingSpec] { ConsentSettings.all }
    static var migrations: [SchemaMigration] { ConsentStore.migrations }
    let context: FeatureContext
    let banner: ConsentBanner
    var personalData: [any PersonalDataKind] { [ConsentPersonalData()] }

    init(_ context: FeatureContext) {
        self.context = context
        let runtime = context.runtime
        banner = ConsentBanner(store: ConsentStore(database: runtime.database, logger: runtime.logger),
                               defaults: ConsentSettings.defaults(runtime.config), now: runtime.now)
    }

    func addRoutes(to routes: Routes) {
        let runtime = context.runtime
        ConsentController(banner: banner, maxAgeDays: runtime.config[ConsentSettings.maxAgeDays], metrics: runtime.metricsFactory, now: runtime.now)
            .addRoutes(to: routes)
        ConsentAdminController(banner: banner, now: runtime.now).addRoutes(to: routes)
    }

    /// A fortnight of proof-of-consent rows, so the console's log and chart have something to show.
    func seedDemo(now: Date) async throws {
        let version = try await banner.current()
        var generator = SystemRandomNumberGenerator()
        for day in 0..<14 {
            for _ in 0..<(3 + Int(generator.next() % 6)) {
                let roll = Int(generator.next() % 10)
                let (action, granted) = roll < 5 ? ("accept_all", version.configuration.offered) : roll < 8 ? ("reject_all", ["necessary"]) : ("custom", ["necessary", "functional"])
                let locale = ["en", "de", "fr"][Int(generator.next() % 3)]
                let at = now.addingTimeInterval(-Double(day) * 86_400 - Double(generator.next() % 80_000))
                _ = try await banner.store.record(NewConsent(consentID: nil, action: action, granted: granted, version: version.version,
                                                             textHash: version.textHashes[locale] ?? "", locale: locale, pagePath: "/demo", gpc: false),
                                                  clientNetwork: "203.0.113.0", browserFamily: ["Firefox", "Chrome", "Safari"][Int(generator.next() % 3)], now: at)
            }
        }
    }

    func services() -> [any Service] {
        let runtime = context.runtime
        return [ConsentRetentionService(store: banner.store, retentionDays: runtime.config[ConsentSettings.logRetentionDays], interval: .seconds(86_400),
                                        clock: ContinuousClock(), now: runtime.now, logger: runtime.logger)]
    }
}

/// The published banner: the first use publishes the TOML defaults when they are new or
/// changed (`ConsentStore.ensurePublished`), exactly once however many requests ask at once.
final class ConsentBanner: Sendable {
    let store: ConsentStore
    let defaults: ConsentConfiguration
    let now: @Sendable () -> Date
    private let first = Mutex<Task<ConsentVersion, any Error>?>(nil)

    init(store: ConsentStore, defaults: ConsentConfiguration, now: @escaping @Sendable () -> Date) {
        self.store = store
        self.defaults = defaults
        self.now = now
    }

    /// The version visitors are shown now.
    func current() async throws -> ConsentVersion {
        let task = first.withLock { task in
            if let task { return task }
            let (store, defaults, now) = (store, defaults, now)
            let created = Task { try await store.ensurePublished(defaults: defaults, now: now()) }
            task = created
            return created
        }
        do {
            _ = try await task.value
        } catch {
            first.withLock { $0 = nil }
            throw error
        }
        guard let latest = try await store.latest() else { throw FrontdeskError(.internal, code: "internal_error", message: "No consent version.") }
        return latest
    }
}
