import Foundation
import NIOSSL
import Testing
@testable import FrontdeskCore
import FrontdeskTestSupport

/// The SMTP transport against a real SMTP server on 127.0.0.1 (`TestSMTPServer`, NIO).
@Suite("Mail transport: SMTP", .timeLimit(.minutes(1)))
struct MailSMTPTests {
    func message(id: Int64 = 1, data: String? = nil) throws -> RenderedMail {
        let mail = MailMessage(from: try MailAddress("desk@example.com", name: "Desk"), to: [try MailAddress("visitor@example.org")],
                               subject: "Über SMTP", textBody: "Hello over SMTP.", htmlBody: "<p>Hello</p>",
                               date: Date(timeIntervalSince1970: 1_795_708_800), messageID: "frontdesk.\(id).x@example.com")
        return RenderedMail(id: id, envelopeFrom: "desk@example.com", recipients: ["visitor@example.org"], data: try data ?? mail.rendered())
    }

    func transport(_ server: TestSMTPServer, host: String = "127.0.0.1", security: SMTPTransport.Security = .none,
                   username: String? = nil, password: String? = nil, tls: TLSConfiguration = .makeClientConfiguration(),
                   timeouts: SMTPTransport.Timeouts = SMTPTransport.Timeouts(connect: .seconds(5), command: .seconds(10), data: .seconds(10))) throws -> SMTPTransport {
        try SMTPTransport(configuration: SMTPTransport.Configuration(host: host, port: server.port, security: security, username: username,
                                                                    password: password, heloName: "frontdesk.test", timeouts: timeouts, tls: tls))
    }

    @Test("a message is delivered: EHLO, MAIL FROM, RCPT TO, DATA, QUIT; the server receives it byte for byte")
    func plainDelivery() async throws {
        let server = try await TestSMTPServer.start()
        defer { Task { await server.stop() } }
        let message = try message()
        try await transport(server).send(message)
        let received = try #require(server.received.first)
        #expect(received.from == "desk@example.com")
        #expect(received.recipients == ["visitor@example.org"])
        #expect(received.data == message.data)
        #expect(server.commands == ["EHLO frontdesk.test", "MAIL FROM:<desk@example.com>", "RCPT TO:<visitor@example.org>", "DATA", "QUIT"])
        #expect(ParsedMail(received.data).part("text/plain") == "Hello over SMTP.")
    }

    @Test("lines starting with a dot are dot-stuffed on the wire and arrive unchanged")
    func dotStuffing() async throws {
        let server = try await TestSMTPServer.start()
        defer { Task { await server.stop() } }
        let data = "Subject: dots\r\n\r\n.\r\n..two\r\n.one\r\nmiddle . dot\r\n.\r\nlast\r\n"
        try await transport(server).send(try message(data: data))
        let received = try #require(server.received.first)
        #expect(received.data == data)
        #expect(received.wireLines == ["Subject: dots", "", "..", "...two", "..one", "middle . dot", "..", "last"])
        #expect(SMTPTransport.dotStuffed("a\nb") == "a\r\nb\r\n.\r\n")
    }

    @Test("a server that answers 451 twice: two temporary failures naming RCPT TO, then the outbox delivers it")
    func temporaryFailuresThenSuccess() async throws {
        let server = try await TestSMTPServer.start(TestSMTPServer.Behaviour(temporaryFailures: 2))
        defer { Task { await server.stop() } }
        let fixture = try MailFixture()
        let id = try await fixture.outbox.enqueue(try fixture.mail())
        let service = fixture.service(transport: try transport(server), clock: TestClock())

        #expect(await service.deliverDue() == 1)
        var mail = try #require(try await fixture.outbox.find(id: id))
        #expect(mail.status == .failed)
        #expect(mail.lastError == "RCPT TO failed with 451: 4.7.1 Greylisted, try again later")
        fixture.time.advance(seconds: 30)
        #expect(await service.deliverDue() == 1)
        #expect(try await fixture.outbox.find(id: id)?.status == .failed)
        fixture.time.advance(seconds: 60)
        #expect(await service.deliverDue() == 1)
        mail = try #require(try await fixture.outbox.find(id: id))
        #expect(mail.status == .sent)
        #expect(mail.attempts == 3)
        #expect(server.received.count == 1)
        #expect(server.connections == 3)
        #expect(ParsedMail(server.received[0].data).header("Message-ID")?.hasPrefix("<frontdesk.\(id).") == true)
    }

    @Test("a 550 is a permanent error naming the step, and the outbox marks the mail dead at once")
    func permanentRejection() async throws {
        let server = try await TestSMTPServer.start(TestSMTPServer.Behaviour(rejectRecipients: true))
        defer { Task { await server.stop() } }
        do {
            try await transport(server).send(try message())
            Issue.record("expected a rejection")
        } catch let error as MailTransportError {
            #expect(error.step == "RCPT TO")
            #expect(error.code == 550)
            #expect(error.permanent)
            #expect(error.message.contains("no such user"))
        }
        let fixture = try MailFixture()
        let id = try await fixture.outbox.enqueue(try fixture.mail())
        #expect(await fixture.service(transport: try transport(server), clock: TestClock()).deliverDue() == 1)
        #expect(try await fixture.outbox.find(id: id)?.status == .dead)
    }

    @Test("a rejection quoting the recipient is kept in last_error and logged with the address masked")
    func rejectionTextIsMasked() async throws {
        let server = try await TestSMTPServer.start(TestSMTPServer.Behaviour(rejectRecipients: true))
        defer { Task { await server.stop() } }
        let fixture = try MailFixture()
        let id = try await fixture.outbox.enqueue(try fixture.mail())
        let logs = MailLogCapture()
        #expect(await fixture.service(transport: try transport(server), clock: TestClock(), logger: logs.logger).deliverDue() == 1)
        let mail = try #require(try await fixture.outbox.find(id: id))
        #expect(mail.status == .dead)
        #expect(mail.lastError == "RCPT TO failed with 550: 5.1.1 <v***@example.org>: Recipient address rejected: no such user")
        let dead = try #require(logs.lines.first { $0.contains("mail dead") })
        #expect(dead.contains("error=RCPT TO failed with 550: 5.1.1 <v***@example.org>"))
        #expect(!logs.lines.contains { $0.contains("visitor@example.org") })
    }

    @Test("AUTH PLAIN and AUTH LOGIN sign in; wrong credentials are a 535 naming AUTH")
    func authentication() async throws {
        let plain = try await TestSMTPServer.start(TestSMTPServer.Behaviour(credentials: ("desk", "s3cret pass")))
        defer { Task { await plain.stop() } }
        try await transport(plain, username: "desk", password: "s3cret pass").send(try message())
        #expect(plain.received.first?.authenticatedAs == "desk")
        #expect(plain.commands.contains("AUTH PLAIN <credentials>"))

        let login = try await TestSMTPServer.start(TestSMTPServer.Behaviour(credentials: ("desk", "pw"), authMechanisms: ["LOGIN"]))
        defer { Task { await login.stop() } }
        try await transport(login, username: "desk", password: "pw").send(try message())
        #expect(login.received.first?.authenticatedAs == "desk")
        #expect(login.commands.contains("AUTH LOGIN"))

        await #expect(throws: MailTransportError(step: "AUTH", code: 535, message: "5.7.8 Error: authentication failed", permanent: true)) {
            try await transport(plain, username: "desk", password: "wrong").send(try message())
        }
        // Without credentials the server's 530 names MAIL FROM.
        do {
            try await transport(plain).send(try message())
            Issue.record("expected 530")
        } catch let error as MailTransportError {
            #expect(error.step == "MAIL FROM")
            #expect(error.code == 530)
        }
    }

    @Test("STARTTLS with a self-signed certificate: upgraded, EHLO again, AUTH and the message inside TLS")
    func startTLS() async throws {
        let dir = TempDirectory()
        guard let certificate = try TestCertificate.make(in: dir) else {
            Issue.record("openssl is not installed: cannot make a certificate for the STARTTLS test (apt-get install openssl)")
            return
        }
        let server = try await TestSMTPServer.start(TestSMTPServer.Behaviour(credentials: ("desk", "pw"), startTLS: try certificate.serverContext()))
        defer { Task { await server.stop() } }
        try await transport(server, host: "localhost", security: .startTLS, username: "desk", password: "pw",
                            tls: try certificate.clientConfiguration()).send(try message())
        let received = try #require(server.received.first)
        #expect(received.overTLS)
        #expect(received.authenticatedAs == "desk")
        #expect(server.commands.prefix(3) == ["EHLO frontdesk.test", "STARTTLS", "EHLO frontdesk.test"])

        // A client that does not trust the certificate fails at the handshake, temporarily.
        do {
            try await transport(server, host: "localhost", security: .startTLS).send(try message())
            Issue.record("expected a certificate failure")
        } catch let error as MailTransportError {
            #expect(error.step == "TLS handshake")
            #expect(!error.permanent)
        }
        #expect(server.received.count == 1)
    }

    @Test("implicit TLS (port 465 style) delivers over TLS from the first byte")
    func implicitTLS() async throws {
        let dir = TempDirectory()
        guard let certificate = try TestCertificate.make(in: dir) else {
            Issue.record("openssl is not installed: cannot make a certificate for the TLS test (apt-get install openssl)")
            return
        }
        let server = try await TestSMTPServer.start(TestSMTPServer.Behaviour(implicitTLS: try certificate.serverContext()))
        defer { Task { await server.stop() } }
        try await transport(server, host: "127.0.0.1", security: .implicitTLS, tls: try certificate.clientConfiguration()).send(try message())
        #expect(server.received.first?.overTLS == true)
    }

    @Test("credentials and mail are never sent in clear text when STARTTLS is missing or tampered with")
    func downgradeProtection() async throws {
        // A remote relay (the test server, treated as remote) that offers no STARTTLS: refused
        // before any credentials or mail are sent.
        let plain = try await TestSMTPServer.start(TestSMTPServer.Behaviour(credentials: ("desk", "pw")))
        defer { Task { await plain.stop() } }
        var remote = SMTPTransport.Configuration(host: "127.0.0.1", port: plain.port, security: .startTLS, username: "desk", password: "pw",
                                                 heloName: "frontdesk.test")
        remote.assumeRemote = true
        do {
            try await SMTPTransport(configuration: remote).send(try message())
            Issue.record("expected a refusal")
        } catch let error as MailTransportError {
            #expect(error.step == "STARTTLS")
            #expect(error.message.contains("does not offer STARTTLS"))
        }
        #expect(plain.commands == ["EHLO frontdesk.test"])

        #expect(SMTPTransport.isLoopback("127.0.0.1"))
        #expect(SMTPTransport.isLoopback("localhost"))
        #expect(SMTPTransport.isLoopback("[::1]"))
        #expect(!SMTPTransport.isLoopback("smtp.example.com"))
        #expect(!SMTPTransport.isLoopback("127.0.0.1.example.com"))
        #expect(!SMTPTransport.isLoopback("10.0.0.1"))

        // Bytes injected after the STARTTLS 220 are refused.
        let dir = TempDirectory()
        guard let certificate = try TestCertificate.make(in: dir) else {
            Issue.record("openssl is not installed (apt-get install openssl)")
            return
        }
        let server = try await TestSMTPServer.start(TestSMTPServer.Behaviour(startTLS: try certificate.serverContext(),
                                                                             injectAfterStartTLS: "250 injected\r\n"))
        defer { Task { await server.stop() } }
        do {
            try await transport(server, host: "localhost", security: .startTLS, tls: try certificate.clientConfiguration()).send(try message())
            Issue.record("expected the injection to be refused")
        } catch let error as MailTransportError {
            #expect(error.step == "STARTTLS")
            #expect(error.message.contains("before the TLS handshake"))
        }
        #expect(server.received.isEmpty)
    }

    @Test("a server that never answers times out at the greeting; a closed port fails at connect; both temporary")
    func timeoutsAndConnect() async throws {
        let silent = try await TestSMTPServer.start(TestSMTPServer.Behaviour(greets: false))
        defer { Task { await silent.stop() } }
        let quick = SMTPTransport.Timeouts(connect: .seconds(2), command: .milliseconds(300), data: .seconds(1))
        do {
            try await transport(silent, timeouts: quick).send(try message())
            Issue.record("expected a timeout")
        } catch let error as MailTransportError {
            #expect(error.step == "greeting")
            #expect(error.message.contains("no answer"))
            #expect(!error.permanent)
        }

        let closed = try await TestSMTPServer.start()
        let port = closed.port
        await closed.stop()
        let transport = try SMTPTransport(configuration: SMTPTransport.Configuration(host: "127.0.0.1", port: port, security: .none, timeouts: quick))
        do {
            try await transport.send(try message())
            Issue.record("expected a connection failure")
        } catch let error as MailTransportError {
            #expect(error.step == "connect")
            #expect(!error.permanent)
        }
    }
}
