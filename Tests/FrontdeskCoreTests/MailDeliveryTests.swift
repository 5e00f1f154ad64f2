import Foundation
import GRDB
import Logging
import ServiceLifecycle
import Synchronization
import Testing
@testable import FrontdeskCore
import FrontdeskTestSupport

@Suite("Mail delivery", .timeLimit(.minutes(3)))
struct MailDeliveryTests {
    static let temporary = MailTransportError(step: "RCPT TO", code: 451, message: "4.7.1 try again later", permanent: false)

    @Test("backoff doubles from 30 s, is scaled by the jitter and capped at an hour")
    func backoff() {
        let policy = MailRetryPolicy()
        #expect(policy.delay(afterAttempts: 1, unit: 0.5) == .seconds(30))
        #expect(policy.delay(afterAttempts: 2, unit: 0.5) == .seconds(60))
        #expect(policy.delay(afterAttempts: 3, unit: 0.5) == .seconds(120))
        #expect(policy.delay(afterAttempts: 1, unit: 0) == .seconds(24))
        #expect(policy.delay(afterAttempts: 1, unit: 1) == .seconds(36))
        #expect(policy.delay(afterAttempts: 8, unit: 0.5) == .seconds(3600))
        #expect(policy.delay(afterAttempts: 50, unit: 1) == .seconds(3600))
    }

    @Test("a transport that fails twice is retried with backoff, then the mail is sent")
    func retriesThenSends() async throws {
        let fixture = try MailFixture()
        let id = try await fixture.outbox.enqueue(try fixture.mail())
        let transport = ScriptedTransport(failures: [Self.temporary, Self.temporary])
        let service = fixture.service(transport: transport, clock: TestClock())

        #expect(await service.deliverDue() == 1)
        var mail = try #require(try await fixture.outbox.find(id: id))
        #expect(mail.status == .failed)
        #expect(mail.attempts == 1)
        #expect(mail.lastError == "RCPT TO failed with 451: 4.7.1 try again later")
        #expect(mail.nextAttemptAt == Timestamps.iso8601Milliseconds(fixture.time.date.addingTimeInterval(30)))

        // Not due yet: nothing happens.
        fixture.time.advance(seconds: 29)
        #expect(await service.deliverDue() == 0)
        fixture.time.advance(seconds: 1)
        #expect(await service.deliverDue() == 1)
        mail = try #require(try await fixture.outbox.find(id: id))
        #expect(mail.status == .failed)
        #expect(mail.attempts == 2)
        #expect(mail.nextAttemptAt == Timestamps.iso8601Milliseconds(fixture.time.date.addingTimeInterval(60)))

        fixture.time.advance(seconds: 60)
        #expect(await service.deliverDue() == 1)
        mail = try #require(try await fixture.outbox.find(id: id))
        #expect(mail.status == .sent)
        #expect(mail.attempts == 3)
        #expect(mail.lastError == nil)
        #expect(mail.sentAt == Timestamps.iso8601Milliseconds(fixture.time.date))
        #expect(transport.sent.count == 1)
        #expect(transport.sent[0].envelopeFrom == "desk@example.com")
        #expect(transport.sent[0].recipients == ["visitor@example.org"])
    }

    @Test("addresses in free text are masked wherever they stand; the rest of the text is kept")
    func maskAddresses() {
        #expect(MailAddress.maskAddresses(in: "550 5.1.1 <jane.doe@example.com>: Recipient address rejected")
                == "550 5.1.1 <j***@example.com>: Recipient address rejected")
        #expect(MailAddress.maskAddresses(in: "sendmail: cannot send to a+b@mail.example.org, bob@example.net.")
                == "sendmail: cannot send to a***@mail.example.org, b***@example.net.")
        #expect(MailAddress.maskAddresses(in: "RCPT TO failed with 451: 4.7.1 try again later") == "RCPT TO failed with 451: 4.7.1 try again later")
        #expect(MailAddress.maskAddresses(in: "an @ sign alone, user@ and @host stay") == "an @ sign alone, user@ and @host stay")
        #expect(MailAddress.maskAddresses(in: "Grüße an zoë@example.de") == "Grüße an z***@example.de")
    }

    @Test("a permanent rejection (5xx) makes the mail dead at once")
    func permanentIsDead() async throws {
        let fixture = try MailFixture()
        let id = try await fixture.outbox.enqueue(try fixture.mail())
        let rejection = MailTransportError(step: "RCPT TO", code: 550, message: "5.1.1 no such user", permanent: true)
        let service = fixture.service(transport: ScriptedTransport(failures: [rejection]), clock: TestClock())
        #expect(await service.deliverDue() == 1)
        let mail = try #require(try await fixture.outbox.find(id: id))
        #expect(mail.status == .dead)
        #expect(mail.attempts == 1)
        #expect(mail.lastError == "RCPT TO failed with 550: 5.1.1 no such user")
        fixture.time.advance(seconds: 86_400)
        #expect(await service.deliverDue() == 0)
    }

    @Test("after max attempts of temporary failures the mail is dead with the last error")
    func maxAttempts() async throws {
        let fixture = try MailFixture()
        let id = try await fixture.outbox.enqueue(try fixture.mail())
        let failures = (1...5).map { MailTransportError(step: "connect", message: "refused \($0)", permanent: false) }
        let service = fixture.service(transport: ScriptedTransport(failures: failures), clock: TestClock(), maxAttempts: 3)
        for _ in 0..<3 {
            #expect(await service.deliverDue() == 1)
            fixture.time.advance(seconds: 3600)
        }
        let mail = try #require(try await fixture.outbox.find(id: id))
        #expect(mail.status == .dead)
        #expect(mail.attempts == 3)
        #expect(mail.lastError == "connect failed: refused 3")
        #expect(await service.deliverDue() == 0)
    }

    @Test("mails left sending by a crash are re-queued at start and then delivered")
    func crashRecovery() async throws {
        let fixture = try MailFixture()
        let id = try await fixture.outbox.enqueue(try fixture.mail())
        // What a crash mid-attempt leaves behind: claimed, counted, never finished.
        let claimed = try await fixture.outbox.claimDue(limit: 10)
        #expect(claimed.map(\.id) == [id])
        #expect(try await fixture.outbox.find(id: id)?.status == .sending)

        let transport = ScriptedTransport()
        let service = fixture.service(transport: transport, clock: TestClock())
        #expect(await service.deliverDue() == 0)  // sending is not due
        #expect(await service.recoverInterrupted() == 1)
        let requeued = try #require(try await fixture.outbox.find(id: id))
        #expect(requeued.status == .queued)
        #expect(requeued.attempts == 1)
        #expect(await service.deliverDue() == 1)
        let mail = try #require(try await fixture.outbox.find(id: id))
        #expect(mail.status == .sent)
        #expect(mail.attempts == 2)
    }

    @Test("a stored row that cannot make a valid message is dead, not retried forever")
    func unbuildableIsDead() async throws {
        let fixture = try MailFixture()
        let id = try await fixture.outbox.enqueue(try fixture.mail())
        try await fixture.database.writer.write { db in
            try db.execute(sql: "UPDATE mail_outbox SET to_address = 'broken\r\nBcc: x@example.com' WHERE id = ?", arguments: [id])
        }
        let transport = ScriptedTransport()
        #expect(await fixture.service(transport: transport, clock: TestClock()).deliverDue() == 1)
        let mail = try #require(try await fixture.outbox.find(id: id))
        #expect(mail.status == .dead)
        #expect(mail.lastError?.hasPrefix("build message failed") == true)
        #expect(transport.sent.isEmpty)
    }

    @Test("the service recovers at start, wakes on enqueue, retries on its clock and stops on graceful shutdown", .timeLimit(.minutes(1)))
    func serviceLoop() async throws {
        let fixture = try MailFixture()
        let clock = TestClock()
        // Left `sending` by an earlier process.
        let earlier = try await fixture.outbox.enqueue(try fixture.mail(subject: "earlier"))
        _ = try await fixture.outbox.claimDue(limit: 10)

        let transport = ScriptedTransport(failures: [Self.temporary])
        let logs = MailLogCapture()
        let service = fixture.service(transport: transport, clock: clock, random: 0.5, logger: logs.logger)
        let group = ServiceGroup(services: [service], logger: Logger(label: "test.group"))
        var deliveries = transport.deliveries.makeAsyncIterator()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }

            // The recovered mail (its interrupted attempt counted) fails a second time (451) and waits 60 s.
            await clock.waitForSleeper()
            #expect(try await fixture.outbox.find(id: earlier)?.status == .failed)

            // A new mail wakes the service without any time passing.
            let fresh = try await fixture.outbox.enqueue(try fixture.mail(subject: "fresh"))
            #expect(await deliveries.next()?.id == fresh)

            // The retry becomes due on the injected wall clock and is picked up at the next poll.
            await clock.waitForSleeper()
            fixture.time.advance(seconds: 60)
            clock.advance(by: .seconds(5))
            #expect(await deliveries.next()?.id == earlier)

            await clock.waitForSleeper()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(try await fixture.outbox.countsByStatus()[.sent] == 2)
        let lines = logs.lines
        #expect(lines.contains { $0.contains("mail attempt failed") && $0.contains("retry_in_s=60") && $0.contains("attempt=2") && $0.contains("to=v***@example.org") })
        #expect(lines.filter { $0.contains("mail sent") }.count == 2)
        #expect(lines.contains { $0.contains("mail delivery stopped") })
        // Never the body, never the whole address.
        #expect(!lines.contains { $0.contains("Body text") || $0.contains("visitor@example.org") })
    }
}

/// Collects log lines (message and metadata) in memory.
final class MailLogCapture: Sendable {
    private let storage = Mutex<[String]>([])
    var lines: [String] { storage.withLock { $0 } }

    var logger: Logger {
        Logger(label: "test.mail") { _ in Handler(capture: self) }
    }

    struct Handler: LogHandler {
        let capture: MailLogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            capture.storage.withLock { $0.append("\(event.level) \(event.message) \(fields)") }
        }
    }
}
