import Crypto
import Foundation
import GRDB
import Logging

/// What a backup holds, stored as `MANIFEST.json` inside it.
package struct BackupManifest: Codable, Sendable, Equatable {
    package var format: Int
    package var frontdeskVersion: String
    package var createdAt: String
    package var databaseBytes: Int
    package var databaseSHA256: String
    package var tables: [String: Int]
    package var hasSessions: Bool
}

/// Online backups and offline restores of a data directory.
///
/// A backup is a `.tar.gz` with `frontdesk.sqlite` (a consistent copy made with `VACUUM INTO`
/// inside one read transaction, so the server keeps writing meanwhile), `state/sessions.snap`
/// and `MANIFEST.json`. A restore verifies the checksum and `PRAGMA integrity_check` before it
/// replaces anything, keeps the previous database beside the new one, and refuses while a server
/// holds the data directory.
package enum Backup {
    /// Progress of a long step: phase name and fraction done.
    package typealias Progress = @Sendable (String, Double) -> Void

    /// Writes a backup of `database` (and the session snapshot at `sessionsPath`) to `path`.
    package static func create(database: AppDatabase, sessionsPath: String?, to path: String, now: Date = Date(),
                              progress: Progress = { _, _ in }) async throws -> BackupManifest {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory.isEmpty ? "." : directory, withIntermediateDirectories: true)
        let copy = path + ".db-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: copy) }
        // A privacy erasure waits for no backup: it refuses while this lock is held.
        let lock = try DataDirectoryLock(dataDirectory: (database.path as NSString).deletingLastPathComponent, name: DataDirectoryLock.backupLockName)
        let locked = lock.lock()
        defer { if locked { lock.unlock() } }
        progress("copying database", 0)
        // VACUUM INTO reads one consistent snapshot (it refuses to run inside a transaction of ours)
        // while the writer goes on committing; the copy is compact and self-contained.
        try await database.vacuum(into: copy)
        let copyQueue = try DatabaseQueue(path: copy)
        defer { try? copyQueue.close() }
        let tables = try await copyQueue.read { db -> [String: Int] in
            var counts: [String: Int] = [:]
            for name in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%'") {
                counts[name] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \"\(name)\"") ?? 0
            }
            return counts
        }
        progress("copying database", 1)
        let databaseBytes = (try FileManager.default.attributesOfItem(atPath: copy)[.size] as? Int) ?? 0
        let sessions = sessionsPath.flatMap { FileManager.default.contents(atPath: $0) }

        // One pass over the copy: hash and compress together; the manifest, which needs the
        // hash, goes last (restore reads the entries in any order).
        let temp = path + ".partial"
        let writer = try GzipFileWriter(path: temp)
        var hasher = SHA256()
        try writer.write(Tar.header(name: "frontdesk.sqlite", size: databaseBytes, mtime: now))
        guard let input = FileHandle(forReadingAtPath: copy) else { throw FrontdeskError(.internal, code: "backup_failed", message: "The database copy vanished.") }
        var done = 0
        while true {
            let chunk = input.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
            try writer.write(chunk)
            done += chunk.count
            progress("compressing", databaseBytes == 0 ? 1 : Double(done) / Double(databaseBytes))
        }
        try input.close()
        try writer.write(Tar.padding(for: databaseBytes))
        if let sessions {
            try writer.write(Tar.header(name: "state/sessions.snap", size: sessions.count, mtime: now) + sessions + Tar.padding(for: sessions.count))
        }
        let digest = ContentDigest.hex(hasher.finalize())
        let manifest = BackupManifest(format: 1, frontdeskVersion: FrontdeskVersion.current, createdAt: Timestamps.iso8601(now),
                                      databaseBytes: databaseBytes, databaseSHA256: digest, tables: tables, hasSessions: sessions != nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let manifestData = try encoder.encode(manifest)
        try writer.write(Tar.header(name: "MANIFEST.json", size: manifestData.count, mtime: now) + manifestData + Tar.padding(for: manifestData.count))
        try writer.write(Data(count: Tar.blockSize * 2))
        try writer.finish()
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: temp, toPath: path)
        progress("done", 1)
        return manifest
    }

    /// Reads a backup's manifest and checks every part, without touching any data directory.
    package static func verify(_ path: String) throws -> BackupManifest {
        let scratch = NSTemporaryDirectory() + "frontdesk-verify-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        return try extract(path, into: scratch).manifest
    }

    /// Replaces the data directory's database (and sessions) with the backup's.
    ///
    /// - Returns: the manifest and the path the previous database was kept at, if there was one.
    package static func restore(_ path: String, dataDirectory: String, now: Date = Date()) throws -> (manifest: BackupManifest, previous: String?) {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let lock = try DataDirectoryLock(dataDirectory: dataDirectory)
        guard lock.tryLock() else {
            throw FrontdeskError(.conflict, code: "server_running",
                                 message: "Frontdesk is running on \(dataDirectory)\(lock.holderDescription). Stop it first (for example: systemctl stop frontdesk), then restore.")
        }
        defer { lock.unlock() }
        let backupLock = try DataDirectoryLock(dataDirectory: dataDirectory, name: DataDirectoryLock.backupLockName)
        let backupLocked = backupLock.lock()
        defer { if backupLocked { backupLock.unlock() } }
        let scratch = (dataDirectory as NSString).appendingPathComponent(".restore-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let (manifest, databasePath, sessionsPath) = try extract(path, into: scratch)

        let target = (dataDirectory as NSString).appendingPathComponent("frontdesk.sqlite")
        var previous: String?
        let fm = FileManager.default
        if fm.fileExists(atPath: target) {
            // Fold the WAL into the old file first, so the kept copy is complete on its own.
            if let old = try? DatabaseQueue(path: target) {
                try? old.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
                try? old.close()
            }
            let stamp = Timestamps.iso8601(now).replacingOccurrences(of: ":", with: "")
            previous = target + ".before-restore-\(stamp)"
            try fm.moveItem(atPath: target, toPath: previous!)
        }
        for suffix in ["-wal", "-shm"] { try? fm.removeItem(atPath: target + suffix) }
        try fm.moveItem(atPath: databasePath, toPath: target)
        let stateDirectory = (dataDirectory as NSString).appendingPathComponent("state")
        let snapshot = (stateDirectory as NSString).appendingPathComponent("sessions.snap")
        try? fm.removeItem(atPath: snapshot)
        if let sessionsPath {
            try fm.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
            try fm.moveItem(atPath: sessionsPath, toPath: snapshot)
        }
        return (manifest, previous)
    }

    /// Unpacks into `scratch` and checks the manifest, the checksum and SQLite's integrity check.
    static func extract(_ path: String, into scratch: String) throws -> (manifest: BackupManifest, database: String, sessions: String?) {
        let fm = FileManager.default
        try fm.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let reader = try GzipFileReader(path: path)
        var manifest: BackupManifest?
        var databasePath: String?
        var sessionsPath: String?
        while let entry = try Tar.parse(try reader.read(Tar.blockSize)) {
            let padded = entry.size + Tar.padding(for: entry.size).count
            switch entry.name {
            case "MANIFEST.json":
                let data = try reader.read(padded).prefix(entry.size)
                manifest = try? JSONDecoder().decode(BackupManifest.self, from: data)
                if manifest == nil { throw Tar.invalid("its MANIFEST.json is unreadable") }
            case "frontdesk.sqlite", "state/sessions.snap":
                let out = (scratch as NSString).appendingPathComponent(entry.name == "frontdesk.sqlite" ? "frontdesk.sqlite" : "sessions.snap")
                fm.createFile(atPath: out, contents: nil, attributes: [.posixPermissions: 0o640])
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
                var remaining = entry.size
                while remaining > 0 {
                    let chunk = try reader.read(min(remaining, 1 << 20))
                    if chunk.isEmpty { throw Tar.invalid("\(entry.name) is cut short") }
                    try handle.write(contentsOf: chunk)
                    remaining -= chunk.count
                }
                try handle.synchronize()
                try handle.close()
                _ = try reader.read(padded - entry.size)
                if entry.name == "frontdesk.sqlite" { databasePath = out } else { sessionsPath = out }
            default:
                _ = try reader.read(padded)
            }
        }
        guard let manifest else { throw Tar.invalid("it has no MANIFEST.json") }
        guard manifest.format == 1 else { throw Tar.invalid("it was written in format \(manifest.format), which this version cannot read") }
        guard let databasePath else { throw Tar.invalid("it holds no database") }
        guard try sha256(ofFile: databasePath) == manifest.databaseSHA256 else {
            throw Tar.invalid("the database inside does not match its checksum (the file is damaged)")
        }
        let check = try DatabaseQueue(path: databasePath)
        let result = try check.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        try check.close()
        guard result == ["ok"] else { throw Tar.invalid("SQLite's integrity check failed: \(result.prefix(3).joined(separator: "; "))") }
        return (manifest, databasePath, sessionsPath)
    }

    static func sha256(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw Tar.invalid("a part cannot be read") }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let chunk = handle.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
        }
        return ContentDigest.hex(hasher.finalize())
    }

    /// Deletes the oldest `frontdesk-*.tar.gz` in `directory` beyond `keep`.
    @discardableResult
    package static func prune(directory: String, keep: Int) -> [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix("frontdesk-") && $0.hasSuffix(".tar.gz") }.sorted()
        let doomed = names.dropLast(keep)
        for name in doomed { try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name)) }
        return Array(doomed)
    }

    /// `frontdesk-20261126T160000Z.tar.gz`
    package static func defaultFileName(now: Date) -> String {
        "frontdesk-" + Timestamps.iso8601(now).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "") + ".tar.gz"
    }
}

/// An exclusive advisory lock on `<data_dir>/frontdesk.lock`, held by `serve` for its lifetime, so
/// that `restore` (and a second server) can tell the data directory is in use; or on
/// `<data_dir>/backup.lock` (`backupLockName`), held while a backup is written, so a privacy
/// erasure refuses to run half inside one.
package final class DataDirectoryLock: @unchecked Sendable {
    let path: String
    private var descriptor: Int32 = -1

    /// The lock a backup holds while it copies, and a restore while it replaces the database.
    package static let backupLockName = "backup.lock"

    package init(dataDirectory: String, name: String = "frontdesk.lock") throws {
        path = (dataDirectory as NSString).appendingPathComponent(name)
    }

    /// Takes the lock, waiting for its holder to let go; false when the file cannot be opened.
    package func lock() -> Bool {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { return false }
        guard flock(fd, LOCK_EX) == 0 else {
            close(fd)
            return false
        }
        descriptor = fd
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
        return true
    }

    /// Takes the lock without waiting; writes our pid into the file when taken.
    package func tryLock() -> Bool {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { return false }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return false
        }
        descriptor = fd
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
        return true
    }

    package func unlock() {
        guard descriptor >= 0 else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    /// " (pid 1234)" when the file names the holder.
    package var holderDescription: String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let pid = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return "" }
        return " (pid \(pid))"
    }

    deinit { unlock() }
}
