import ArgumentParser
import Foundation
import FrontdeskCore
import FrontdeskServer

/// `frontdesk privacy …`: access and erasure requests answered in one step, and the record of processing.
struct PrivacyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "privacy",
        abstract: "Export or erase everything about one person; print the record of processing.",
        subcommands: [PrivacyExportCommand.self, PrivacyEraseCommand.self, PrivacyRecordCommand.self, PrivacySweepCommand.self]
    )
}

/// The one identifier a request names.
struct SubjectOptions: ParsableArguments {
    @Option(help: ArgumentHelp("An e-mail address.", valueName: "address")) var email: String?
    @Option(name: .customLong("user-id"), help: ArgumentHelp("An id the site passed to frontdesk.identify.", valueName: "id")) var userID: String?
    @Option(help: ArgumentHelp("A visitor id from the visitor's browser.", valueName: "id")) var visitor: String?
    @Option(help: ArgumentHelp("A consent id (the banner's).", valueName: "id")) var consent: String?
    @Option(help: ArgumentHelp("A support ticket id.", valueName: "id")) var ticket: String?

    func key() throws -> PrivacySubjectKey {
        let given = [("email", email), ("user_id", userID), ("visitor", visitor), ("consent", consent), ("ticket", ticket)].compactMap { kind, value in
            value.map { (kind, $0) }
        }
        guard given.count == 1, let (kind, value) = given.first else {
            throw ValidationError("name exactly one subject: --email, --user-id, --visitor, --consent or --ticket")
        }
        guard let key = PrivacySubjectKey(kind: kind, value: value) else {
            throw ValidationError("--\(kind.replacingOccurrences(of: "_", with: "-")) \"\(value)\" is not a valid \(kind == "email" ? "e-mail address" : kind)")
        }
        return key
    }
}

/// Opens the runtime of the configured data directory for a privacy command.
private func openRuntime(_ data: DataOptions) throws -> FrontdeskRuntime {
    let environment = ProcessInfo.processInfo.environment
    let config = try loadConfigOrExit(file: data.configFile(environment: environment), environment: environment, flags: data.flagValues)
    Privileges.dropToDataDirectoryOwner(config.dataDirectory)
    return try FrontdeskRuntime.open(config)
}

private func close(_ runtime: FrontdeskRuntime) {
    try? runtime.analytics.database.close()
    try? runtime.database.close()
    runtime.logFile?.flush()
}

/// `frontdesk privacy export`: one JSON document (or its HTML rendering) with every row about one person.
struct PrivacyExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write everything held about one person as JSON (or HTML), with the manifest of what was searched.",
        discussion: """
        Searches every table of frontdesk.sqlite and analytics.sqlite and the mail spool, following
        links between features (a chat visitor who left an e-mail, the ticket made from that chat).
        An unknown subject gives an empty document with the manifest. Safe while the server runs.

        Examples:
          frontdesk privacy export --email ada@example.com --out ada.json
          frontdesk privacy export --visitor 3f9c2b1e8a7d6c5b --out visitor.html
        """
    )

    @OptionGroup var data: DataOptions
    @OptionGroup var subject: SubjectOptions
    @Option(help: ArgumentHelp("Write to this file instead of standard output (.html writes the HTML rendering).", valueName: "file")) var out: String?
    @Option(help: "json or html (default: from --out's extension, else json).") var format: String?

    func run() async throws {
        let key = try subject.key()
        let html = (format ?? ((out?.lowercased().hasSuffix(".html") ?? false) ? "html" : "json")) == "html"
        let runtime = try openRuntime(data)
        defer { close(runtime) }
        let document = try await PrivacyService(runtime: runtime).export(key)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let bytes = html ? Data(PrivacyHTML.render(document).utf8) : try encoder.encode(document) + Data("\n".utf8)
        if let out {
            try bytes.write(to: URL(fileURLWithPath: out), options: .atomic)
            printError("frontdesk: \(document.rowCount) item\(document.rowCount == 1 ? "" : "s") about \(key) written to \(out) (\(document.manifest.count) kinds searched).")
        } else {
            FileHandle.standardOutput.write(bytes)
        }
    }
}

/// `frontdesk privacy erase`: counts, then erases everything about one person.
struct PrivacyEraseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Erase everything about one person (anonymising what must stay), or with --dry-run only count it.",
        discussion: """
        Prints what it finds first, then erases in one transaction per database, deletes the
        subject's .eml files from the mail spool, and logs the erasure in erasure_log (a salted
        hash of the subject, the time, who ran it and counts per table). Rows that must stay (the
        newsletter's consent proof, the request log) are anonymised, and the command says which.

        The server must be stopped (while it runs, erase from the console's Privacy screen, which
        also clears its cache and sessions); refused while a backup or restore is running.

        Examples:
          frontdesk privacy erase --email ada@example.com --dry-run
          frontdesk privacy erase --email ada@example.com
        """
    )

    @OptionGroup var data: DataOptions
    @OptionGroup var subject: SubjectOptions
    @Flag(name: .customLong("dry-run"), help: "Only count what would be erased.") var dryRun = false

    func run() async throws {
        let key = try subject.key()
        let runtime = try openRuntime(data)
        defer { close(runtime) }
        let lock = try DataDirectoryLock(dataDirectory: runtime.config.dataDirectory)
        if !dryRun {
            guard lock.tryLock() else {
                printError("frontdesk: Frontdesk is running on \(runtime.config.dataDirectory)\(lock.holderDescription); erase from the console's Privacy screen while it runs (it also clears the server's cache and sessions), or stop it first.")
                throw ExitCode(1)
            }
        }
        defer { lock.unlock() }
        let service = PrivacyService(runtime: runtime)
        do {
            let preview = try await service.erase(key, actor: "cli", dryRun: true)
            print(Self.describe(preview, key: key))
            guard !dryRun else { return }
            let report = try await service.erase(key, actor: "cli:\(ProcessInfo.processInfo.environment["USER"] ?? "unknown")", dryRun: false)
            print("Erased: \(report.counts.values.reduce(0, +)) rows and \(report.files) spool file\(report.files == 1 ? "" : "s") (erasure_log id \(report.erasureID.map(String.init) ?? "-")).")
        } catch let error as FrontdeskError {
            throw failure(error)
        }
    }

    static func describe(_ report: ErasureReport, key: PrivacySubjectKey) -> String {
        if report.counts.isEmpty && report.files == 0 { return "Nothing is held about \(key)." }
        var lines = ["About \(key):"]
        for (table, n) in report.counts.sorted(by: { $0.key < $1.key }) { lines.append("  \(table): \(n)") }
        if report.files > 0 { lines.append("  mail spool: \(report.files) .eml file\(report.files == 1 ? "" : "s")") }
        for (kind, reason) in report.anonymised.sorted(by: { $0.key < $1.key }) { lines.append("  \(kind) is anonymised, not deleted: \(reason)") }
        return lines.joined(separator: "\n")
    }
}

/// `frontdesk privacy record`: the record of processing activities (Art. 30) from the running configuration.
struct PrivacyRecordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Print the record of processing activities (Markdown or HTML) from the configuration.",
        discussion: """
        What each enabled module stores, why, for how long (the [retention] settings) and who
        receives it. It changes when the configuration changes.

        Examples:
          frontdesk privacy record > record.md
          frontdesk privacy record --format html > record.html
        """
    )

    @OptionGroup var data: DataOptions
    @Option(help: "markdown or html.") var format: String = "markdown"

    func validate() throws {
        guard format == "markdown" || format == "html" else { throw ValidationError("--format must be markdown or html") }
    }

    func run() async throws {
        let runtime = try openRuntime(data)
        defer { close(runtime) }
        let record = ProcessingRecord(config: runtime.config, kinds: PrivacyService(runtime: runtime).kinds, now: Date())
        FileHandle.standardOutput.write(Data((format == "html" ? record.html : record.markdown).utf8))
    }
}

/// `frontdesk privacy sweep`: one retention pass now (the server's sweeper runs it every
/// `retention.sweep_interval_minutes`).
struct PrivacySweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run one retention pass now: remove what each retention setting says has expired.",
        discussion: """
        The same pass the server's sweeper runs every retention.sweep_interval_minutes, in batches
        of retention.sweep_batch rows per transaction. Safe while the server runs.

        Examples:
          frontdesk privacy sweep
        """
    )

    @OptionGroup var data: DataOptions

    func run() async throws {
        let runtime = try openRuntime(data)
        defer { close(runtime) }
        let removed = try await PrivacyService(runtime: runtime).sweepRetention(now: Date(), batch: runtime.config[PrivacySettings.sweepBatch])
        if removed.isEmpty { print("Nothing has expired.") }
        for (kind, n) in removed.sorted(by: { $0.key < $1.key }) { print("\(kind): \(n) removed") }
    }
}
