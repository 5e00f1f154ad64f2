import ArgumentParser
import Foundation
import FrontdeskCore
import FrontdeskServer

/// Opens the runtime of the configured data directory for an inbox command.
private func openInbox(_ data: DataOptions) throws -> FrontdeskRuntime {
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

/// Where an export goes: a file (written whole, then moved into place) or standard output.
/// The progress bar goes to the terminal that is not carrying the data.
private final class ExportSink {
    private let handle: FileHandle
    private let temporary: String?
    private let destination: String?
    let progress: ProgressBar
    private(set) var bytes = 0

    init(out: String?) throws {
        if let out {
            let temporary = out + ".part"
            guard FileManager.default.createFile(atPath: temporary, contents: nil), let handle = FileHandle(forWritingAtPath: temporary) else {
                throw ValidationError("cannot write \(out): check that its directory exists and is writable")
            }
            self.handle = handle
            self.temporary = temporary
            self.destination = out
            progress = ProgressBar(output: STDOUT_FILENO)
        } else {
            handle = .standardOutput
            temporary = nil
            destination = nil
            progress = ProgressBar(output: STDERR_FILENO)
        }
    }

    func write(_ text: String) {
        let data = Data(text.utf8)
        bytes += data.count
        handle.write(data)
    }

    /// Moves the finished file into place (an export cut short never leaves a half file at `out`).
    func finish() throws {
        progress.finish()
        guard let temporary, let destination else { return }
        try handle.close()
        if FileManager.default.fileExists(atPath: destination) { try FileManager.default.removeItem(atPath: destination) }
        try FileManager.default.moveItem(atPath: temporary, toPath: destination)
    }

    func abandon() {
        guard let temporary else { return }
        try? handle.close()
        try? FileManager.default.removeItem(atPath: temporary)
    }

    var summaryTarget: String { destination ?? "standard output" }
}

/// `frontdesk newsletter …`: subscribers in and out as CSV.
struct NewsletterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "newsletter",
        abstract: "Import or export newsletter subscribers as CSV.",
        subcommands: [NewsletterImport.self, NewsletterExport.self]
    )
}

/// `frontdesk newsletter import FILE.csv [--confirmed]`.
struct NewsletterImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Add subscribers from a CSV file (email,name,topics per line; a header row optional).",
        discussion: """
        Topics are separated by ";" and must be configured in [newsletter] topics. Addresses already
        subscribed are skipped, and so are rows an export marks unsubscribed, so an import can be run
        again. Without --confirmed each new address gets the double opt-in mail (queued in the mail
        outbox; the running server sends it). --confirmed records the addresses as confirmed
        without a mail: use it only for people whose consent you already hold.

        Examples:
          frontdesk newsletter import subscribers.csv
          frontdesk newsletter import old-list.csv --confirmed
        """
    )

    @OptionGroup var data: DataOptions
    @Argument(help: ArgumentHelp("The CSV file.", valueName: "file")) var file: String
    @Flag(help: "Record the addresses as confirmed (earlier consent is held); no confirmation mail.") var confirmed = false

    func run() async throws {
        guard let bytes = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
        guard let text = String(data: bytes, encoding: .utf8) else { throw ValidationError("\(file) is not UTF-8 text") }
        let runtime = try openInbox(data)
        defer { close(runtime) }
        let bar = ProgressBar(output: STDOUT_FILENO)
        let result = try await runtime.newsletter.importCSV(text, confirmed: confirmed, now: Date()) { done, total in
            bar.update("importing", total == 0 ? 1 : Double(done) / Double(total))
        }
        bar.finish()
        for problem in result.errors.prefix(20) { printError("frontdesk: \(file):\(problem.line): \(problem.message)") }
        if result.errors.count > 20 { printError("frontdesk: … and \(result.errors.count - 20) more rows with problems") }
        let mails = confirmed || result.imported == 0 ? "" : "; \(result.imported) confirmation mail\(result.imported == 1 ? "" : "s") queued"
        print("Imported \(result.imported) subscriber\(result.imported == 1 ? "" : "s") (\(confirmed ? "confirmed" : "pending")), skipped \(result.skipped), \(result.errors.count) row\(result.errors.count == 1 ? "" : "s") with problems\(mails).")
        // A file with no usable row at all (the wrong file, the wrong columns) fails the command.
        if !result.errors.isEmpty && result.imported + result.skipped == 0 { throw ExitCode(1) }
    }
}

/// `frontdesk newsletter export [--out FILE] [--status S]`.
struct NewsletterExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write subscribers as CSV (the console's export columns) to a file or standard output.",
        discussion: """
        The file can be imported again: rows marked unsubscribed stay out.

        Examples:
          frontdesk newsletter export --out subscribers.csv
          frontdesk newsletter export --status confirmed > confirmed.csv
        """
    )

    @OptionGroup var data: DataOptions
    @Option(help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file")) var out: String?
    @Option(help: ArgumentHelp("Only subscribers with this status: pending, confirmed or unsubscribed.", valueName: "status")) var status: String?

    func validate() throws {
        if let status, SubscriptionStatus(rawValue: status) == nil { throw ValidationError("--status must be pending, confirmed or unsubscribed") }
    }

    func run() async throws {
        let runtime = try openInbox(data)
        defer { close(runtime) }
        let query = try ListQuery(status.map { ["status": $0] } ?? [:], sortable: NewsletterStore.sortable, defaultSort: "subscribedAt",
                                  filters: NewsletterStore.filters)
        let counts = try await runtime.newsletter.counts()
        let total = status.map { counts[$0] ?? 0 } ?? counts.values.reduce(0, +)
        let sink = try ExportSink(out: out)
        do {
            sink.write(CSV.line(NewsletterSubscription.exportHeader))
            var after: Int64 = 0
            var written = 0
            while true {
                let rows = try await runtime.newsletter.exportBatch(query, after: after)
                guard let last = rows.last?.id else { break }
                for row in rows { sink.write(CSV.line(row.exportFields)) }
                written += rows.count
                after = last
                sink.progress.update("exporting", total == 0 ? 1 : Double(written) / Double(total))
            }
            try sink.finish()
            printError("frontdesk: \(written) subscriber\(written == 1 ? "" : "s") written to \(sink.summaryTarget) (\(sink.bytes) bytes).")
        } catch {
            sink.abandon()
            throw error
        }
    }
}

/// `frontdesk export`: the whole inbox as one JSON document.
struct InboxExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the inbox (contact submissions, tickets with their threads, subscribers) as one JSON document.",
        discussion: """
        For archiving, or for moving to another tool. Tickets carry every message, internal notes
        included; subscribers carry their consent proof (version, times, source). Safe while the
        server runs (a read transaction per batch). Chats, reviews and analytics have their own
        exports (the console, frontdesk privacy export, frontdesk consent export).

        Examples:
          frontdesk export --out inbox.json
          frontdesk export | jq '.tickets | length'
        """
    )

    @OptionGroup var data: DataOptions
    @Option(help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file")) var out: String?

    func run() async throws {
        let runtime = try openInbox(data)
        defer { close(runtime) }
        let total = try await runtime.database.read { db in
            try Int.fetchOne(db, sql: "SELECT (SELECT COUNT(*) FROM contact_submissions) + (SELECT COUNT(*) FROM support_tickets) + (SELECT COUNT(*) FROM newsletter_subscriptions)") ?? 0
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let sink = try ExportSink(out: out)
        var done = 0
        var counts: [String: Int] = [:]
        func step(_ kind: String, _ items: [String]) {
            for (index, item) in items.enumerated() {
                sink.write((counts[kind, default: 0] + index == 0 ? "\n" : ",\n") + item)
            }
            counts[kind, default: 0] += items.count
            done += items.count
            sink.progress.update("exporting", total == 0 ? 1 : Double(done) / Double(total))
        }
        do {
            sink.write("{\"exportedAt\":\"\(Timestamps.iso8601(Date()))\",\"site\":" + String(decoding: try encoder.encode(runtime.config.siteName), as: UTF8.self))
            let contactsQuery = try ListQuery([:], sortable: ContactStore.sortable, defaultSort: "createdAt", filters: ContactStore.filters)
            let subscribersQuery = try ListQuery([:], sortable: NewsletterStore.sortable, defaultSort: "subscribedAt", filters: NewsletterStore.filters)
            sink.write(",\"contacts\":[")
            var after: Int64 = 0
            while true {
                let rows = try await runtime.contacts.exportBatch(contactsQuery, after: after)
                guard let last = rows.last?.id else { break }
                step("contacts", try rows.map { try Self.json($0, encoder) })
                after = last
            }
            sink.write("],\"tickets\":[")
            after = 0
            while true {
                let rows = try await runtime.tickets.exportBatch(after: after)
                guard let last = rows.last?.ticket.id else { break }
                step("tickets", try rows.map { ticket, messages in
                    let head = try Self.json(ticket, encoder)
                    let thread = "[" + (try messages.map { try Self.json($0, encoder) }).joined(separator: ",") + "]"
                    return String(head.dropLast()) + ",\"messages\":" + thread + "}"
                })
                after = last
            }
            sink.write("],\"subscribers\":[")
            after = 0
            while true {
                let rows = try await runtime.newsletter.exportBatch(subscribersQuery, after: after)
                guard let last = rows.last?.id else { break }
                step("subscribers", try rows.map { try Self.json($0, encoder) })
                after = last
            }
            sink.write("]}\n")
            try sink.finish()
            printError("frontdesk: \(counts["contacts", default: 0]) contact submissions, \(counts["tickets", default: 0]) tickets, \(counts["subscribers", default: 0]) subscribers written to \(sink.summaryTarget) (\(sink.bytes) bytes).")
        } catch {
            sink.abandon()
            throw error
        }
    }

    /// A row as JSON, without its link tokens (whoever holds a token can unsubscribe or answer
    /// as the person; an export is handed to other tools).
    static func json(_ row: some Encodable, _ encoder: JSONEncoder) throws -> String {
        guard var object = try JSONSerialization.jsonObject(with: try encoder.encode(row)) as? [String: Any] else { return "{}" }
        object.removeValue(forKey: "token")
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }
}
