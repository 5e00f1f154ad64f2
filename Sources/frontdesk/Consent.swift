import ArgumentParser
import Foundation
import FrontdeskCore
import FrontdeskServer

/// `frontdesk consent …`: the proof-of-consent log from the command line.
struct ConsentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consent",
        abstract: "Export or erase proof-of-consent records.",
        subcommands: [ConsentExport.self, ConsentErase.self]
    )
}

/// `frontdesk consent export`: the records of a date range or of one consent id, as CSV or JSON, to stdout.
struct ConsentExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write proof-of-consent records as CSV or JSON to standard output.",
        discussion: """
        The same rows and columns as the console's export. Dates are UTC days, both inclusive.

        Examples:
          frontdesk consent export --from 2026-11-01 --to 2026-11-30 > november.csv
          frontdesk consent export --consent-id 3q2-7wXk9Jd1LqYqZ0aB1w --format json
        """
    )

    @OptionGroup var data: DataOptions
    @Option(help: ArgumentHelp("First UTC day (YYYY-MM-DD).", valueName: "day")) var from: String?
    @Option(help: ArgumentHelp("Last UTC day (YYYY-MM-DD).", valueName: "day")) var to: String?
    @Option(name: .customLong("consent-id"), help: ArgumentHelp("Only the records of this consent id.", valueName: "id")) var consentID: String?
    @Option(help: "csv or json.") var format: String = "csv"

    func validate() throws {
        for day in [from, to].compactMap({ $0 }) where !ConsentRecordFilter.isDay(day) {
            throw ValidationError("\(day) is not a date like 2026-12-01")
        }
        guard format == "csv" || format == "json" else { throw ValidationError("--format must be csv or json") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let config = try loadConfigOrExit(file: data.configFile(environment: environment), environment: environment, flags: data.flagValues)
        Privileges.dropToDataDirectoryOwner(config.dataDirectory)
        try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        let database = try AppDatabase(path: config.databasePath, synchronous: config.synchronous, migrations: FeatureModules.migrations)
        try database.migrate()
        let store = ConsentStore(database: database)
        let filter = ConsentRecordFilter(consentID: consentID, from: from, to: to)
        let out = FileHandle.standardOutput
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if format == "csv" { out.write(Data(CSV.line(ConsentRecord.exportHeader).utf8)) } else { out.write(Data("[".utf8)) }
        var after: Int64 = 0
        var first = true
        while true {
            let rows = try await store.exportBatch(filter, after: after)
            guard let last = rows.last else { break }
            for row in rows {
                if format == "csv" {
                    out.write(Data(CSV.line(row.exportFields).utf8))
                } else {
                    out.write(Data(((first ? "" : ",") + String(decoding: try encoder.encode(ConsentRecordView(row)), as: UTF8.self)).utf8))
                    first = false
                }
            }
            after = last.id
        }
        if format == "json" { out.write(Data("]\n".utf8)) }
        try database.close()
    }
}

/// `frontdesk consent erase`: a privacy erasure of one consent id's records, logged.
struct ConsentErase: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Delete every record of one consent id (a visitor's erasure request); the removal is logged.",
        discussion: """
        Consent records are append-only: no API changes or deletes them. This and the retention
        sweep (consent.log_retention_days) are the only ways rows leave the log, and both write
        a line to the removal log.

        Example:
          frontdesk consent erase --consent-id 3q2-7wXk9Jd1LqYqZ0aB1w
        """
    )

    @OptionGroup var data: DataOptions
    @Option(name: .customLong("consent-id"), help: ArgumentHelp("The consent id the visitor quoted.", valueName: "id")) var consentID: String

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let config = try loadConfigOrExit(file: data.configFile(environment: environment), environment: environment, flags: data.flagValues)
        Privileges.dropToDataDirectoryOwner(config.dataDirectory)
        try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        let database = try AppDatabase(path: config.databasePath, synchronous: config.synchronous, migrations: FeatureModules.migrations)
        try database.migrate()
        let removed = try await ConsentStore(database: database).erase(consentID: consentID, now: Date())
        try database.close()
        print("Erased \(removed) consent record\(removed == 1 ? "" : "s") of \(consentID).")
    }
}
