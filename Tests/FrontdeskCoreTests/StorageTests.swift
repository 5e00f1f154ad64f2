import Foundation
import GRDB
import Testing
@testable import FrontdeskCore

@Suite("Storage")
struct StorageTests {
    @Test("the database is in WAL mode with foreign keys on and migrations applied")
    func pragmas() async throws {
        let dir = TempDirectory()
        let database = try AppDatabase(path: dir.file("db.sqlite"), synchronous: .full)
        try database.migrate()
        #expect(try await database.journalMode() == "wal")
        let (foreignKeys, synchronous) = try await database.read { db in
            (try Int.fetchOne(db, sql: "PRAGMA foreign_keys"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        #expect(foreignKeys == 1)
        #expect(synchronous == 2)  // FULL
        #expect(try await database.migrationsComplete())
        #expect(await database.isWritable())
    }

    @Test("concurrent writes are grouped into fewer transactions and each is acknowledged after commit")
    func groupCommit() async throws {
        let dir = TempDirectory()
        let database = try AppDatabase(path: dir.file("db.sqlite"))
        try database.migrate()
        let counter = TransactionCounter()
        database.add(transactionObserver: counter)
        let writes = 300
        let ids = try await withThrowingTaskGroup(of: Int64.self) { group in
            for i in 0..<writes {
                group.addTask {
                    try await database.writer.write { db in
                        try db.execute(sql: "INSERT INTO app_settings(key, value, updated_at) VALUES (?, 'v', 'now')", arguments: ["k\(i)"])
                        return db.lastInsertedRowID
                    }
                }
            }
            var ids: [Int64] = []
            for try await id in group { ids.append(id) }
            return ids
        }
        #expect(ids.count == writes)
        let stored = try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM app_settings") }
        #expect(stored == writes)
        // Grouping must have happened: far fewer commits than writes.
        #expect(counter.commits < writes)
        #expect(counter.commits >= 1)
    }

    @Test("one failing write in a batch is rolled back alone")
    func failureIsolation() async throws {
        let dir = TempDirectory()
        let database = try AppDatabase(path: dir.file("db.sqlite"))
        try database.migrate()
        try await database.writer.write { db in
            try db.execute(sql: "INSERT INTO app_settings(key, value, updated_at) VALUES ('dup', 'v', 'now')")
        }
        let results = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<20 {
                group.addTask {
                    do {
                        try await database.writer.write { db in
                            // Every 5th write collides with the existing key and must fail alone.
                            let key = i % 5 == 0 ? "dup" : "k\(i)"
                            try db.execute(sql: "INSERT INTO app_settings(key, value, updated_at) VALUES (?, 'v', 'now')", arguments: [key])
                        }
                        return true
                    } catch {
                        return false
                    }
                }
            }
            var results: [Bool] = []
            for await result in group { results.append(result) }
            return results
        }
        #expect(results.filter { !$0 }.count == 4)
        let stored = try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM app_settings") }
        #expect(stored == 1 + 16)
    }

    @Test("contact submissions are stored with their fields and read back")
    func contactStore() async throws {
        let dir = TempDirectory()
        let database = try AppDatabase(path: dir.file("db.sqlite"))
        try database.migrate()
        let store = ContactStore(database: database)
        let form = FormDefinition(id: "quote", fields: [FormField(name: "company", required: true)])
        let input = try NewContactSubmission(json: ["name": .string(" Ann "), "email": .string("Ann@Example.COM"), "message": .string("Hello\nthere"),
                                                    "form": .string("quote"), "fields": .object(["company": .string("Acme")])], form: form)
        let saved = try await store.submit(input, userAgent: "test", now: Date(timeIntervalSince1970: 1_800_000_000))
        let savedID = try #require(saved.id)
        let found = try #require(try await store.find(id: savedID))
        #expect(found.name == "Ann")
        #expect(found.email == "Ann@example.com")
        #expect(found.message == "Hello\nthere")
        #expect(found.fields == #"{"company":"Acme"}"#)
        #expect(found.status == "new")
        #expect(found.createdAt == "2027-01-15T08:00:00.000Z")
    }
}

/// Counts committed transactions.
final class TransactionCounter: TransactionObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var _commits = 0
    var commits: Int { lock.withLock { _commits } }
    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) { lock.withLock { _commits += 1 } }
    func databaseDidRollback(_ db: Database) {}
}
