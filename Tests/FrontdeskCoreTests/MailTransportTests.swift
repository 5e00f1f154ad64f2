import Foundation
import Testing
@testable import FrontdeskCore
import FrontdeskTestSupport

@Suite("Mail transports: file and sendmail")
struct MailTransportTests {
    @Test("the file transport writes each message as a parseable .eml under <data_dir>/mail")
    func fileTransport() async throws {
        let fixture = try MailFixture()
        let templates = try MailTestResources.templates()
        let content = try templates.newsletterConfirmation(siteName: "Bäckerei Müller", confirmURL: "https://desk.example.com/c?t=abc")
        let unsubscribe = "https://desk.example.com/api/v1/newsletter/unsubscribe?token=abc"
        let id = try await fixture.outbox.enqueue(OutgoingMail(kind: .newsletterConfirmation, to: try MailAddress("reader@example.org", name: "Zoë"),
                                                               content: content, unsubscribeURL: unsubscribe))
        let settings = MailSettings(transport: .file)
        let transport = try settings.makeTransport(dataDirectory: fixture.dir.path, now: fixture.time.wall)
        #expect(transport.name == "file")
        #expect(await fixture.service(transport: transport, clock: TestClock()).deliverDue() == 1)
        #expect(try await fixture.outbox.find(id: id)?.status == .sent)

        let spool = fixture.dir.file("mail")
        let files = try FileManager.default.contentsOfDirectory(atPath: spool)
        #expect(files == ["\(Timestamps.iso8601Milliseconds(fixture.time.date).replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "-", with: ""))-\(id).eml"])
        let raw = try String(contentsOfFile: (spool as NSString).appendingPathComponent(files[0]), encoding: .utf8)
        let parsed = ParsedMail(raw)
        #expect(parsed.header("To").map(decodeEncodedWords) == "Zoë <reader@example.org>")
        #expect(parsed.header("From") == "\"Example Desk\" <desk@example.com>")
        #expect(decodeEncodedWords(try #require(parsed.header("Subject"))) == "Confirm your subscription to Bäckerei Müller")
        #expect(parsed.header("Message-ID")?.hasPrefix("<frontdesk.\(id).") == true)
        #expect(parsed.header("List-Unsubscribe") == "<\(unsubscribe)>")
        #expect(parsed.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click")
        let text = try #require(parsed.part("text/plain"))
        #expect(text.contains("https://desk.example.com/c?t=abc"))
        let html = try #require(parsed.part("text/html"))
        #expect(html.contains("href=\"https://desk.example.com/c?t=abc\""))
        #expect(html.contains("Bäckerei Müller"))
        // Nothing half-written is left beside it.
        #expect(files.allSatisfy { $0.hasSuffix(".eml") })
    }

    /// A sendmail stand-in: records its arguments and stdin beside itself, prints to stderr and exits as told.
    func fakeSendmail(in dir: TempDirectory, exit status: Int = 0, stderr: String = "") throws -> String {
        let path = dir.file("sendmail")
        try """
            #!/bin/sh
            here=$(dirname "$0")
            for arg in "$@"; do printf '%s\\n' "$arg"; done > "$here/args.txt"
            cat > "$here/stdin.txt"
            printf '%s' '\(stderr)' >&2
            exit \(status)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    @Test("sendmail gets -i -f <from> -- <to> and the message on stdin")
    func sendmailTransport() async throws {
        let dir = TempDirectory()
        let transport = SendmailTransport(path: try fakeSendmail(in: dir))
        let data = "Subject: hi\r\n\r\n.leading dot stays\r\nbody\r\n"
        try await transport.send(RenderedMail(id: 7, envelopeFrom: "desk@example.com", recipients: ["-oQ@example.org"], data: data))
        let args = try String(contentsOfFile: dir.file("args.txt"), encoding: .utf8)
        #expect(args == "-i\n-f\ndesk@example.com\n--\n-oQ@example.org\n")
        let stdin = try String(contentsOfFile: dir.file("stdin.txt"), encoding: .utf8)
        #expect(stdin == "Subject: hi\n\n.leading dot stays\nbody\n")
    }

    @Test("sendmail's non-zero exit is a failure carrying its stderr; EX_NOUSER is permanent, EX_TEMPFAIL is not")
    func sendmailFailures() async throws {
        let dir = TempDirectory()
        let temporary = SendmailTransport(path: try fakeSendmail(in: dir, exit: 75, stderr: "queue is full"))
        let message = RenderedMail(id: 1, envelopeFrom: "desk@example.com", recipients: ["a@example.org"], data: "Subject: x\r\n\r\nbody\r\n")
        do {
            try await temporary.send(message)
            Issue.record("expected a failure")
        } catch let error as MailTransportError {
            #expect(error == MailTransportError(step: "sendmail", code: 75, message: "queue is full", permanent: false))
        }
        let permanent = SendmailTransport(path: try fakeSendmail(in: dir, exit: 67, stderr: "no such user"))
        await #expect(throws: MailTransportError(step: "sendmail", code: 67, message: "no such user", permanent: true)) {
            try await permanent.send(message)
        }
        let missing = SendmailTransport(path: dir.file("does-not-exist"))
        do {
            try await missing.send(message)
            Issue.record("expected a failure")
        } catch let error as MailTransportError {
            #expect(error.step == "sendmail")
            #expect(!error.permanent)
        }
    }

    @Test("a sendmail that hangs is killed after its timeout and the attempt is temporary")
    func sendmailTimeout() async throws {
        let dir = TempDirectory()
        let path = dir.file("slow")
        try "#!/bin/sh\nexec sleep 30\n".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        let transport = SendmailTransport(path: path, timeout: .milliseconds(300))
        let message = RenderedMail(id: 1, envelopeFrom: "desk@example.com", recipients: ["a@example.org"], data: "x\r\n")
        do {
            try await transport.send(message)
            Issue.record("expected a timeout")
        } catch let error as MailTransportError {
            #expect(error.message.contains("did not finish"))
            #expect(!error.permanent)
        }
    }

    @Test("the mail settings pick the transport and refuse clear text to a remote relay")
    func settings() throws {
        let dir = TempDirectory()
        #expect(try MailSettings(transport: .sendmail, sendmailPath: "/usr/bin/msmtp").makeTransport(dataDirectory: dir.path).name == "sendmail")
        #expect(try MailSettings(transport: .smtp, smtpHost: "127.0.0.1", smtpPort: 25, smtpTLS: .none).makeTransport(dataDirectory: dir.path).name == "smtp")
        #expect(throws: MailTransportError.self) {
            try MailSettings(transport: .smtp, smtpHost: "smtp.example.com", smtpTLS: .none).makeTransport(dataDirectory: dir.path)
        }
        let problems = MailSettings(transport: .smtp, fromAddress: "not-an-address", ownerAddress: "also bad", smtpHost: "smtp.example.com", smtpTLS: .none)
            .problems(source: "test.toml").map(\.key)
        #expect(problems == ["mail.from_address", "mail.owner_address", "mail.smtp_tls"])
        #expect(MailSettings(transport: .smtp).problems(source: "x").map(\.key) == ["mail.smtp_host"])
        #expect(MailSettings().problems(source: "x").isEmpty)
        #expect(!MailSettings(smtpPassword: "hunter2").description.contains("hunter2"))
    }

    @Test("mail settings come from the TOML file and the environment, the password preferably from FRONTDESK_MAIL_SMTP_PASSWORD")
    func configuration() throws {
        let dir = TempDirectory()
        let file = dir.file("frontdesk.toml")
        try """
            [mail]
            transport = "smtp"
            from_address = "desk@example.com"
            from_name = "Example Desk"
            owner_address = "owner@example.com"
            smtp_host = "smtp.example.com"
            smtp_port = 465
            smtp_tls = "tls"
            smtp_username = "desk"
            max_attempts = 5
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let config = try FrontdeskConfig.load(file: file, environment: ["FRONTDESK_MAIL_SMTP_PASSWORD": "s3cret"])
        #expect(config.mail == MailSettings(transport: .smtp, fromAddress: "desk@example.com", fromName: "Example Desk", ownerAddress: "owner@example.com",
                                            smtpHost: "smtp.example.com", smtpPort: 465, smtpTLS: .implicitTLS, smtpUsername: "desk",
                                            smtpPassword: "s3cret", maxAttempts: 5))
        #expect(try config.mail.owner()?.address == "owner@example.com")
        #expect(FrontdeskConfig.defaults.mail == MailSettings())
        #expect(throws: (any Error).self) {
            try FrontdeskConfig.load(file: nil, environment: ["FRONTDESK_MAIL_TRANSPORT": "smtp"])
        }
    }
}
