import ArgumentParser
import Foundation
import FrontdeskCore
import FrontdeskServer

/// `frontdesk migrate`: applies pending database migrations and exits.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or upgrade the database, then exit.",
        discussion: """
        `serve` migrates on start too; run this to upgrade ahead of a restart or to check a data directory.

        Examples:
          frontdesk migrate
          frontdesk migrate --data-dir /var/lib/frontdesk
        """
    )

    @OptionGroup var data: DataOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let config = try loadConfigOrExit(file: data.configFile(environment: environment), environment: environment, flags: data.flagValues)
        Privileges.dropToDataDirectoryOwner(config.dataDirectory)
        try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        let database = try AppDatabase(path: config.databasePath, synchronous: config.synchronous, migrations: FeatureModules.migrations)
        try database.migrate()
        let mode = try await database.journalMode()
        try database.close()
        print("Database \(config.databasePath) is up to date (journal mode \(mode)).")
    }
}

/// `frontdesk check-config`: reports every problem in a configuration file.
struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a configuration file and report every problem in it.",
        discussion: """
        Exits 0 when the file (with the environment's FRONTDESK_… variables) is valid, 2 otherwise.

        Examples:
          frontdesk check-config --config /etc/frontdesk/frontdesk.toml
          frontdesk check-config --print-defaults > frontdesk.toml
        """
    )

    @Option(help: ArgumentHelp("TOML configuration file to check.", valueName: "file"))
    var config: String?

    @Flag(help: "Print a configuration file that documents every setting with its default, and exit.")
    var printDefaults = false

    @Flag(help: "Print the README's Markdown table of every setting, and exit (scripts/readme-settings splices it in).")
    var printSettingsTable = false

    func validate() throws {
        if config == nil && !printDefaults && !printSettingsTable {
            throw ValidationError("Name the file to check with --config FILE (or use --print-defaults).")
        }
    }

    func run() async throws {
        if printDefaults {
            print(FrontdeskConfig.defaultsDocument(features: FeatureModules.settings), terminator: "")
            return
        }
        if printSettingsTable {
            print(FrontdeskConfig.settingsTable(features: FeatureModules.settings), terminator: "")
            return
        }
        let environment = ProcessInfo.processInfo.environment
        let resolved = try loadConfigOrExit(file: config, environment: environment, flags: [:])
        let https = resolved.tlsFiles.map { " with HTTPS (certificate \($0.certificate))" } ?? ""
        print("\(config ?? "configuration") is valid: listening on \(resolved.host):\(resolved.port)\(https), data in \(resolved.dataDirectory).")
    }
}

/// `frontdesk version`.
struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.", discussion: "Example:\n  frontdesk version")

    func run() {
        print("frontdesk \(FrontdeskVersion.current)")
    }
}

/// `frontdesk doctor`: what in the configuration is unsafe for a server on the internet.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Review the configuration for production and print what is unsafe, with the fix for each.",
        discussion: """
        Reads the configuration as `serve` would (flags > FRONTDESK_… environment > file > defaults).
        Exits 1 when something is unsafe for a server reachable from the internet, 0 otherwise.

        Examples:
          frontdesk doctor
          frontdesk doctor --config /etc/frontdesk/frontdesk.toml
        """
    )

    @OptionGroup var data: DataOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let config = try loadConfigOrExit(file: data.configFile(environment: environment), environment: environment, flags: data.flagValues)
        let findings = SecurityReview.findings(config, environment: environment)
        let unsafe = findings.filter { $0.severity == .unsafe }.count
        for finding in findings {
            print("\(finding.severity == .unsafe ? "UNSAFE" : "note  ")  \(finding.setting): \(finding.problem)")
            print("        fix: \(finding.fix)")
        }
        print(unsafe == 0 ? "doctor: nothing unsafe found (\(findings.count) notes)." : "doctor: \(unsafe) unsafe setting(s), \(findings.count - unsafe) notes.")
        if unsafe > 0 { throw ExitCode(1) }
    }
}
