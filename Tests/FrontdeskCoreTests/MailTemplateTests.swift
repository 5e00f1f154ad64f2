import Foundation
import Testing
@testable import FrontdeskCore

@Suite("Mail templates")
struct MailTemplateTests {
    @Test("the contact notification escapes values in HTML and keeps them as written in text")
    func contactNotification() throws {
        let templates = try MailTestResources.templates()
        let content = try templates.contactNotification(
            siteName: "Bakery", name: "Eve <script>alert(1)</script>", email: "eve@example.org", subject: "Order & \"delivery\"",
            message: "Line one\nLine <b>two</b>", fields: ["phone": "+49 <123>"], submittedAt: Date(timeIntervalSince1970: 1_795_708_800),
            submissionURL: "https://desk.example.com/admin/#/inbox/7")
        #expect(content.subject == "[Bakery] Order & \"delivery\"")
        #expect(content.text.contains("Eve <script>alert(1)</script> <eve@example.org> wrote"))
        #expect(content.text.contains("Line one\nLine <b>two</b>"))
        #expect(content.text.contains("phone: +49 <123>"))
        #expect(content.text.contains("https://desk.example.com/admin/#/inbox/7"))
        let html = try #require(content.html)
        #expect(!html.contains("<script>"))
        #expect(html.contains("Eve &lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("Line &lt;b&gt;two&lt;/b&gt;"))
        #expect(html.contains("Order &amp; &quot;delivery&quot;"))
        #expect(html.contains("+49 &lt;123&gt;"))
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<title>Message from Eve &lt;script&gt;"))
    }

    @Test("without a subject the notification says who wrote")
    func contactWithoutSubject() throws {
        let content = try MailTestResources.templates().contactNotification(
            siteName: "Bakery", name: "Ann", email: "ann@example.org", subject: nil, message: "Hi", submittedAt: Date())
        #expect(content.subject == "[Bakery] Message from Ann")
        #expect(!content.text.contains("Subject:"))
        #expect(!content.text.contains("Other fields"))
    }

    @Test("a subject cannot smuggle a line break out of the template")
    func subjectIsOneLine() throws {
        let content = try MailTestResources.templates().contactNotification(
            siteName: "Bakery", name: "Eve", email: "eve@example.org", subject: "Hi\r\nBcc: victim@example.net", message: "x", submittedAt: Date())
        #expect(content.subject == "[Bakery] Hi Bcc: victim@example.net")
    }

    @Test("the newsletter confirmation carries the one-click link in both parts")
    func newsletter() throws {
        let url = "https://desk.example.com/api/v1/newsletter/confirm?token=abc&x=1"
        let content = try MailTestResources.templates().newsletterConfirmation(siteName: "Bakery", confirmURL: url)
        #expect(content.subject == "Confirm your subscription to Bakery")
        #expect(content.text.contains(url))
        #expect(content.html?.contains("href=\"https://desk.example.com/api/v1/newsletter/confirm?token=abc&amp;x=1\"") == true)
    }

    @Test("ticket mails carry the magic link, the ticket number and the agent's reply")
    func tickets() throws {
        let templates = try MailTestResources.templates()
        let link = "https://desk.example.com/tickets/12?token=t0k3n"
        let created = try templates.ticketCreated(siteName: "Bakery", ticketID: 12, subject: "Broken oven", customerName: "Bob", ticketURL: link)
        #expect(created.subject == "[Bakery #12] Broken oven")
        #expect(created.text.hasPrefix("Hello Bob,"))
        #expect(created.text.contains(link))
        #expect(created.html?.contains(link) == true)

        let reply = try templates.ticketReply(siteName: "Bakery", ticketID: 12, subject: "Broken oven", customerName: nil, agentName: "Alice",
                                              reply: "Try turning it off & on.", ticketURL: link)
        #expect(reply.subject == "Re: [Bakery #12] Broken oven")
        #expect(reply.text.hasPrefix("Hello,"))
        #expect(reply.text.contains("Try turning it off & on."))
        #expect(reply.html?.contains("Try turning it off &amp; on.") == true)
        #expect(reply.html?.contains(link) == true)
    }

    @Test("templates load from keyed sources; a missing or broken one is named")
    func loading() throws {
        let sources = try MailTemplates.sources(inDirectory: MailTestResources.directory)
        #expect(sources.count >= 12)
        var missing = sources
        missing["ticket_reply.txt.mustache"] = nil
        #expect(throws: MailTemplates.TemplateError.self) { try MailTemplates(sources: missing, required: InboxMailer.templates) }
        var broken = sources
        broken["ticket_reply.txt.mustache"] = "{{#open}} never closed"
        do {
            _ = try MailTemplates(sources: broken)
            Issue.record("expected a parse error")
        } catch let error as MailTemplates.TemplateError {
            #expect(error.description.contains("ticket_reply.txt.mustache"))
        }
        // An edited copy replaces the shipped one.
        var edited = sources
        edited["ticket_created.subject.mustache"] = "Ticket {{ticket_id}} received"
        let templates = try MailTemplates(sources: edited)
        #expect(try templates.ticketCreated(siteName: "B", ticketID: 3, subject: "s", customerName: nil, ticketURL: "https://x.example/t").subject
                == "Ticket 3 received")
    }
}
