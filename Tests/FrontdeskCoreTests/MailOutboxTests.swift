import Foundation
import GRDB
import Testing
@testable import FrontdeskCore
import FrontdeskTestSupport

@Suite("Mail outbox")
struct MailOutboxTests {
    struct Rollback: Error {}

    @Test("a mail enqueued inside a write that then fails is rolled back with it")
    func rollbackLeavesNoMail() async throws {
        let fixture = try MailFixture()
        let mail = try fixture.mail()
        await #expect(throws: Rollback.self) {
            try await fixture.database.writer.write { db in
                try db.execute(sql: "INSERT INTO app_settings(key, value, updated_at) VALUES ('k', 'v', 'now')")
                try fixture.outbox.enqueue(mail, in: db)
                throw Rollback()
            }
        }
        #expect(try await fixture.outbox.list().isEmpty)
        let settings = try await fixture.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM app_settings") }
        #expect(settings == 0)

        // The same thing committed: the row and its mail together.
        let id = try await fixture.database.writer.write { db in
            try db.execute(sql: "INSERT INTO app_settings(key, value, updated_at) VALUES ('k', 'v', 'now')")
            return try fixture.outbox.enqueue(mail, in: db)
        }
        let stored = try #require(try await fixture.outbox.find(id: id))
        #expect(stored.status == .queued)
        #expect(stored.attempts == 0)
        #expect(stored.toAddress == "visitor@example.org")
        #expect(stored.fromAddress == "desk@example.com")
        #expect(stored.headers.fromName == "Example Desk")
        #expect(stored.kind == "contact_notification")
    }

    @Test("the same idempotency key stores one mail and returns its id")
    func idempotency() async throws {
        let fixture = try MailFixture()
        let first = try await fixture.outbox.enqueue(try fixture.mail(key: "contact-42"))
        let second = try await fixture.outbox.enqueue(try fixture.mail(subject: "Different", key: "contact-42"))
        let other = try await fixture.outbox.enqueue(try fixture.mail(key: "contact-43"))
        #expect(first == second)
        #expect(other != first)
        #expect(try await fixture.outbox.list().count == 2)
    }

    @Test("listing, counting by status and retrying a dead mail")
    func adminOperations() async throws {
        let fixture = try MailFixture()
        for i in 0..<3 { try await fixture.outbox.enqueue(try fixture.mail(subject: "Mail \(i)")) }
        let transport = ScriptedTransport(failures: [MailTransportError(step: "RCPT TO", code: 550, message: "no such user", permanent: true)])
        let service = fixture.service(transport: transport, clock: TestClock())
        #expect(await service.deliverDue() == 3)

        let counts = try await fixture.outbox.countsByStatus()
        #expect(counts[.sent] == 2)
        #expect(counts[.dead] == 1)
        #expect(counts[.queued] == 0)
        #expect(Set(counts.keys) == Set(MailStatus.allCases))

        let dead = try await fixture.outbox.list(status: .dead)
        #expect(dead.count == 1)
        #expect(dead[0].lastError == "RCPT TO failed with 550: no such user")
        #expect(try await fixture.outbox.list(limit: 2).map(\.subject) == ["Mail 2", "Mail 1"])
        #expect(try await fixture.outbox.list(limit: 2, offset: 2).map(\.subject) == ["Mail 0"])

        await #expect(throws: FrontdeskError.self) { try await fixture.outbox.retry(id: 999) }
        let sentID = try await fixture.outbox.list(status: .sent)[0].id
        do {
            try await fixture.outbox.retry(id: sentID)
            Issue.record("retrying a sent mail should fail")
        } catch let error as FrontdeskError {
            #expect(error.code == "mail_not_retryable")
            #expect(error.kind == .conflict)
        }

        let revived = try await fixture.outbox.retry(id: dead[0].id)
        #expect(revived.status == .queued)
        #expect(revived.attempts == 0)
        #expect(await service.deliverDue() == 1)
        #expect(try await fixture.outbox.find(id: dead[0].id)?.status == .sent)
        #expect(transport.sent.count == 3)
    }

    @Test("sent mail older than a date can be deleted; the rest stays")
    func deleteSent() async throws {
        let fixture = try MailFixture()
        try await fixture.outbox.enqueue(try fixture.mail(subject: "old"))
        _ = await fixture.service(transport: ScriptedTransport(), clock: TestClock()).deliverDue()
        fixture.time.advance(seconds: 86_400)
        try await fixture.outbox.enqueue(try fixture.mail(subject: "new"))
        #expect(try await fixture.outbox.deleteSent(before: fixture.time.date) == 1)
        #expect(try await fixture.outbox.list().map(\.subject) == ["new"])
    }

    @Test("a sent mail keeps its recipient, subject and status but not its bodies or unsubscribe link; unsent mail keeps everything")
    func sentMailIsRedacted() async throws {
        let fixture = try MailFixture()
        var mail = try fixture.mail(subject: "Your ticket #7")
        mail.textBody = "Open it: https://desk.example.com/ticket?id=7#token=SECRET-TOKEN"
        mail.htmlBody = "<a href=\"https://desk.example.com/ticket?id=7#token=SECRET-TOKEN\">Open</a>"
        mail.unsubscribeURL = "https://desk.example.com/api/v1/newsletter/unsubscribe?token=SECRET-UNSUB"
        let sentID = try await fixture.outbox.enqueue(mail)
        let transport = ScriptedTransport(failures: [])
        _ = await fixture.service(transport: transport, clock: TestClock()).deliverDue()
        #expect(transport.sent.first?.data.contains("SECRET-TOKEN") == true, "the mail went out whole")

        let failedID = try await fixture.outbox.enqueue(mail)
        _ = await fixture.service(transport: ScriptedTransport(failures: [MailDeliveryTests.temporary]), clock: TestClock()).deliverDue()

        let sent = try #require(try await fixture.outbox.find(id: sentID))
        #expect(sent.status == .sent && sent.toAddress == "visitor@example.org" && sent.subject == "Your ticket #7")
        #expect(sent.textBody == "" && sent.htmlBody == nil && sent.headers.unsubscribeURL == nil)
        #expect(sent.headers.fromName == "Example Desk", "the rest of the headers stay")
        let failed = try #require(try await fixture.outbox.find(id: failedID))
        #expect(failed.status == .failed && failed.textBody == mail.textBody && failed.headers.unsubscribeURL == mail.unsubscribeURL,
                "a mail still to be sent keeps what it needs")
        let anywhere = try await fixture.database.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM mail_outbox WHERE id = ? AND (text_body || COALESCE(html_body, '') || headers_json) LIKE '%SECRET%'",
                             arguments: [sentID])
        }
        #expect(anywhere == 0)
    }

    @Test("the upgrade redacts mail sent before it and leaves unsent mail alone")
    func migrationRedactsEarlierSentMail() async throws {
        let dir = TempDirectory()
        let database = try AppDatabase(path: dir.file("db.sqlite"))
        try database.migrate(upTo: "0011-idempotency-keys-per-client")
        try await database.writer.write { db in
            for (status, subject) in [("sent", "sent earlier"), ("dead", "dead earlier")] {
                try db.execute(sql: """
                    INSERT INTO mail_outbox(kind, to_address, from_address, subject, text_body, html_body, headers_json, status, next_attempt_at, created_at)
                    VALUES ('ticket_created', 'cy@example.com', 'desk@example.com', ?, 'link #token=SECRET', '<a>#token=SECRET</a>',
                            '{"from_name":"Desk","list_unsubscribe":"https://x.example/u?token=SECRET"}', ?, '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z')
                    """, arguments: [subject, status])
            }
        }
        try database.migrate()
        let rows = try await database.read { db in try OutboxMail.fetchAll(db, sql: "SELECT * FROM mail_outbox ORDER BY id") }
        #expect(rows.map(\.subject) == ["sent earlier", "dead earlier"])
        #expect(rows[0].textBody == "" && rows[0].htmlBody == nil && rows[0].headers == StoredMailHeaders(fromName: "Desk"))
        #expect(rows[0].toAddress == "cy@example.com" && rows[0].status == .sent)
        #expect(rows[1].textBody == "link #token=SECRET", "a dead mail may be retried, so it keeps its body")
    }

    @Test("an unsafe unsubscribe URL is refused at enqueue")
    func unsafeUnsubscribe() async throws {
        let fixture = try MailFixture()
        var mail = try fixture.mail()
        mail.unsubscribeURL = "https://example.com/u\r\nBcc: x@example.com"
        await #expect(throws: FrontdeskError.self) { try await fixture.outbox.enqueue(mail) }
    }
}
