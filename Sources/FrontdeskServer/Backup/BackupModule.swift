import FrontdeskCore
import ServiceLifecycle

/// Scheduled backups while serving (`backup.interval_hours`; 0 turns them off).
struct BackupModule: FeatureModule {
    let context: FeatureContext
    init(_ context: FeatureContext) { self.context = context }

    func services() -> [any Service] {
        let runtime = context.runtime
        let config = runtime.config
        guard config.backupIntervalHours > 0 else { return [] }
        return [BackupService(database: runtime.database, sessionsPath: runtime.state.snapshotPath, directory: config.backupDirectory,
                              interval: .seconds(config.backupIntervalHours * 3600), keep: config.backupKeep,
                              clock: ContinuousClock(), now: runtime.now, logger: runtime.logger)]
    }
}
