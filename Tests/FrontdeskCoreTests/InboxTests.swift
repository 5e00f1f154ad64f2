import Foundation
import Testing

@testable import FrontdeskCore
import FrontdeskTestSupport

@Suite("Inbox")
struct InboxTests {
    // MARK: Spam guard

    @Test("a form token enforces the minimum fill time, its form and its expiry")
    func formToken() throws {
        let clock = TestClock(start: mailTestStart)
        let guardian = FormGuard(secret: Data(repeating: 7, count: 32), settings: SpamSettings(minFillSeconds: 3), now: clock.wall)
        let token = guardian.issueToken(form: "contact")
        let body: [String: JSONValue] = ["name": .string("Ann"), "formToken": .string(token)]

        clock.advance(seconds: 1)
        let early = try #require(throws: FrontdeskError.self) { try guardian.screen(form: "contact", body) }
        #expect(early.code == "submitted_too_fast")

        clock.advance(seconds: 3)
        let (verdict, rest) = try guardian.screen(form: "contact", body)
        #expect(verdict == .accept)
        #expect(rest == ["name": .string("Ann")], "the guard's own fields are removed before the form validates")

        let other = try #require(throws: FrontdeskError.self) { try guardian.screen(form: "quote", body) }
        #expect(other.details["formToken"]?.contains("another form") == true)

        let tampered = token.replacingOccurrences(of: "v2.contact.", with: "v2.contact.1")
        #expect(throws: FrontdeskError.self) { try guardian.screen(form: "contact", ["formToken": .string(tampered)]) }

        let otherInstall = FormGuard(secret: Data(repeating: 8, count: 32), settings: SpamSettings(minFillSeconds: 0), now: clock.wall)
        #expect(throws: FrontdeskError.self) { try otherInstall.screen(form: "contact", body) }

        clock.advance(seconds: 86_400)
        let expired = try #require(throws: FrontdeskError.self) { try guardian.screen(form: "contact", body) }
        #expect(expired.details["formToken"]?.contains("expired") == true)
    }

    @Test("a form token is good for one post: a replay gets form_token_used; a post refused as too fast does not spend it")
    func formTokenSingleUse() throws {
        let clock = TestClock(start: mailTestStart)
        let guardian = FormGuard(secret: Data(repeating: 7, count: 32), settings: SpamSettings(minFillSeconds: 3), now: clock.wall)
        let token = guardian.issueToken(form: "contact")
        let body: [String: JSONValue] = ["name": .string("Ann"), "formToken": .string(token)]

        clock.advance(seconds: 1)
        let early = try #require(throws: FrontdeskError.self) { try guardian.screen(form: "contact", body) }
        #expect(early.code == "submitted_too_fast")
        clock.advance(seconds: 3)
        #expect(try guardian.screen(form: "contact", body).0 == .accept, "the early refusal did not spend the token")

        let replay = try #require(throws: FrontdeskError.self) { try guardian.screen(form: "contact", body) }
        #expect(replay.code == "form_token_used")
        #expect(replay.details["formToken"]?.contains("already used") == true)
        clock.advance(seconds: 3600)
        #expect(throws: FrontdeskError.self, "still refused later in the token's lifetime") { try guardian.screen(form: "contact", body) }

        // Two tokens for the same form issued in the same millisecond are two tokens.
        let first = guardian.issueToken(form: "contact")
        let second = guardian.issueToken(form: "contact")
        #expect(first != second)
        clock.advance(seconds: 3)
        #expect(try guardian.screen(form: "contact", ["formToken": .string(first)]).0 == .accept)
        #expect(try guardian.screen(form: "contact", ["formToken": .string(second)]).0 == .accept)
    }

    @Test("a post refused for its puzzle does not spend its form token")
    func failedPuzzleKeepsToken() throws {
        let clock = TestClock(start: mailTestStart)
        let guardian = FormGuard(secret: Data(repeating: 2, count: 32), settings: SpamSettings(minFillSeconds: 0, proofOfWork: true, proofOfWorkMaxNumber: 500),
                                 now: clock.wall)
        let token = JSONValue.string(guardian.issueToken(form: "newsletter"))
        func solved(_ challenge: FormGuard.Challenge, off: Int = 0) -> JSONValue {
            let number = (0...challenge.maxNumber).first { ContentDigest.sha256Hex(challenge.salt + String($0)) == challenge.challenge }! + off
            return .object(["salt": .string(challenge.salt), "challenge": .string(challenge.challenge), "signature": .string(challenge.signature),
                            "number": .number(Double(number))])
        }
        let challenge = try #require(guardian.issueChallenge())
        let wrong = try #require(throws: FrontdeskError.self) { try guardian.screen(form: "newsletter", ["formToken": token, "proofOfWork": solved(challenge, off: 1)]) }
        #expect(wrong.code == "proof_of_work_failed")
        #expect(try guardian.screen(form: "newsletter", ["formToken": token, "proofOfWork": solved(challenge)]).0 == .accept)

        // Now it is spent: even with a fresh, solved puzzle it is refused.
        let fresh = try #require(guardian.issueChallenge())
        let replay = try #require(throws: FrontdeskError.self) { try guardian.screen(form: "newsletter", ["formToken": token, "proofOfWork": solved(fresh)]) }
        #expect(replay.code == "form_token_used")
    }

    @Test("a missing token passes unless required; a filled honeypot is discarded")
    func honeypotAndRequiredToken() throws {
        let clock = TestClock(start: mailTestStart)
        let lenient = FormGuard(secret: Data(count: 32), settings: SpamSettings(), now: clock.wall)
        #expect(try lenient.screen(form: "contact", ["name": .string("A")]).0 == .accept)
        #expect(try lenient.screen(form: "contact", ["website": .string("")]).0 == .accept)
        #expect(try lenient.screen(form: "contact", ["website": .string("http://x")]).0 == .discard)

        let strict = FormGuard(secret: Data(count: 32), settings: SpamSettings(requireFormToken: true), now: clock.wall)
        let error = try #require(throws: FrontdeskError.self) { try strict.screen(form: "contact", ["name": .string("A")]) }
        #expect(error.details["formToken"]?.contains("GET /api/v1/forms/contact") == true)
    }

    @Test("a proof of work is solved, checked, accepted once and expires")
    func proofOfWork() throws {
        let clock = TestClock(start: mailTestStart)
        let guardian = FormGuard(secret: Data(repeating: 1, count: 32), settings: SpamSettings(minFillSeconds: 0, proofOfWork: true, proofOfWorkMaxNumber: 2_000),
                                 now: clock.wall)
        func solve(_ c: FormGuard.Challenge) -> Int {
            (0...c.maxNumber).first { ContentDigest.sha256Hex(c.salt + String($0)) == c.challenge }!
        }
        func payload(_ c: FormGuard.Challenge, _ n: Int) -> [String: JSONValue] {
            ["proofOfWork": .object(["salt": .string(c.salt), "challenge": .string(c.challenge), "signature": .string(c.signature), "number": .number(Double(n))])]
        }
        let challenge = try #require(guardian.issueChallenge())
        let number = solve(challenge)
        #expect(try guardian.screen(form: "contact", payload(challenge, number)).0 == .accept)
        let replay = try #require(throws: FrontdeskError.self) { try guardian.screen(form: "contact", payload(challenge, number)) }
        #expect(replay.code == "proof_of_work_failed")

        let second = try #require(guardian.issueChallenge())
        #expect(throws: FrontdeskError.self) { try guardian.screen(form: "contact", payload(second, solve(second) + 1)) }
        clock.advance(seconds: 601)
        let late = try #require(throws: FrontdeskError.self) { try guardian.screen(form: "contact", payload(second, solve(second))) }
        #expect(late.details["proofOfWork"]?.contains("expired") == true)
    }

    // MARK: Forms

    @Test("configured form fields are read from TOML and every mistake is named")
    func formsFromTOML() throws {
        let dir = TempDirectory()
        let file = dir.file("frontdesk.toml")
        try """
            [forms.quote]
            title = "Quote"
            fields = [
              { name = "company", required = true, max_length = 50 },
              { name = "size", type = "select", options = ["s", "m"] },
            ]
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let config = try FrontdeskConfig.load(file: file, environment: [:])
        let quote = try #require(config.forms["quote"])
        #expect(quote.fields.map(\.name) == ["company", "size"])
        #expect(quote.fields[0].required && quote.fields[0].maxLength == 50)
        #expect(config.forms["contact"] != nil, "the default form stays")

        try """
            [forms.quote]
            colour = "red"
            fields = [
              { name = "Company" },
              { name = "size", type = "select" },
              { name = "phone", type = "telephone", pattern = "[0-9" },
              { name = "email" },
            ]
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let errors = try #require(throws: ConfigErrors.self) { try FrontdeskConfig.load(file: file, environment: [:]) }
        let keys = Set(errors.problems.map(\.key))
        #expect(keys == ["forms.quote.colour", "forms.quote.fields[0].name", "forms.quote.fields[1].options",
                         "forms.quote.fields[2].type", "forms.quote.fields[2].pattern", "forms.quote.fields[3].name"])
    }

    @Test("extra fields are checked by type, pattern and options; unknown ones are refused")
    func fieldValidation() throws {
        let form = FormDefinition(id: "quote", fields: [
            FormField(name: "phone", type: .tel, pattern: "[0-9 +]{6,}"),
            FormField(name: "site", type: .url),
            FormField(name: "count", type: .number, required: true),
        ])
        let json: [String: JSONValue] = ["name": .string("A"), "email": .string("a@example.com"), "message": .string("m"),
                                         "fields": .object(["phone": .string("call"), "site": .string("javascript:alert(1)"), "extra": .string("x")])]
        let error = try #require(throws: FrontdeskError.self) { try NewContactSubmission(json: json, form: form) }
        #expect(Set(error.details.keys) == ["fields.phone", "fields.site", "fields.count", "fields.extra"])
    }

    // MARK: Newsletter

    @Test("sign-ups resend at most once per window, confirm once, and unconfirmed ones expire")
    func newsletterLifecycle() async throws {
        let dir = TempDirectory()
        let clock = TestClock(start: mailTestStart)
        let database = try AppDatabase(path: dir.file("db.sqlite"))
        try database.migrate()
        let store = NewsletterStore(database: database, mailer: nil, settings: NewsletterSettings(pendingExpiryHours: 72, resendMinutes: 10))
        #expect(try await store.subscribe(NewSubscription(email: "a@example.com"), clientNetwork: "203.0.113.0", now: clock.date) == .confirmationSent)
        clock.advance(seconds: 60)
        #expect(try await store.subscribe(NewSubscription(email: "a@example.com"), clientNetwork: nil, now: clock.date) == .resendSuppressed)
        clock.advance(seconds: 600)
        #expect(try await store.subscribe(NewSubscription(email: "a@example.com"), clientNetwork: nil, now: clock.date) == .confirmationSent)
        _ = try await store.subscribe(NewSubscription(email: "b@example.com"), clientNetwork: nil, now: clock.date)

        let pending = try await store.list(ListQuery(filters: ["status": "pending"]))
        let a = try #require(pending.items.first { $0.email == "a@example.com" })
        let confirmed = try #require(try await store.confirm(token: a.token, now: clock.date))
        #expect(confirmed.status == "confirmed" && confirmed.confirmedAt != nil)
        #expect(try await store.confirm(token: "nope", now: clock.date) == nil)

        clock.advance(seconds: 72 * 3600 + 1)
        #expect(try await store.purgeExpired(now: clock.date) == 1, "only b, never confirmed, is purged")
        #expect(try await store.counts() == ["pending": 0, "confirmed": 1, "unsubscribed": 0])

        _ = try await store.unsubscribe(token: a.token, now: clock.date)
        #expect(try await store.subscribe(NewSubscription(email: "A@example.com"), clientNetwork: nil, now: clock.date) == .confirmationSent,
                "an unsubscribed address starts over as pending, matched without case")
        let again = try await store.list(ListQuery(filters: ["status": "pending"]))
        #expect(again.items.first?.token != a.token, "a new sign-up gets a new token; the old links do nothing")
    }

    @Test("re-posting the sign-up form for a confirmed address changes nothing: topics change only through the subscriber's own link")
    func confirmedSubscriberIsNotChangedByAForm() async throws {
        let dir = TempDirectory()
        let clock = TestClock(start: mailTestStart)
        let database = try AppDatabase(path: dir.file("db.sqlite"))
        try database.migrate()
        let store = NewsletterStore(database: database, mailer: nil, settings: NewsletterSettings())
        _ = try await store.subscribe(NewSubscription(email: "c@example.com", name: "Cy", topics: ["news"]), clientNetwork: nil, now: clock.date)
        let pending = try #require(try await store.list(ListQuery(filters: [:])).items.first)
        _ = try await store.confirm(token: pending.token, now: clock.date)

        clock.advance(seconds: 3600)
        let outcome = try await store.subscribe(NewSubscription(email: "C@example.com", name: "Mallory", topics: ["offers"]), clientNetwork: "198.51.100.0",
                                                now: clock.date)
        #expect(outcome == .alreadyConfirmed)
        let row = try #require(try await store.find(token: pending.token))
        #expect(row.status == "confirmed")
        #expect(row.topicList == ["news"])
        #expect(row.name == "Cy")
        #expect(row.updatedAt == row.confirmedAt, "the row was not touched")
    }

    // MARK: Tickets

    @Test("ticket tokens open only their ticket and are never stored; replies move the status")
    func ticketTokensAndStatus() async throws {
        let dir = TempDirectory()
        let clock = TestClock(start: mailTestStart)
        let database = try AppDatabase(path: dir.file("db.sqlite"))
        try database.migrate()
        let store = TicketStore(database: database, mailer: nil, secret: Data(repeating: 3, count: 32))
        let one = try await store.create(NewTicket(email: "c@example.com", name: "C", subject: "S", description: "D"), now: clock.date)
        let two = try await store.create(NewTicket(email: "d@example.com", name: nil, subject: "S2", description: "D2"), now: clock.date)
        let oneID = try #require(one.ticket.id)
        #expect(try await store.authorize(id: oneID, token: one.accessToken).id == oneID)
        await #expect(throws: FrontdeskError.self) { try await store.authorize(id: oneID, token: two.accessToken) }
        let stored = try await database.read { db in try String.fetchAll(db, sql: "SELECT access_nonce FROM support_tickets") }
        #expect(!stored.contains(one.accessToken))

        var change = try TicketStore.Change(json: ["status": .string("resolved")])
        let resolved = try await store.update(id: oneID, change, now: clock.date)
        #expect(resolved.status == "resolved" && resolved.resolvedAt != nil)
        _ = try await store.customerReply(ticketID: oneID, body: "still broken", now: clock.date)
        let reopened = try await store.summary(id: oneID)
        #expect(reopened.status == "open" && reopened.resolvedAt == nil && reopened.messageCount == 1)

        change = try TicketStore.Change(json: ["assigneeId": .number(999)])
        let error = await #expect(throws: FrontdeskError.self) { try await store.update(id: oneID, change, now: clock.date) }
        #expect(error?.details["assigneeId"] != nil)
    }

    // MARK: Lists and CSV

    @Test("list parameters are validated together")
    func listQuery() throws {
        let query = try ListQuery(["page": "2", "perPage": "10", "sort": "-name", "q": " ann ", "status": "new"],
                                  sortable: ContactStore.sortable, defaultSort: "-createdAt", filters: ContactStore.filters)
        #expect(query.page == 2 && query.perPage == 10 && query.sort == "name" && query.descending && query.search == "ann")
        #expect(query.likePattern == "%ann%")
        let error = try #require(throws: FrontdeskError.self) {
            try ListQuery(["page": "0", "perPage": "500", "sort": "colour", "status": "done", "bogus": "1"],
                          sortable: ContactStore.sortable, defaultSort: "-createdAt", filters: ContactStore.filters)
        }
        #expect(Set(error.details.keys) == ["page", "perPage", "sort", "status", "bogus"])
        #expect(try ListQuery(["q": "50%_off"], sortable: [], defaultSort: "x", filters: [:]).likePattern == "%50\\%\\_off%")
    }

    @Test("CSV quotes what needs quoting, defuses formulas, and parses back")
    func csv() {
        let line = CSV.line(["Ann, Lee", "say \"hi\"", "=HYPERLINK(\"x\")", nil, "two\nlines"])
        #expect(line == "\"Ann, Lee\",\"say \"\"hi\"\"\",\"'=HYPERLINK(\"\"x\"\")\",,\"two\nlines\"\r\n")
        #expect(CSV.parse(line) == [["Ann, Lee", "say \"hi\"", "'=HYPERLINK(\"x\")", "", "two\nlines"]])
        #expect(CSV.parse("email,name\r\na@example.com,A\nb@example.com") == [["email", "name"], ["a@example.com", "A"], ["b@example.com"]])
    }
}
