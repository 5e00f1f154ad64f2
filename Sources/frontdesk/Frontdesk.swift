import ArgumentParser
import Foundation
import FrontdeskCore

/// The `frontdesk` command: one binary for the whole front desk.
@main
struct Frontdesk: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frontdesk",
        abstract: "Live chat, forms, newsletter, tickets and visitor analytics for a small website, in one binary.",
        discussion: """
        Start with `frontdesk serve`: it needs no configuration, keeps its data in ./frontdesk-data
        and listens on http://127.0.0.1:8080/.
        """,
        version: FrontdeskVersion.current,
        subcommands: [Serve.self, Migrate.self, UserCommand.self, TokenCommand.self, BackupCommand.self, RestoreCommand.self, CheckConfig.self, Doctor.self, AnalyticsCommand.self, ConsentCommand.self, PrivacyCommand.self, NewsletterCommand.self, InboxExport.self, Version.self,
                      UserAgentCommand.self, GeoIPCommand.self]
    )
}

/// Options every command that opens the data directory shares.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("TOML configuration file.", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Data directory (database, snapshots, mail spool, backups). Default: ./frontdesk-data", valueName: "dir"))
    var dataDir: String?

    /// Setting keys given as flags, for `FrontdeskConfig.load`.
    var flagValues: [String: String] {
        var values: [String: String] = [:]
        if let dataDir { values["storage.data_dir"] = dataDir }
        return values
    }

    /// The installed package's configuration file.
    static let installedConfig = "/etc/frontdesk/frontdesk.toml"

    /// The configuration file: `--config`, else `FRONTDESK_CONFIG`, else the installed package's
    /// file when there is one, so `frontdesk user add` on a server finds /var/lib/frontdesk.
    func configFile(environment: [String: String]) -> String? {
        if let config { return config }
        if let fromEnvironment = environment["FRONTDESK_CONFIG"], !fromEnvironment.isEmpty { return fromEnvironment }
        return FileManager.default.isReadableFile(atPath: Self.installedConfig) ? Self.installedConfig : nil
    }
}
