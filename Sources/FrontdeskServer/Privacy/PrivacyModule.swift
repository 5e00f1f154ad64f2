import FrontdeskCore
import Foundation
import Metrics
import ServiceLifecycle

/// The privacy tools' settings, declared once beside the feature.
package enum PrivacySettings {
    package static let autoApproveAccess = Setting<Bool>.boolean(
        "privacy.auto_approve_access", env: "FRONTDESK_PRIVACY_AUTO_APPROVE_ACCESS", default: false,
        doc: "Mail the download link of a visitor's confirmed access request at once, without an admin approving it in the console.")
    package static let downloadHours = Setting<Int>.integer(
        "privacy.download_hours", env: "FRONTDESK_PRIVACY_DOWNLOAD_HOURS", default: 72, range: 1...720,
        doc: "Hours the single-use download link that answers an access request works.")
    package static let sweepIntervalMinutes = Setting<Int>.integer(
        "retention.sweep_interval_minutes", env: "FRONTDESK_RETENTION_SWEEP_INTERVAL_MINUTES", default: 60, range: 1...1440,
        doc: "Minutes between two runs of the retention sweeper, which removes what each retention.* setting (and tracking.raw_retention_days, consent.log_retention_days) says has expired.")
    package static let sweepBatch = Setting<Int>.integer(
        "retention.sweep_batch", env: "FRONTDESK_RETENTION_SWEEP_BATCH", default: 500, range: 10...100_000,
        doc: "Rows the retention sweeper removes per transaction; it yields between batches so requests never wait behind a long delete.")

    static var all: [SettingSpec] { [autoApproveAccess.spec, downloadHours.spec, sweepIntervalMinutes.spec, sweepBatch.spec] }
}

/// Privacy tools: the erasure and request logs, export and erasure over every module's
/// `personalData` (console and CLI), visitors' own requests confirmed by mail, the record of
/// processing, and the retention sweeper.
struct PrivacyModule: FeatureModule {
    static var settings: [SettingSpec] { PrivacySettings.all }
    static var migrations: [SchemaMigration] { PrivacyLog.migrations }
    static var mailTemplates: [String] { PrivacyMailer.templates }
    let context: FeatureContext
    init(_ context: FeatureContext) { self.context = context }
    var personalData: [any PersonalDataKind] { [PrivacyRequestsPersonalData()] }

    func addRoutes(to routes: Routes) {
        let runtime = context.runtime
        let service = PrivacyService(runtime: runtime)
        let requests = PrivacyRequestStore(database: runtime.database)
        let mailer = PrivacyMailer(outbox: runtime.outbox, templates: runtime.mailTemplates, siteName: runtime.config.siteName, links: runtime.links)
        let answers = PrivacyAnswers(service: service, requests: requests, mailer: mailer, downloadHours: runtime.config[PrivacySettings.downloadHours],
                                     now: runtime.now)
        PrivacyAdminController(service: service, answers: answers, config: runtime.config, now: runtime.now).addRoutes(to: routes)
        PrivacyRequestController(answers: answers, forms: context.forms, siteName: runtime.config.siteName,
                                 autoApproveAccess: runtime.config[PrivacySettings.autoApproveAccess], now: runtime.now).addRoutes(to: routes)
    }

    func services() -> [any Service] {
        let runtime = context.runtime
        let config = runtime.config
        return [RetentionSweeper(service: PrivacyService(runtime: runtime), interval: .seconds(config[PrivacySettings.sweepIntervalMinutes] * 60),
                                 batch: config[PrivacySettings.sweepBatch], clock: ContinuousClock(), now: runtime.now, logger: runtime.logger,
                                 metrics: runtime.metricsFactory)]
    }
}
