import Foundation
import FrontdeskCore
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
@testable import FrontdeskServer

private func jsonObject(_ response: TestResponse) -> [String: Any] { response.json ?? [:] }

private func post(_ client: some TestClientProtocol, _ uri: String, _ json: String) async throws -> TestResponse {
    try await client.executeRequest(uri: uri, method: .post, headers: jsonHeaders, body: ByteBuffer(string: json))
}

@Suite("FAQ API")
struct FAQAPITests {
    @Test("an editor's entries: only published ones are public; the ETag answers 304 until an edit changes the FAQ")
    func listAndCache() async throws {
        let env = try TestEnvironment(flags: ["rate_limit.enabled": "false"])
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            var console = ConsoleClient(client: client)
            #expect(try await console.signIn("owner@example.com") == .ok)
            let category = try await console.send(.post, "/api/v1/admin/faq/categories", json: #"{"name":"Shipping & returns"}"#)
            #expect(category.status == .created)
            #expect(category.json?["slug"] as? String == "shipping-returns")
            let categoryID = try #require(category.json?["id"] as? Int)
            let published = try await console.send(.post, "/api/v1/admin/faq/entries", json: """
                {"question":"How long does shipping take?","answer":"**2–4 days**. <script>alert(1)</script> [track](javascript:alert(1))","categoryId":\(categoryID),"status":"published"}
                """)
            #expect(published.status == .created)
            #expect(published.json?["answerHtml"] as? String == "<p><strong>2–4 days</strong>. &lt;script&gt;alert(1)&lt;/script&gt; track</p>\n")
            let draft = try await console.send(.post, "/api/v1/admin/faq/entries", json: #"{"question":"Secret draft?","answer":"Not yet."}"#)
            #expect(draft.status == .created && draft.json?["status"] as? String == "draft")

            let list = try await client.executeRequest(uri: "/api/v1/faq", method: .get, headers: [:], body: nil)
            #expect(list.status == .ok)
            let entries = try #require(list.json?["entries"] as? [[String: Any]])
            #expect(entries.map { $0["question"] as? String } == ["How long does shipping take?"])
            #expect((list.json?["categories"] as? [[String: Any]])?.first?["name"] as? String == "Shipping & returns")
            let etag = try #require(list.headers[.eTag])
            let again = try await client.executeRequest(uri: "/api/v1/faq", method: .get, headers: [.ifNoneMatch: etag], body: nil)
            #expect(again.status == .notModified)

            // Publishing the draft drops the cached copy: a new ETag and the entry listed.
            let draftID = try #require(draft.json?["id"] as? Int)
            #expect(try await console.send(.patch, "/api/v1/admin/faq/entries/\(draftID)", json: #"{"status":"published"}"#).status == .ok)
            let changed = try await client.executeRequest(uri: "/api/v1/faq", method: .get, headers: [.ifNoneMatch: etag], body: nil)
            #expect(changed.status == .ok && changed.headers[.eTag] != etag)
            #expect((changed.json?["entries"] as? [[String: Any]])?.count == 2)
            // A category filter and bad parameters.
            let byCategory = try await client.executeRequest(uri: "/api/v1/faq?category=shipping-returns", method: .get, headers: [:], body: nil)
            #expect((byCategory.json?["entries"] as? [[String: Any]])?.count == 1)
            let bad = try await client.executeRequest(uri: "/api/v1/faq?locale=English&colour=red", method: .get, headers: [:], body: nil)
            #expect(bad.status == .unprocessableContent)
            #expect(bad.envelope?.error.details["locale"] != nil && bad.envelope?.error.details["colour"] != nil)

            // JSON-LD: FAQPage with every published question and its answer.
            let ld = try await client.executeRequest(uri: "/api/v1/faq.jsonld", method: .get, headers: [:], body: nil)
            #expect(ld.headers[.contentType]?.hasPrefix("application/ld+json") == true)
            #expect(ld.json?["@type"] as? String == "FAQPage")
            let questions = try #require(ld.json?["mainEntity"] as? [[String: Any]])
            #expect(questions.count == 2)
            #expect(questions.allSatisfy { $0["@type"] as? String == "Question" && ($0["acceptedAnswer"] as? [String: Any])?["@type"] as? String == "Answer" })
        }
    }

    @Test("search marks matches, escapes the rest, counts searches that found nothing; votes count once per visitor")
    func searchAndVotes() async throws {
        let env = try TestEnvironment(flags: ["rate_limit.enabled": "false"])
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            var console = ConsoleClient(client: client)
            _ = try await console.signIn("owner@example.com")
            let created = try await console.send(.post, "/api/v1/admin/faq/entries", json: #"{"question":"Do you ship <b>abroad</b>?","answer":"We ship to every EU country.","status":"published"}"#)
            let id = try #require(created.json?["id"] as? Int)

            let search = try await client.executeRequest(uri: "/api/v1/faq/search?q=ship", method: .get, headers: [:], body: nil)
            #expect(search.status == .ok)
            let hit = try #require((search.json?["results"] as? [[String: Any]])?.first)
            #expect(hit["questionHtml"] as? String == "Do you <mark>ship</mark> &lt;b&gt;abroad&lt;/b&gt;?")
            #expect((hit["snippetHtml"] as? String)?.contains("<mark>ship</mark>") == true)
            let typo = try await client.executeRequest(uri: "/api/v1/faq/search?q=abraod%20shiping", method: .get, headers: [:], body: nil)
            #expect((typo.json?["results"] as? [[String: Any]])?.first?["id"] as? Int == id)
            let nothing = try await client.executeRequest(uri: "/api/v1/faq/search?q=opening%20hours", method: .get, headers: [:], body: nil)
            #expect((nothing.json?["results"] as? [Any])?.isEmpty == true)
            #expect(try await client.executeRequest(uri: "/api/v1/faq/search", method: .get, headers: [:], body: nil).status == .unprocessableContent)

            #expect(try await post(client, "/api/v1/faq/\(id)/votes", #"{"visitorId":"visitor-one","helpful":true}"#).status == .created)
            let second = try await post(client, "/api/v1/faq/\(id)/votes", #"{"visitorId":"visitor-one","helpful":false}"#)
            #expect(second.status == .conflict && second.envelope?.error.code == "already_voted")
            #expect(try await post(client, "/api/v1/faq/\(id)/votes", #"{"visitorId":"visitor-two","helpful":false}"#).status == .created)
            let badVote = try await post(client, "/api/v1/faq/\(id)/votes", #"{"visitorId":"x","helpful":"yes"}"#)
            #expect(badVote.status == .unprocessableContent && badVote.envelope?.error.details.keys.sorted() == ["helpful", "visitorId"])
            #expect(try await post(client, "/api/v1/faq/999/votes", #"{"visitorId":"visitor-one","helpful":true}"#).status == .notFound)
            #expect(try await post(client, "/api/v1/faq/\(id)/events", #"{"type":"view"}"#).status == .noContent)
            #expect(try await post(client, "/api/v1/faq/\(id)/events", #"{"type":"deflection"}"#).status == .noContent)

            let stats = try await console.send(.get, "/api/v1/admin/faq/stats")
            let entry = try #require((stats.json?["entries"] as? [[String: Any]])?.first)
            #expect(entry["views"] as? Int == 1 && entry["deflections"] as? Int == 1)
            #expect(entry["helpfulYes"] as? Int == 1 && entry["helpfulNo"] as? Int == 1 && entry["helpfulPercent"] as? Double == 50)
            let gaps = try #require(stats.json?["gaps"] as? [[String: Any]])
            #expect(gaps.map { $0["query"] as? String } == ["opening hours"])

            // Reorder and preview.
            let other = try await console.send(.post, "/api/v1/admin/faq/entries", json: #"{"question":"Second?","answer":"Yes.","status":"published"}"#)
            let otherID = try #require(other.json?["id"] as? Int)
            #expect(try await console.send(.put, "/api/v1/admin/faq/order", json: #"{"ids":[\#(otherID),\#(id)]}"#).status == .noContent)
            let list = try await client.executeRequest(uri: "/api/v1/faq", method: .get, headers: [:], body: nil)
            #expect((list.json?["entries"] as? [[String: Any]])?.map { $0["id"] as? Int } == [otherID, id])
            let preview = try await console.send(.post, "/api/v1/admin/faq/preview", json: #"{"markdown":"_hi_ <img src=x onerror=alert(1)>"}"#)
            #expect(preview.json?["html"] as? String == "<p><em>hi</em> &lt;img src=x onerror=alert(1)&gt;</p>\n")
        }
    }
}

@Suite("Reviews API")
struct ReviewsAPITests {
    static let good = #"{"rating":4,"title":"Nice <b>mug</b>","content":"Keeps my tea warm. <script>alert(1)</script>","name":"Ada","subject":"product:blue-mug"}"#

    @Test("bad input gets named errors: rating bounds, sizes, subject format, links, duplicates")
    func badInput() async throws {
        let env = try TestEnvironment(flags: ["rate_limit.enabled": "false", "spam.min_fill_seconds": "0"])
        try await env.application().test(.router) { client in
            for rating in ["0", "6", "3.5", "\"5\"", "null"] {
                let response = try await post(client, "/api/v1/reviews", #"{"rating":\#(rating),"content":"Fine.","name":"Ada"}"#)
                #expect(response.status == .unprocessableContent && response.envelope?.error.details["rating"] != nil, "rating \(rating)")
            }
            let long = String(repeating: "a", count: 5001)
            let oversize = try await post(client, "/api/v1/reviews", #"{"rating":5,"content":"\#(long)","name":"Ada"}"#)
            #expect(oversize.envelope?.error.details["content"] == "must be at most 5000 characters")
            let subject = try await post(client, "/api/v1/reviews", #"{"rating":5,"content":"Fine.","name":"Ada","subject":"Product Blue"}"#)
            #expect(subject.status == .unprocessableContent && subject.envelope?.error.details["subject"] != nil)
            let links = try await post(client, "/api/v1/reviews", #"{"rating":5,"content":"Buy at https://a.example and www.b.example","name":"Ada"}"#)
            #expect(links.status == .unprocessableContent && links.envelope?.error.details["content"]?.contains("web address") == true)
            let unknown = try await post(client, "/api/v1/reviews", #"{"rating":5,"content":"Fine.","name":"Ada","stars":5}"#)
            #expect(unknown.envelope?.error.details["stars"] == "is not a known field")
            #expect(try await post(client, "/api/v1/reviews", "{not json").status == .badRequest)
            let forged = try await post(client, "/api/v1/reviews", #"{"rating":5,"content":"Fine.","name":"Ada","identity":{"userId":"42","hash":"00"}}"#)
            #expect(forged.status == .unprocessableContent && forged.envelope?.error.details["identity.hash"] != nil)

            #expect(try await post(client, "/api/v1/reviews", Self.good).status == .created)
            let duplicate = try await post(client, "/api/v1/reviews", Self.good.replacingOccurrences(of: "Ada", with: "Bob"))
            #expect(duplicate.status == .unprocessableContent && duplicate.envelope?.error.code == "duplicate_review")
            // The honeypot: answered as accepted, nothing stored.
            let bot = try await post(client, "/api/v1/reviews", #"{"rating":5,"content":"Spam spam.","name":"Bot","website":"http://spam.example"}"#)
            #expect(bot.status == .created)
        }
        let stored = try await ReviewStore(database: env.runtime.database, secret: Data()).counts()
        #expect(stored["pending"] == 1)
    }

    @Test("submission to moderation to the public list and average; pending is never public; replies, votes and reports")
    func moderationFlow() async throws {
        let env = try TestEnvironment(["FRONTDESK_CHAT_IDENTITY_SECRET": "site-secret-0123456789abcdef0123456789"],
                                      flags: ["rate_limit.enabled": "false", "reviews.report_threshold": "2"])
        try await env.addUser("owner@example.com", role: .admin)
        try await env.application().test(.router) { client in
            let first = try await post(client, "/api/v1/reviews", Self.good)
            #expect(first.status == .created && first.json?["status"] as? String == "pending" && first.json?["verified"] as? Bool == false)
            let hash = ChatIdentity.hash(userId: "user-7", secret: "site-secret-0123456789abcdef0123456789")
            let second = try await post(client, "/api/v1/reviews",
                                        #"{"rating":2,"content":"Handle broke.","name":"Bob","subject":"product:blue-mug","identity":{"userId":"user-7","hash":"\#(hash)"}}"#)
            #expect(second.json?["verified"] as? Bool == true)
            let firstID = try #require(first.json?["id"] as? Int), secondID = try #require(second.json?["id"] as? Int)

            func publicList() async throws -> [[String: Any]] {
                try await client.executeRequest(uri: "/api/v1/reviews?subject=product:blue-mug", method: .get, headers: [:], body: nil).json?["items"] as? [[String: Any]] ?? []
            }
            func summary() async throws -> [String: Any] {
                try await client.executeRequest(uri: "/api/v1/reviews/summary?subject=product:blue-mug", method: .get, headers: [:], body: nil).json ?? [:]
            }
            #expect(try await publicList().isEmpty)
            #expect(try await summary()["count"] as? Int == 0)
            #expect(try await post(client, "/api/v1/reviews/\(firstID)/votes", #"{"visitorId":"visitor-one"}"#).status == .notFound)

            var console = ConsoleClient(client: client)
            _ = try await console.signIn("owner@example.com")
            let queue = try await console.send(.get, "/api/v1/admin/reviews?status=pending")
            #expect(queue.json?["total"] as? Int == 2 && (queue.json?["counts"] as? [String: Int])?["pending"] == 2)
            let bulk = try await console.send(.post, "/api/v1/admin/reviews/moderation", json: #"{"ids":[\#(firstID),\#(secondID)],"status":"approved"}"#)
            #expect(bulk.status == .ok && (bulk.json?["items"] as? [Any])?.count == 2)
            let reply = try await console.send(.put, "/api/v1/admin/reviews/\(secondID)/reply", json: #"{"text":"Sorry! <i>We</i> sent a new one."}"#)
            #expect(reply.status == .ok)

            let list = try await publicList()
            #expect(list.count == 2)
            #expect(list.allSatisfy { $0["email"] == nil && $0["status"] == nil })
            #expect(list.first { $0["id"] as? Int == firstID }?["content"] as? String == "Keeps my tea warm. <script>alert(1)</script>")
            #expect(list.first { $0["id"] as? Int == secondID }?["reply"] as? String == "Sorry! <i>We</i> sent a new one.")
            let s = try await summary()
            #expect(s["count"] as? Int == 2 && s["average"] as? Double == 3)
            #expect(s["histogram"] as? [String: Int] == ["1": 0, "2": 1, "3": 0, "4": 1, "5": 0])
            let highest = try await client.executeRequest(uri: "/api/v1/reviews?subject=product:blue-mug&sort=lowest", method: .get, headers: [:], body: nil)
            #expect((highest.json?["items"] as? [[String: Any]])?.first?["id"] as? Int == secondID)

            #expect(try await post(client, "/api/v1/reviews/\(firstID)/votes", #"{"visitorId":"visitor-one"}"#).status == .created)
            #expect(try await post(client, "/api/v1/reviews/\(firstID)/votes", #"{"visitorId":"visitor-one"}"#).status == .conflict)
            let helpful = try await client.executeRequest(uri: "/api/v1/reviews?subject=product:blue-mug&sort=helpful", method: .get, headers: [:], body: nil)
            #expect((helpful.json?["items"] as? [[String: Any]])?.first?["helpful"] as? Int == 1)

            // Two reports (the threshold here) put a review back into the queue: no longer public.
            #expect(try await post(client, "/api/v1/reviews/\(secondID)/reports", #"{"visitorId":"visitor-one"}"#).json?["returnedToQueue"] as? Bool == false)
            #expect(try await post(client, "/api/v1/reviews/\(secondID)/reports", #"{"visitorId":"visitor-one"}"#).status == .conflict)
            #expect(try await post(client, "/api/v1/reviews/\(secondID)/reports", #"{"visitorId":"visitor-two"}"#).json?["returnedToQueue"] as? Bool == true)
            #expect(try await publicList().map { $0["id"] as? Int } == [firstID])
            #expect(try await summary()["average"] as? Double == 4)
            // Rejecting and marking as spam keep them out too.
            #expect(try await console.send(.patch, "/api/v1/admin/reviews/\(firstID)", json: #"{"status":"spam"}"#).status == .ok)
            #expect(try await publicList().isEmpty)
            let badStatus = try await console.send(.patch, "/api/v1/admin/reviews/\(firstID)", json: #"{"status":"published"}"#)
            #expect(badStatus.status == .unprocessableContent)
        }
    }
    @Test("the owner is mailed about a new review in the same transaction, through the outbox; reviews.notify_owner = false mails nobody")
    func ownerNotification() async throws {
        for notify in [true, false] {
            let env = try TestEnvironment(flags: ["rate_limit.enabled": "false", "reviews.notify_owner": String(notify)])
            try await env.addUser("owner@example.com", role: .admin)
            try await env.application().test(.router) { client in
                let created = try await post(client, "/api/v1/reviews", #"{"rating":2,"title":"Cold <b>coffee</b>","content":"The coffee was cold.","name":"Ida","subject":"product:latte"}"#)
                #expect(created.status == .created)
            }
            let mails = try await env.runtime.database.read { db in
                try Row.fetchAll(db, sql: "SELECT kind, to_address, subject, text_body FROM mail_outbox")
                    .map { [$0["kind"] as String, $0["to_address"] as String, $0["subject"] as String, $0["text_body"] as String] }
            }
            if notify {
                #expect(mails.count == 1)
                #expect(mails.first?[0] == "review_notification")
                #expect(mails.first?[1] == "owner@example.com")
                #expect(mails.first?[2].contains("2-star review from Ida") == true)
                let text = mails.first?[3] ?? ""
                #expect(text.contains("The coffee was cold.") && text.contains("Cold <b>coffee</b>") && text.contains("/admin/reviews"))
            } else {
                #expect(mails.isEmpty)
            }
        }
    }
}


@Suite("Review requests")
struct ReviewRequestTests {
    static func resolvedTicket(_ env: TestEnvironment, email: String, subject: String, now: Date) async throws -> Int64 {
        let ticket = try NewTicket(json: ["email": .string(email), "name": .string("Ida Lind"), "subject": .string(subject), "description": .string("Help.")])
        let created = try await env.runtime.tickets.create(ticket, now: now)
        let id = try #require(created.ticket.id)
        _ = try await env.runtime.tickets.update(id: id, try .init(json: ["status": .string("resolved")]), now: now)
        return id
    }

    @Test("a resolved ticket is asked once, after the delay, never for what was resolved before switching on; the link verifies one review")
    func ticketRequestFlow() async throws {
        let now = Locked(Date(timeIntervalSince1970: 1_780_000_000))
        let env = try TestEnvironment(flags: ["rate_limit.enabled": "false", "reviews.request_after": "tickets", "reviews.request_delay_minutes": "30",
                                              "reviews.notify_owner": "false"], now: { now.withLock { $0 } })
        let service = ReviewsModule.requestService(env.runtime, sources: [.ticket], clock: ContinuousClock())
        // Resolved before the feature's first pass: never asked.
        _ = try await Self.resolvedTicket(env, email: "old@example.com", subject: "Old request", now: now.withLock { $0 })
        now.withLock { $0 += 60 }
        #expect(await service.tick() == 0)
        let ticket = try await Self.resolvedTicket(env, email: "ida@example.com", subject: "Broken mug", now: now.withLock { $0 })
        now.withLock { $0 += 29 * 60 }
        #expect(await service.tick() == 0, "the delay has not passed")
        now.withLock { $0 += 2 * 60 }
        #expect(await service.tick() == 1)
        #expect(await service.tick() == 0, "asked once")

        let mails = try await env.runtime.database.read { db in
            try Row.fetchAll(db, sql: "SELECT to_address, text_body FROM mail_outbox WHERE kind = 'review_request'").map { [$0[0] as String, $0[1] as String] }
        }
        #expect(mails.count == 1)
        let mail = try #require(mails.first)
        #expect(mail[0] == "ida@example.com")
        let text = mail[1]
        #expect(text.contains("Broken mug") && text.contains("Ida Lind"))
        let token = try #require(text.firstMatch(of: /\/review#review=([A-Za-z0-9_-]+)/)?.1).description
        let stored = try await env.runtime.database.read { db in try String.fetchAll(db, sql: "SELECT token_hash FROM review_requests WHERE source_id = ?", arguments: [ticket]) }
        #expect(stored == [ReviewRequests.hash(token)], "only the token's hash is kept")

        try await env.application().test(.router) { client in
            let review = #"{"rating":5,"content":"Replaced within a day.","name":"Ida","requestToken":"\#(token)"}"#
            let created = try await post(client, "/api/v1/reviews", review)
            #expect(created.status == .created)
            #expect(created.json?["verified"] as? Bool == true)
            let again = try await post(client, "/api/v1/reviews", #"{"rating":4,"content":"Second try.","name":"Ida","requestToken":"\#(token)"}"#)
            #expect(again.status == .unprocessableContent)
            #expect(again.envelope?.error.details["requestToken"]?.contains("used already") == true)
            let forged = try await post(client, "/api/v1/reviews", #"{"rating":4,"content":"Forged.","name":"Eve","requestToken":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#)
            #expect(forged.envelope?.error.details["requestToken"] != nil)
            let malformed = try await post(client, "/api/v1/reviews", #"{"rating":4,"content":"Bad.","name":"Eve","requestToken":"<script>"}"#)
            #expect(malformed.status == .unprocessableContent && malformed.envelope?.error.details["requestToken"] != nil)
        }
        // A refused link stores nothing: only the one verified review exists.
        let reviews = try await env.runtime.database.read { db in
            try Row.fetchAll(db, sql: "SELECT content, verified FROM reviews").map { ($0[0] as String, $0[1] as Bool) }
        }
        #expect(reviews.map(\.0) == ["Replaced within a day."])
        #expect(reviews.first?.1 == true)
    }

    @Test("an expired link is refused by name and stores nothing")
    func expiry() async throws {
        let now = Locked(Date(timeIntervalSince1970: 1_780_000_000))
        let env = try TestEnvironment(flags: ["rate_limit.enabled": "false", "reviews.request_after": "both", "reviews.request_delay_minutes": "0",
                                              "reviews.request_valid_days": "1", "reviews.notify_owner": "false"], now: { now.withLock { $0 } })
        let service = ReviewsModule.requestService(env.runtime, sources: [.ticket, .chat], clock: ContinuousClock())
        #expect(await service.tick() == 0)
        now.withLock { $0 += 60 }
        _ = try await Self.resolvedTicket(env, email: "late@example.com", subject: "Late", now: now.withLock { $0 })
        now.withLock { $0 += 60 }
        #expect(await service.tick() == 1)
        let text = try await env.runtime.database.read { db in try String.fetchOne(db, sql: "SELECT text_body FROM mail_outbox WHERE kind = 'review_request'") } ?? ""
        let token = try #require(text.firstMatch(of: /review=([A-Za-z0-9_-]+)/)?.1).description
        now.withLock { $0 += (24 * 60 + 1) * 60 }
        try await env.application().test(.router) { client in
            let late = try await post(client, "/api/v1/reviews", #"{"rating":3,"content":"Too late.","name":"Lu","requestToken":"\#(token)"}"#)
            #expect(late.status == .unprocessableContent)
            #expect(late.envelope?.error.details["requestToken"] == "has expired")
        }
    }
}
