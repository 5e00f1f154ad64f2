import Foundation
import Testing
@testable import FrontdeskCore

@Suite("Mail message")
struct MailMessageTests {
    let date = Date(timeIntervalSince1970: 1_795_708_800)  // 2026-11-26T16:00:00Z

    func message(subject: String = "Hello", fromName: String = "Example Desk", toName: String = "",
                 text: String = "Hi there.\nSecond line.", html: String? = nil, unsubscribe: String? = nil) throws -> MailMessage {
        MailMessage(from: try MailAddress("desk@example.com", name: fromName), to: [try MailAddress("visitor@example.org", name: toName)],
                    subject: subject, textBody: text, htmlBody: html, date: date, messageID: "frontdesk.1.20261119@example.com",
                    unsubscribeURL: unsubscribe)
    }

    /// Every line ends in CRLF, is ASCII and stays within RFC 5322's 998 characters (78 for headers).
    func expectWellFormed(_ raw: String) {
        #expect(raw.hasSuffix("\r\n"))
        #expect(raw.unicodeScalars.allSatisfy { $0.isASCII })
        #expect(!raw.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "bare LF")
        #expect(!raw.replacingOccurrences(of: "\r\n", with: "").contains("\r"), "bare CR")
        let headerBlock = raw.components(separatedBy: "\r\n\r\n")[0]
        for line in headerBlock.components(separatedBy: "\r\n") {
            #expect(line.count <= 78, "header line too long: \(line)")
        }
        for line in raw.components(separatedBy: "\r\n") { #expect(line.count <= 998) }
    }

    @Test("a text and HTML message has the RFC 5322 and MIME headers and decodes back to its parts")
    func multipart() throws {
        let text = "Grüße aus Köln — café ☕\nA line with = sign and trailing space \n.starts with a dot\nFrom the start"
        let html = "<p>Grüße <b>aus</b> Köln</p>" + String(repeating: "x", count: 200)
        let raw = try message(text: text, html: html).rendered(boundary: "=_test_boundary")
        expectWellFormed(raw)
        let parsed = ParsedMail(raw)
        #expect(parsed.header("Date") == "Thu, 26 Nov 2026 16:00:00 +0000")
        #expect(parsed.header("From") == "\"Example Desk\" <desk@example.com>")
        #expect(parsed.header("To") == "visitor@example.org")
        #expect(parsed.header("Message-ID") == "<frontdesk.1.20261119@example.com>")
        #expect(parsed.header("MIME-Version") == "1.0")
        #expect(parsed.header("Auto-Submitted") == "auto-generated")
        #expect(parsed.header("Content-Type") == "multipart/alternative; boundary=\"=_test_boundary\"")
        #expect(parsed.header("List-Unsubscribe") == nil)
        #expect(parsed.part("text/plain") == text.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(parsed.part("text/html") == html)
        // The dot and "From " at a line start are encoded, so neither SMTP nor mbox touches them.
        #expect(raw.contains("\r\n=2Estarts with a dot"))
        #expect(raw.contains("\r\n=46rom the start"))
    }

    @Test("a text-only message is a single quoted-printable part")
    func textOnly() throws {
        let raw = try message(text: "Just text.").rendered()
        expectWellFormed(raw)
        let parsed = ParsedMail(raw)
        #expect(parsed.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(parsed.header("Content-Transfer-Encoding") == "quoted-printable")
        #expect(parsed.part("text/plain") == "Just text.")
    }

    @Test("non-ASCII subjects and display names become RFC 2047 encoded-words that decode back", arguments: [
        "Grüße aus Köln",
        "Заявка на обслуживание — очень длинная тема письма, чтобы пришлось разбить её на несколько слов",
        "日本語の件名です🎉 emoji and ASCII mixed =? with a question",
        "Plain subject with a literal =?UTF-8?B?Zm9v?= inside",
    ])
    func encodedWords(subject: String) throws {
        let raw = try message(subject: subject, fromName: "Zoë Ångström", toName: "Jürgen").rendered()
        expectWellFormed(raw)
        let parsed = ParsedMail(raw)
        let encodedSubject = try #require(parsed.header("Subject"))
        #expect(encodedSubject.hasPrefix("=?UTF-8?B?"))
        #expect(decodeEncodedWords(encodedSubject) == subject)
        let from = try #require(parsed.header("From"))
        #expect(decodeEncodedWords(from) == "Zoë Ångström <desk@example.com>")
        #expect(decodeEncodedWords(try #require(parsed.header("To"))) == "Jürgen <visitor@example.org>")
        // Each encoded word is at most 75 characters (RFC 2047 §2).
        for word in raw.components(separatedBy: CharacterSet(charactersIn: " \r\n")) where word.hasPrefix("=?") {
            #expect(word.count <= 75, "\(word)")
        }
    }

    @Test("a long ASCII subject is folded at spaces and unfolds to the original")
    func foldedSubject() throws {
        let subject = (1...30).map { "word\($0)" }.joined(separator: " ")
        let raw = try message(subject: subject).rendered()
        expectWellFormed(raw)
        #expect(ParsedMail(raw).header("Subject") == subject)
    }

    @Test("header injection through names and subjects is neutralised", arguments: [
        "Hi\r\nBcc: victim@example.net",
        "Hi\nBcc: victim@example.net",
        "Hi\rBcc: victim@example.net",
        "Hi\u{2028}Bcc: victim@example.net",
        "Hi\u{85}Bcc: victim@example.net",
        "Hi\r\n\r\n<script>body injection</script>",
        "Hi\0\u{1B}[31m\u{7F}Bcc: victim@example.net",
    ])
    func headerInjection(evil: String) throws {
        let raw = try message(subject: evil, fromName: evil, toName: evil).rendered()
        expectWellFormed(raw)
        let parsed = ParsedMail(raw)
        #expect(parsed.all("Bcc").isEmpty)
        #expect(parsed.headers.map(\.name) == ["Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "Auto-Submitted",
                                               "Content-Type", "Content-Transfer-Encoding"])
        // The text survives as one line, with the control characters gone.
        let subject = decodeEncodedWords(try #require(parsed.header("Subject")))
        #expect(!subject.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F || $0 == "\u{2028}" || $0 == "\u{85}" })
        #expect(subject.hasPrefix("Hi "))
        #expect(parsed.part("text/plain") == "Hi there.\r\nSecond line.")
    }

    @Test("addresses with CR, LF, spaces or other tricks are rejected", arguments: [
        "visitor@example.org\r\nBcc: victim@example.net",
        "visitor@example.org\nRCPT TO:<victim@example.net>",
        "visitor@example.org>,<victim@example.net",
        "\"visitor\"@example.org",
        "visitor @example.org",
        "vïsitor@example.org",
        "visitor@exämple.org",
        "visitor@localhost",
        "",
    ])
    func badAddresses(address: String) {
        #expect(throws: FrontdeskError.self) { try MailAddress(address, field: "to") }
    }

    @Test("the sender may be name@localhost (the default); a recipient may not")
    func localhostSender() throws {
        #expect(try MailAddress("frontdesk@localhost", allowLocalhost: true).address == "frontdesk@localhost")
        #expect(throws: FrontdeskError.self) { try MailAddress("frontdesk@localhost") }
        #expect(try MailSettings().sender().address == "frontdesk@localhost")
    }

    @Test("an unsubscribe URL adds List-Unsubscribe and one-click List-Unsubscribe-Post (RFC 8058)")
    func listUnsubscribe() throws {
        let url = "https://desk.example.com/api/v1/newsletter/unsubscribe?token=abc123"
        let parsed = ParsedMail(try message(unsubscribe: url).rendered())
        #expect(parsed.header("List-Unsubscribe") == "<\(url)>")
        #expect(parsed.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click")
    }

    @Test("an unsubscribe URL that could break the header is refused", arguments: [
        "https://example.com/u?x=1\r\nBcc: victim@example.net", "https://example.com/u>, <mailto:x@example.com",
        "javascript:alert(1)", "https://example.com/a b", "ftp://example.com/",
    ])
    func badUnsubscribeURL(url: String) throws {
        #expect(throws: MailMessage.BuildError.self) { try message(unsubscribe: url).rendered() }
    }

    @Test("quoted-printable keeps lines within 76 characters and round-trips any text")
    func quotedPrintable() {
        let samples = [
            String(repeating: "a", count: 300), String(repeating: "é", count: 100), "tab\tend\t", "=\n==\n", "", "\n\n",
            "Line one\r\nLine two\rLine three", "😀" + String(repeating: "=", count: 80),
        ]
        for sample in samples {
            let encoded = QuotedPrintable.encode(sample)
            for line in encoded.components(separatedBy: "\r\n") { #expect(line.count <= 76, "\(line)") }
            let normalized = sample.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
                .replacingOccurrences(of: "\n", with: "\r\n")
            #expect(String(decoding: QuotedPrintable.decode(encoded), as: UTF8.self) == normalized)
        }
    }

    @Test("the log form of an address shows only its first letter and domain")
    func masking() throws {
        #expect(try MailAddress("alice.smith@example.com").masked == "a***@example.com")
        #expect(MailAddress.mask("not an address") == "***")
    }
}
