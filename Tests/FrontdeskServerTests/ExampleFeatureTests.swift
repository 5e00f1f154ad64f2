import Foundation
import FrontdeskCore
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
@testable import FrontdeskServer

// A whole feature in one file, as README's "Adding a feature" shows it: one table, one public
// route, one admin route and one setting. In the product its store would live in
// `FrontdeskCore/Notes/` and its module in `FrontdeskServer/Notes/`; adding it to Frontdesk is
// the one line `NotesModule.self,` in `FeatureModules.all`. Here the test lists it instead.

/// The feature's setting, declared once with its default and range.
enum NotesSettings {
    static let greeting = Setting<String>.string("notes.greeting", env: "FRONTDESK_NOTES_GREETING", default: "Hello",
                                                 doc: "The greeting the public notes route answers with.")
    static let maxLength = Setting<Int>.integer("notes.max_length", env: "FRONTDESK_NOTES_MAX_LENGTH", default: 200, range: 1...10_000,
                                                doc: "Longest note, in characters.")
}

/// The feature's store: its every write one named method in one transaction.
struct NotesStore: Sendable {
    let database: AppDatabase

    static let migrations = [
        SchemaMigration("9001-example-notes") { db in
            try db.execute(sql: "CREATE TABLE example_notes (id INTEGER PRIMARY KEY AUTOINCREMENT, text TEXT NOT NULL, author_id INTEGER NOT NULL) STRICT")
        },
    ]

    func add(_ text: String, by author: Int64) async throws -> Int64 {
        try await database.writer.write { db in
            try db.execute(sql: "INSERT INTO example_notes (text, author_id) VALUES (?, ?)", arguments: [text, author])
            return db.lastInsertedRowID
        }
    }

    func count() async throws -> Int {
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM example_notes") ?? 0 }
    }
}

/// The feature's module: settings, schema and routes, each routed into the group whose policy it needs.
struct NotesModule: FeatureModule {
    static var settings: [SettingSpec] { [NotesSettings.greeting.spec, NotesSettings.maxLength.spec] }
    static var migrations: [SchemaMigration] { NotesStore.migrations }
    let context: FeatureContext
    init(_ context: FeatureContext) { self.context = context }

    func addRoutes(to routes: Routes) {
        let config = context.runtime.config
        let store = NotesStore(database: context.runtime.database)
        routes.publicAPI.get("/notes/greeting") { _, _ in
            try Response.json(["greeting": config[NotesSettings.greeting], "notes": String(try await store.count())])
        }
        routes.admin.post("/notes") { request, context in
            var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["text"])
            let text = reader.text("text", required: true, maxLength: config[NotesSettings.maxLength]) ?? ""
            try reader.validate()
            let id = try await store.add(text, by: context.admin.id)
            return try Response.json(["id": id], status: .created)
        }
    }
}

@Suite("Adding a feature")
struct ExampleFeatureTests {
    @Test("a module brings its table, setting, public route (with the API policy) and admin route (with the session policy)")
    func notesModule() async throws {
        let env = try TestEnvironment(["FRONTDESK_NOTES_GREETING": "Moin"], flags: ["notes.max_length": "5"],
                                      modules: FeatureModules.all + [NotesModule.self])
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            let greeting = try await client.executeRequest(uri: "/api/v1/notes/greeting", method: .get, headers: [:], body: nil)
            #expect(greeting.status == .ok)
            #expect(greeting.json?["greeting"] as? String == "Moin")
            #expect(greeting.headers[HTTPField.Name("RateLimit-Policy")!]?.hasPrefix("\"api\"") == true)
            let signedOut = try await client.executeRequest(uri: "/api/v1/admin/notes", method: .post, headers: jsonHeaders.merging([.origin: ConsoleClient.origin]),
                                                            body: ByteBuffer(string: #"{"text":"hi"}"#))
            #expect(signedOut.status == .unauthorized)
            var console = ConsoleClient(client: client)
            #expect(try await console.signIn("owner@example.com") == .ok)
            let created = try await console.send(.post, "/api/v1/admin/notes", json: #"{"text":"hi"}"#)
            #expect(created.status == .created)
            let tooLong = try await console.send(.post, "/api/v1/admin/notes", json: #"{"text":"far too long"}"#)
            #expect(tooLong.status == .unprocessableContent && tooLong.envelope?.error.details["text"] != nil)
            let noCSRF = try await client.executeRequest(uri: "/api/v1/admin/notes", method: .post,
                                                         headers: [.contentType: "application/json", .origin: ConsoleClient.origin, .cookie: console.cookie],
                                                         body: ByteBuffer(string: #"{"text":"x"}"#))
            #expect(noCSRF.status == .forbidden && noCSRF.envelope?.error.code == "csrf_failed")
        }
        #expect(try await NotesStore(database: env.runtime.database).count() == 1)
        // The settings joined the one catalogue: documented, typed, range-checked.
        #expect(FrontdeskConfig.settingsTable(features: NotesModule.settings).contains("| `notes.greeting` | `FRONTDESK_NOTES_GREETING` | `\"Hello\"` |"))
        #expect(throws: ConfigErrors.self) {
            try FrontdeskConfig.load(file: nil, environment: ["FRONTDESK_NOTES_MAX_LENGTH": "0"], features: NotesModule.settings)
        }
    }
}

extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var fields = self
        for field in other { fields[field.name] = field.value }
        return fields
    }
}
