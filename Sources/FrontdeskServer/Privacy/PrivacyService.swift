import FrontdeskCore
import Foundation
import GRDB
import Logging

/// One subject's data as `frontdesk privacy export` and the console's download give it
/// (Art. 15 and 20): every row of every kind, the spool files, and the manifest of what was searched.
package struct PrivacyExport: Codable, Sendable {
    /// One kind searched: where, which tables, how many rows were found, what erasure would do.
    package struct ManifestEntry: Codable, Sendable, Equatable {
        package var kind: String
        package var database: String
        package var tables: [String]
        package var rows: Int
        package var erasure: String
        package var purpose: String
    }

    package struct File: Codable, Sendable {
        package var name: String
        package var text: String
    }

    package var format = 1
    package var generatedAt: String
    /// What the request named: `{"kind": "email", "value": "…"}`.
    package var request: [String: String]
    /// The identifiers the search followed from it (links between features).
    package var subject: PrivacySubject
    package var manifest: [ManifestEntry]
    /// kind → table → rows.
    package var data: [String: [String: [[String: JSONValue]]]]
    package var files: [File]

    package var rowCount: Int { manifest.reduce(0) { $0 + $1.rows } }
}

/// What an erasure did (or, with `dryRun`, would do).
package struct ErasureReport: Codable, Sendable {
    package var dryRun: Bool
    /// `kind/table` → rows.
    package var counts: [String: Int]
    /// Kinds whose rows stay anonymised, with the reason.
    package var anonymised: [String: String]
    package var files: Int
    package var erasureID: Int64?
    package var sessionsEnded: Int
}

/// Export, erasure and the record of processing over every module's `personalData`.
///
/// An erasure runs one transaction on `frontdesk.sqlite` (with `secure_delete` on, so freed
/// cells and pages are zeroed, then a WAL checkpoint) and one on `analytics.sqlite`, then deletes
/// the spool files, clears the cache and ends the subject's console sessions (rewriting the
/// session snapshot). It refuses while a backup holds `backup.lock`, so every backup either
/// predates the erasure entirely or follows it.
package final class PrivacyService: Sendable {
    let runtime: FrontdeskRuntime
    package let kinds: [any PersonalDataKind]
    let logger: Logger

    init(runtime: FrontdeskRuntime, kinds: [any PersonalDataKind]) {
        self.runtime = runtime
        self.kinds = kinds
        self.logger = runtime.logger
    }

    /// The kinds of every module of `runtime`.
    package convenience init(runtime: FrontdeskRuntime) {
        let context = FeatureContext(runtime: runtime)
        self.init(runtime: runtime, kinds: runtime.modules.flatMap { $0.init(context).personalData })
    }

    private var mainKinds: [any PersonalDataKind] { kinds.filter { $0.database == .main } }
    private var analyticsKinds: [any PersonalDataKind] { kinds.filter { $0.database == .analytics } }

    /// Follows the links of every kind from `key` until nothing new is found.
    package func resolve(_ key: PrivacySubjectKey) async throws -> PrivacySubject {
        let kinds = mainKinds
        return try await runtime.database.read { db in
            var subject = key.subject
            for _ in 0..<16 {
                let before = subject.identifiers
                for kind in kinds { try kind.link(&subject, in: db) }
                if subject.identifiers == before { break }
            }
            return subject
        }
    }

    /// Everything held about the subject `key` names; an unknown subject gives an empty document
    /// with the manifest.
    package func export(_ key: PrivacySubjectKey) async throws -> PrivacyExport {
        let subject = try await resolve(key)
        let main = mainKinds
        var (manifest, data, paths) = try await runtime.database.read { db -> ([PrivacyExport.ManifestEntry], [String: [String: [[String: JSONValue]]]], [String]) in
            var manifest: [PrivacyExport.ManifestEntry] = []
            var data: [String: [String: [[String: JSONValue]]]] = [:]
            var paths: [String] = []
            for kind in main {
                let rows = try kind.export(subject, in: db)
                manifest.append(Self.entry(kind, rows))
                data[kind.name] = rows
                paths += try kind.files(subject, in: db)
            }
            return (manifest, data, paths)
        }
        let analytics = analyticsKinds
        let extra = try await runtime.analytics.database.pool.read { db in
            try analytics.map { kind in (kind, try kind.export(subject, in: db)) }
        }
        for (kind, rows) in extra {
            manifest.append(Self.entry(kind, rows))
            data[kind.name] = rows
        }
        paths = Array(Set(paths)).sorted()
        let files = paths.compactMap { path -> PrivacyExport.File? in
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
            return PrivacyExport.File(name: "mail/" + (path as NSString).lastPathComponent, text: text)
        }
        manifest.append(PrivacyExport.ManifestEntry(kind: "mail.spool", database: "files", tables: ["<data_dir>/mail/*.eml"], rows: files.count,
                                                    erasure: "deleted", purpose: "Copies of the mail the file transport wrote."))
        return PrivacyExport(generatedAt: Timestamps.iso8601(runtime.now()), request: ["kind": key.kind, "value": key.value], subject: subject,
                             manifest: manifest, data: data, files: files)
    }

    private static func entry(_ kind: any PersonalDataKind, _ rows: [String: [[String: JSONValue]]]) -> PrivacyExport.ManifestEntry {
        PrivacyExport.ManifestEntry(kind: kind.name, database: kind.database == .main ? "frontdesk.sqlite" : "analytics.sqlite", tables: kind.tables,
                                    rows: rows.values.reduce(0) { $0 + $1.count }, erasure: kind.erasure.word, purpose: kind.purpose)
    }

    /// Erases (or anonymises) everything about the subject `key` names; with `dryRun`, only counts.
    package func erase(_ key: PrivacySubjectKey, actor: String, dryRun: Bool) async throws -> ErasureReport {
        let lock = try DataDirectoryLock(dataDirectory: runtime.config.dataDirectory, name: DataDirectoryLock.backupLockName)
        guard lock.tryLock() else {
            throw FrontdeskError(.conflict, code: "data_locked",
                                 message: "A backup or restore is running on \(runtime.config.dataDirectory)\(lock.holderDescription); erase again when it has finished.")
        }
        defer { lock.unlock() }
        let subject = try await resolve(key)
        var anonymised: [String: String] = [:]
        for kind in kinds { if case .anonymise(let reason) = kind.erasure { anonymised[kind.name] = reason } }
        if dryRun {
            let document = try await export(key)
            var counts: [String: Int] = [:]
            for (kind, tables) in document.data { for (table, rows) in tables where !rows.isEmpty { counts["\(kind)/\(table)"] = rows.count } }
            return ErasureReport(dryRun: true, counts: counts, anonymised: anonymised.filter { name, _ in document.manifest.contains { $0.kind == name && $0.rows > 0 } },
                                 files: document.files.count, erasureID: nil, sessionsEnded: 0)
        }
        let main = mainKinds, analytics = analyticsKinds
        let now = runtime.now()
        let paths = try await runtime.database.read { db in Array(Set(try main.flatMap { try $0.files(subject, in: db) })).sorted() }
        // analytics.sqlite first: if the main transaction then fails, nothing that links the
        // visits to the person is left anyway, and a retry finds no visits.
        let analyticsCounts = try await runtime.analytics.database.pool.write { db -> [String: Int] in
            try Self.secureDelete(db) {
                var counts: [String: Int] = [:]
                for kind in analytics { for (table, n) in try kind.erase(subject, in: db, now: now) where n > 0 { counts["\(kind.name)/\(table)"] = n } }
                return counts
            }
        }
        let (counts, erasureID) = try await runtime.database.writer.write { db -> ([String: Int], Int64) in
            try Self.secureDelete(db) {
                var counts = analyticsCounts
                for kind in main { for (table, n) in try kind.erase(subject, in: db, now: now) where n > 0 { counts["\(kind.name)/\(table)"] = n } }
                let id = try PrivacyLog.appendErasure(db, key: key, actor: actor, counts: counts, files: paths.count, now: now)
                return (counts, id)
            }
        }
        var removedFiles = 0
        for path in paths where (try? FileManager.default.removeItem(atPath: path)) != nil { removedFiles += 1 }
        // Old page images live in the WAL until a checkpoint copies the zeroed pages over them.
        await runtime.database.checkpoint()
        _ = try? await runtime.analytics.database.pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        runtime.state.cache.removeAll()
        var sessionsEnded = 0
        for account in subject.accountIDs { sessionsEnded += runtime.state.sessions.destroyAll(forUser: String(account)) }
        if sessionsEnded > 0 { _ = try? runtime.state.snapshotSessions() }
        let touched = Set(counts.keys.compactMap { $0.split(separator: "/").first.map(String.init) })
        logger.notice("privacy erasure", metadata: ["erasure_id": "\(erasureID)", "actor": "\(actor)", "rows": "\(counts.values.reduce(0, +))",
                                                    "files": "\(removedFiles)"])
        return ErasureReport(dryRun: false, counts: counts, anonymised: anonymised.filter { touched.contains($0.key) }, files: removedFiles,
                             erasureID: erasureID, sessionsEnded: sessionsEnded)
    }

    /// Runs `body` with `secure_delete` on for this connection, so what it deletes is zeroed.
    static func secureDelete<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        try db.execute(sql: "PRAGMA secure_delete = ON")
        defer { try? db.execute(sql: "PRAGMA secure_delete = OFF") }
        return try body()
    }

    /// The erasure log, newest first.
    package func erasures() async throws -> [ErasureLogEntry] {
        try await runtime.database.read { db in try PrivacyLog.erasures(db) }
    }
}
