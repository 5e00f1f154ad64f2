import FrontdeskCore
import Foundation
import ServiceLifecycle

/// One feature as the composition root sees it: what it adds to the running Frontdesk.
///
/// A feature's store, records and migrations live in `FrontdeskCore/<Feature>/`; its module,
/// controllers and DTOs in `FrontdeskServer/<Feature>/`. The module is the one place that says
/// what the feature contributes — routes to the policy groups (`Routes`), long-lived services,
/// settings for the one catalogue, schema steps — and adding the feature to Frontdesk is one
/// line in `FeatureModules.all`.
protocol FeatureModule {
    /// The feature's settings (`Setting.spec` of each), gathered into the one catalogue: parsed
    /// from every source, printed by `check-config --print-defaults`, listed in the README.
    static var settings: [SettingSpec] { get }
    /// The feature's schema steps with global, numbered ids, applied after the built-in ones.
    static var migrations: [SchemaMigration] { get }
    /// The mails the feature sends, by name: `Resources/mail/<name>.subject.mustache`,
    /// `<name>.txt.mustache` and usually `<name>.html.mustache`. Start-up fails naming the file
    /// when one is missing (from the binary or the owner's `mail.templates_dir`).
    static var mailTemplates: [String] { get }
    init(_ context: FeatureContext)
    /// Adds the feature's routes to the groups whose policy they need.
    func addRoutes(to routes: Routes)
    /// Services that outlive a request (workers, sweepers), run and shut down with the server.
    func services() -> [any Service]
    /// Seeds the feature's demo content for `serve --demo` through its own stores (nothing is
    /// mailed). Called once per data directory, in module order.
    func seedDemo(now: Date) async throws
    /// The personal data the feature holds, one `PersonalDataKind` per kind (its tables, how to
    /// find, export, erase or anonymise a person's rows, its retention setting and purpose).
    /// `frontdesk privacy export|erase|record`, the console's Privacy screen and the retention
    /// sweeper use every module's list; a feature that stores anything about a person declares it.
    var personalData: [any PersonalDataKind] { get }
}

extension FeatureModule {
    static var settings: [SettingSpec] { [] }
    static var migrations: [SchemaMigration] { [] }
    static var mailTemplates: [String] { [] }
    func addRoutes(to routes: Routes) {}
    func services() -> [any Service] { [] }
    func seedDemo(now: Date) async throws {}
    var personalData: [any PersonalDataKind] { [] }
}

/// What every module is built from: the runtime (configuration, databases, stores, state) and
/// the few request-path parts several features share.
struct FeatureContext {
    let runtime: FrontdeskRuntime
    /// Console users read through the cache, invalidated by account changes.
    let users: CachedUsers
    /// The form registry: field definitions, spam guard, mail budget.
    let forms: FormsController
    /// `Idempotency-Key` replay for form posts.
    let idempotent: IdempotentResponder

    init(runtime: FrontdeskRuntime) {
        self.runtime = runtime
        users = CachedUsers(store: runtime.accounts, cache: ReadThrough(cache: runtime.state.cache))
        forms = FormsController(config: runtime.config, guard: runtime.formGuard, mailBudget: runtime.mailBudget)
        idempotent = IdempotentResponder(store: runtime.idempotency, now: runtime.now)
    }
}

/// The composition root's list of features. Adding a feature is one line here.
package enum FeatureModules {
    static let all: [any FeatureModule.Type] = [
        HealthModule.self,
        HomeModule.self,
        AccountsModule.self,
        AssetsModule.self,
        InboxModule.self,
        MailModule.self,
        BackupModule.self,
        ChatModule.self,
        CannedRepliesModule.self,
        AnalyticsModule.self,
        ConsentModule.self,
        FAQModule.self,
        ReviewsModule.self,
        WebhooksModule.self,
        EngageModule.self,
        PrivacyModule.self,
    ]

    /// Every module's settings, for `FrontdeskConfig.load(features:)`.
    package static var settings: [SettingSpec] { all.flatMap { $0.settings } }
    /// Every module's schema steps, for `AppDatabase(migrations:)` outside a runtime (`frontdesk migrate`, `user`).
    package static var migrations: [SchemaMigration] { all.flatMap { $0.migrations } }
}
