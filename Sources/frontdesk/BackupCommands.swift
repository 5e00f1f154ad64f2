import ArgumentParser
import Foundation
import FrontdeskCore

/// `frontdesk backup`: a consistent copy of the data directory while the server keeps running.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent backup (.tar.gz) while Frontdesk keeps running.",
        discussion: """
        The backup holds the database (copied inside one read transaction, so writes go on),
        the session snapshot and a MANIFEST.json with row counts and a checksum. Open it with
        `tar xzf` if you like; restore it with `frontdesk restore`.

        Examples:
          frontdesk backup                                   # into <data_dir>/backups/
          frontdesk backup --to /srv/backups/desk.tar.gz
          frontdesk backup --data-dir /var/lib/frontdesk
          frontdesk backup --list                            # the backups, and which predate an erasure
        """
    )

    @OptionGroup var data: DataOptions

    @Flag(help: "List the backups in <backup.dir> and say which were written before a privacy erasure (they still hold the erased data until backup.keep rotates them out).")
    var list = false

    @Option(help: ArgumentHelp("Where to write the backup. Default: <backup.dir>/frontdesk-<time>.tar.gz", valueName: "file"))
    var to: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let config = try loadConfigOrExit(file: data.configFile(environment: environment), environment: environment, flags: data.flagValues)
        if list {
            try await listBackups(config)
            return
        }
        guard FileManager.default.fileExists(atPath: config.databasePath) else {
            printError("frontdesk: there is no database at \(config.databasePath); nothing to back up.")
            throw ExitCode(1)
        }
        Privileges.dropToDataDirectoryOwner(config.dataDirectory)
        let path = to ?? (config.backupDirectory as NSString).appendingPathComponent(Backup.defaultFileName(now: Date()))
        let database = try AppDatabase(path: config.databasePath, synchronous: config.synchronous)
        let bar = ProgressBar()
        let sessions = (config.stateDirectory as NSString).appendingPathComponent("sessions.snap")
        let manifest = try await Backup.create(database: database, sessionsPath: sessions, to: path) { phase, fraction in
            bar.update(phase, fraction)
        }
        bar.finish()
        try database.close()
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let rows = manifest.tables.values.reduce(0, +)
        print("Backup written to \(path) (\(size / 1024) KiB; database \(manifest.databaseBytes / 1024) KiB, \(rows) rows in \(manifest.tables.count) tables\(manifest.hasSessions ? ", sessions included" : "")).")
    }
}

extension BackupCommand {
    /// One line per backup (oldest first), with the erasures logged after it was written.
    func listBackups(_ config: FrontdeskConfig) async throws {
        var erasures: [Date] = []
        if FileManager.default.fileExists(atPath: config.databasePath) {
            let database = try AppDatabase(path: config.databasePath, synchronous: config.synchronous)
            defer { try? database.close() }
            let stamps = await PrivacyLog.erasureTimes(database)
            let parser = ISO8601DateFormatter()
            parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            erasures = stamps.compactMap { parser.date(from: $0) }
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: config.backupDirectory)) ?? []).filter { $0.hasSuffix(".tar.gz") }
        var backups: [(String, Date, Int)] = []
        for name in names {
            let path = (config.backupDirectory as NSString).appendingPathComponent(name)
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            backups.append((path, attributes?[.modificationDate] as? Date ?? .distantPast, attributes?[.size] as? Int ?? 0))
        }
        if backups.isEmpty {
            print("No backups in \(config.backupDirectory).")
            return
        }
        for (path, written, size) in backups.sorted(by: { $0.1 < $1.1 }) {
            let later = erasures.filter { $0 > written }.count
            let note = later == 0 ? "" : "  predates \(later) erasure\(later == 1 ? "" : "s"): still holds erased data"
            print("\(Timestamps.iso8601(written))  \(size / 1024) KiB  \(path)\(note)")
        }
    }
}

/// `frontdesk restore FILE`: replaces the data directory's database with a backup's.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup into the data directory (the server must be stopped).",
        discussion: """
        Checks the backup first (checksum and SQLite's integrity check) and refuses while a server
        is running on the data directory. The database it replaces is kept beside it as
        frontdesk.sqlite.before-restore-<time>.

        Examples:
          systemctl stop frontdesk && frontdesk restore /srv/backups/desk.tar.gz && systemctl start frontdesk
          frontdesk restore --check backup.tar.gz            # verify only, change nothing
        """
    )

    @OptionGroup var data: DataOptions

    @Flag(help: "Only verify the backup; change nothing.")
    var check = false

    @Argument(help: ArgumentHelp("The backup file.", valueName: "file"))
    var file: String

    func run() async throws {
        do {
            if check {
                let manifest = try Backup.verify(file)
                print("\(file) is a valid backup from \(manifest.createdAt) (Frontdesk \(manifest.frontdeskVersion), \(manifest.tables.values.reduce(0, +)) rows).")
                return
            }
            let environment = ProcessInfo.processInfo.environment
            let config = try loadConfigOrExit(file: data.configFile(environment: environment), environment: environment, flags: data.flagValues)
            Privileges.dropToDataDirectoryOwner(config.dataDirectory)
            let (manifest, previous) = try Backup.restore(file, dataDirectory: config.dataDirectory)
            print("Restored the backup from \(manifest.createdAt) into \(config.dataDirectory).")
            if let previous { print("The database it replaced is kept at \(previous).") }
        } catch let error as FrontdeskError {
            throw failure(error)
        }
    }
}

/// A one-line progress bar on a terminal; silent when `output` (standard output unless the data
/// goes there) is not one.
final class ProgressBar: @unchecked Sendable {
    private let output: Int32
    private let enabled: Bool
    private let lock = NSLock()
    private var last = -1

    init(output: Int32 = STDOUT_FILENO) {
        self.output = output
        enabled = isatty(output) == 1
    }

    func update(_ phase: String, _ fraction: Double) {
        guard enabled else { return }
        let percent = Int((max(0, min(1, fraction)) * 100).rounded())
        lock.withLock {
            guard percent != last else { return }
            last = percent
            let filled = percent / 4
            let line = "\r\(phase.padding(toLength: 18, withPad: " ", startingAt: 0)) [" + String(repeating: "#", count: filled)
                + String(repeating: " ", count: 25 - filled) + "] \(percent)%"
            FileHandle(fileDescriptor: output, closeOnDealloc: false).write(Data(line.utf8))
        }
    }

    func finish() {
        if enabled { FileHandle(fileDescriptor: output, closeOnDealloc: false).write(Data("\n".utf8)) }
    }
}
