import Foundation
import Testing
@testable import FrontdeskCore

/// An independent check of rendered HTML: every tag is one of the allowed elements, the only
/// attributes are a link's `href` (http, https, mailto or relative) and `rel="nofollow noopener"`.
/// Written without the renderer's own allowlist pass, so a bug there cannot hide here.
func unsafeParts(of html: String) -> [String] {
    var problems: [String] = []
    let tag = try! NSRegularExpression(pattern: "<(/?)([^\\s>/]*)([^>]*)>")
    let allowed: Set<String> = ["p", "em", "strong", "code", "pre", "ul", "ol", "li", "a", "h2", "h3", "h4", "h5", "h6", "blockquote", "hr", "br"]
    for match in tag.matches(in: html, range: NSRange(html.startIndex..., in: html)) {
        let name = String(html[Range(match.range(at: 2), in: html)!])
        let attributes = String(html[Range(match.range(at: 3), in: html)!])
        if !allowed.contains(name) { problems.append("element <\(name)>") }
        if !attributes.isEmpty {
            let link = try! NSRegularExpression(pattern: "^ href=\"([^\"<>]*)\" rel=\"nofollow noopener\"$")
            guard name == "a", let m = link.firstMatch(in: attributes, range: NSRange(attributes.startIndex..., in: attributes)) else {
                problems.append("attributes \(attributes) on <\(name)>"); continue
            }
            let raw = String(attributes[Range(m.range(at: 1), in: attributes)!])
            // Every & in the attribute must start one of the five entities the escaper writes.
            if raw.range(of: "&(?!amp;|lt;|gt;|quot;|#39;)", options: .regularExpression) != nil { problems.append("raw & in href \(raw)") }
            // What the browser's URL parser sees: the attribute decoded once, tabs and newlines removed.
            let href = raw.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&lt;", with: "<")
                .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&").lowercased()
                .filter { $0 != "\t" && $0 != "\n" && $0 != "\r" }.trimmingCharacters(in: .whitespaces)
            let scheme = href.range(of: "^[a-z][a-z0-9+.-]*:", options: .regularExpression).map { String(href[$0]) }
            if let scheme, !["http:", "https:", "mailto:"].contains(scheme) { problems.append("href \(href)") }
            if href.hasPrefix("javascript") || href.hasPrefix("data:") || href.hasPrefix("vbscript") { problems.append("href \(href)") }
        }
    }
    // Nothing that a browser would read as an event handler or a script outside a tag either.
    if html.range(of: "<script", options: .caseInsensitive) != nil { problems.append("<script") }
    return problems
}

/// Payloads from the Big List of Naughty Strings subset the console tests use, plus Markdown-specific ones.
func naughtyStrings() throws -> [String] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("browser/console_naughty_strings.json")
    struct File: Decodable { let strings: [String] }
    let shared = try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).strings
    return shared + [
        "[click](javascript:alert(1))", "[click](JaVaScRiPt:alert(1))", "[x](java\tscript:alert(1))", "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](vbscript:msgbox(1))", "[x](\"onmouseover=\"alert(1))", "[x](https://ok.example/\"><script>alert(1)</script>)",
        "<javascript:alert(1)>", "<https://ok.example/\" onclick=\"alert(1)>", "![img](https://x/y.png\" onerror=\"alert(1))",
        "**<img src=x onerror=alert(1)>**", "`<script>alert(1)</script>`", "```\n<script>alert(1)</script>\n```",
        "> <iframe src=//evil>", "- <svg/onload=alert(1)>", "# <style>body{display:none}</style>", "[a](jav&#x61;script:alert(1))",
        "[a](//evil.example/\u{0}x)", "<<script>script>alert(1)<</script>/script>", String(repeating: "*a ", count: 3000),
        String(repeating: "[", count: 2000) + String(repeating: "](", count: 2000), String(repeating: "`", count: 5000),
    ]
}

@Suite("FAQ Markdown")
struct FAQMarkdownTests {
    @Test("the subset renders: paragraphs, emphasis, code, lists, links, headings, quotes")
    func subset() {
        let html = SafeMarkdown.render("""
            # Shipping

            We ship **fast** and _cheap_, see `track(id)`.

            - one
            - two

            1. first
            2. second

            > quoted

            [Our terms](https://example.com/terms) and <mailto:help@example.com>, [home](/), [top](#top).
            """)
        #expect(html.contains("<h2>Shipping</h2>"))
        #expect(html.contains("<p>We ship <strong>fast</strong> and <em>cheap</em>, see <code>track(id)</code>.</p>"))
        #expect(html.contains("<ul>\n<li>one</li>\n<li>two</li>\n</ul>"))
        #expect(html.contains("<ol>\n<li>first</li>\n<li>second</li>\n</ol>"))
        #expect(html.contains("<blockquote>\n<p>quoted</p>\n</blockquote>"))
        #expect(html.contains(#"<a href="https://example.com/terms" rel="nofollow noopener">Our terms</a>"#))
        #expect(html.contains(#"<a href="mailto:help@example.com" rel="nofollow noopener">mailto:help@example.com</a>"#))
        #expect(html.contains(#"<a href="/" rel="nofollow noopener">home</a>"#))
        #expect(html.contains(##"<a href="#top" rel="nofollow noopener">top</a>"##))
        #expect(unsafeParts(of: html).isEmpty)
    }

    @Test("raw HTML is escaped, never passed through; unsafe link targets lose the link and keep the text")
    func rawHTMLIsText() {
        #expect(SafeMarkdown.render("<script>alert(1)</script>") == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n")
        #expect(SafeMarkdown.render("<b>bold</b>") == "<p>&lt;b&gt;bold&lt;/b&gt;</p>\n")
        #expect(SafeMarkdown.render("[click](javascript:alert(1))") == "<p>click</p>\n")
        #expect(SafeMarkdown.render("[x](data:text/html,hi)") == "<p>x</p>\n")
        #expect(SafeMarkdown.render("a & b \"q\" 'r'") == "<p>a &amp; b &quot;q&quot; &#39;r&#39;</p>\n")
        // The allowlist pass turns anything outside the list back into text.
        #expect(SafeHTML.enforce("<p>ok</p><img src=x onerror=alert(1)><a href=\"/\" onclick=\"x\">") ==
            "<p>ok</p>&lt;img src=x onerror=alert(1)&gt;&lt;a href=&quot;/&quot; onclick=&quot;x&quot;&gt;")
    }

    @Test("naughty strings, alone and inside every construct, render inert", arguments: [
        "%@", "**%@**", "_%@_", "`%@`", "> %@", "- %@", "1. %@", "# %@", "[%@](https://example.com)", "[x](%@)", "<%@>", "```\n%@\n```",
    ])
    func naughty(template: String) throws {
        for payload in try naughtyStrings() {
            let html = SafeMarkdown.render(template.replacingOccurrences(of: "%@", with: payload))
            let problems = unsafeParts(of: html)
            #expect(problems.isEmpty, "\(template) with \(payload.prefix(60)): \(problems) in \(html.prefix(300))")
        }
    }

    @Test("plain text for the index and JSON-LD drops the markup and keeps the words")
    func plainText() {
        #expect(SafeMarkdown.plainText("**Free** returns within *14 days*. See [terms](/terms).") == "Free returns within 14 days. See terms.")
    }
}

@Suite("FAQ search")
struct FAQSearchTests {
    /// A store on a fresh database with `entries` published in `locale`.
    static func store(_ dir: TempDirectory, entries: [(String, String)], locale: String = "en") async throws -> FAQStore {
        let database = try AppDatabase(path: dir.file("faq.sqlite"), migrations: FAQStore.migrations + ReviewStore.migrations)
        try database.migrate()
        let store = FAQStore(database: database, secret: Data(repeating: 7, count: 32))
        for (question, answer) in entries {
            _ = try await store.createEntry(FAQEntryInput(question: question, answer: answer, locale: locale, status: "published"), now: Date())
        }
        return store
    }

    @Test("relevance: paraphrased queries over a 56-entry FAQ find their entry in the top 3 at least 80 % of the time")
    func relevance() async throws {
        let dir = TempDirectory()
        let cases = FAQRelevanceFixture.cases
        #expect(cases.count >= 50)
        let store = try await Self.store(dir, entries: cases.map { ($0.question, $0.answer) })
        var top1 = 0, top3 = 0
        var misses: [String] = []
        for c in cases {
            let hits = try await store.search(c.query, locale: "en", limit: 3)
            if hits.first?.question == c.question { top1 += 1 }
            if hits.contains(where: { $0.question == c.question }) { top3 += 1 } else { misses.append("\(c.query) → \(hits.first?.question ?? "nothing")") }
        }
        let p1 = Double(top1) * 100 / Double(cases.count), p3 = Double(top3) * 100 / Double(cases.count)
        print("FAQ relevance: \(cases.count) queries, top-1 \(top1) (\(String(format: "%.1f", p1)) %), top-3 \(top3) (\(String(format: "%.1f", p3)) %)")
        for miss in misses { print("FAQ relevance miss: \(miss)") }
        #expect(p3 >= 80, "top-3 accuracy \(p3) %")
        // Held out: queries written after the synonym list was fixed.
        var held1 = 0, held3 = 0
        for (query, expected) in FAQRelevanceFixture.heldOut {
            let hits = try await store.search(query, locale: "en", limit: 3)
            if hits.first?.question == expected { held1 += 1 }
            if hits.contains(where: { $0.question == expected }) { held3 += 1 } else { print("FAQ relevance held-out miss: \(query) → \(hits.first?.question ?? "nothing")") }
        }
        let n = FAQRelevanceFixture.heldOut.count
        print("FAQ relevance held-out: \(n) queries, top-1 \(held1) (\(held1 * 100 / n) %), top-3 \(held3) (\(held3 * 100 / n) %)")
        #expect(held3 * 100 >= 80 * n, "held-out top-3 \(held3)/\(n)")
    }

    @Test("typos still find the entry through the trigram index")
    func typos() async throws {
        let dir = TempDirectory()
        let store = try await Self.store(dir, entries: FAQRelevanceFixture.cases.map { ($0.question, $0.answer) })
        let typos = [("pasword reset", "How do I reset my password?"), ("refnd policy", "What is your refund policy?"),
                     ("internatonal shiping", "Do you ship internationally?"), ("gift wraping", "Do you offer gift wrapping?"),
                     ("newsleter", "Do you have a newsletter?"), ("warrenty", "Do you offer a warranty?")]
        for (query, expected) in typos {
            let hits = try await store.search(query, locale: "en", limit: 3)
            #expect(hits.contains { $0.question == expected }, "\(query) → \(hits.map(\.question))")
        }
    }

    @Test("a misspelt word is corrected to the nearest indexed word, seeing entries added after the first search")
    func corrections() async throws {
        let dir = TempDirectory()
        let store = try await Self.store(dir, entries: [("How do I reset my password?", "Use the link on the sign-in page."),
                                                        ("Where is my parcel?", "Track it with the link in your mail.")])
        let before = try await store.search("pasword", locale: "en", limit: 3)
        #expect(before.first?.question == "How do I reset my password?")
        #expect(before.first?.match == "fuzzy")
        #expect(before.first?.questionHtml.contains("<mark>password</mark>") == true, "the corrected word is highlighted")
        // Nothing near enough: no correction, and no answer.
        #expect(try await store.search("xylophone", locale: "en", limit: 3).isEmpty)
        // A word only a later entry brings is known to the next search (the version moved).
        _ = try await store.createEntry(FAQEntryInput(question: "Do you sell vouchers?", answer: "Yes, in the shop.", locale: "en", status: "published"), now: Date())
        let after = try await store.search("vuochers", locale: "en", limit: 3)
        #expect(after.first?.question == "Do you sell vouchers?", "\(after.map(\.question))")
        // Distances: a swap of neighbours counts once; the bound gives up early.
        let v = { (s: String) in Array(s.unicodeScalars) }
        #expect(FAQVocabulary.distance(v("vuochers"), v("vouchers")[...], bound: 2) == 1)
        #expect(FAQVocabulary.distance(v("parcel"), v("pencil")[...], bound: 1) == 2)
        #expect(FAQVocabulary.distance(v("refnd"), v("refund")[...], bound: 1) == 1)
    }

    @Test("past 2,000 entries the questions are asked first, and the answers still fill short results")
    func largeFAQ() async throws {
        let dir = TempDirectory()
        var entries = (0..<FAQStore.rankAnswersUpTo).map { ("Question number \($0) about opening hours?", "We open at nine; parking is behind the shop.") }
        entries.append(("Can I pay by invoice?", "Yes, for businesses."))
        entries.append(("Do you gift wrap?", "Yes; every invoice shows the wrapping at no charge."))
        let store = try await Self.store(dir, entries: entries)
        let hits = try await store.search("invoice", locale: "en", limit: 3)
        #expect(hits.map(\.question).prefix(2) == ["Can I pay by invoice?", "Do you gift wrap?"], "\(hits.map(\.question))")
        let parking = try await store.search("parking", locale: "en", limit: 3)
        #expect(parking.count == 3, "answer-only matches fill the results")
    }

    @Test("German: diacritics are folded both ways, and locales do not mix")
    func german() async throws {
        let dir = TempDirectory()
        let store = try await Self.store(dir, entries: [
            ("Wie lange dauert der Versand?", "Pakete innerhalb Deutschlands kommen in 2–4 Werktagen an."),
            ("Kann ich die Größe umtauschen?", "Ja, wählen Sie Umtausch und die neue Größe."),
            ("Welche Zahlungsmöglichkeiten gibt es?", "Kreditkarte, PayPal, Überweisung und Rechnung."),
        ], locale: "de")
        _ = try await store.createEntry(FAQEntryInput(question: "Can I exchange the size?", answer: "Yes.", locale: "en", status: "published"), now: Date())
        #expect(try await store.search("Zahlungsmoglichkeiten", locale: "de", limit: 3).first?.question == "Welche Zahlungsmöglichkeiten gibt es?")
        #expect(try await store.search("überweisung", locale: "de", limit: 3).first?.question == "Welche Zahlungsmöglichkeiten gibt es?")
        #expect(try await store.search("Ueberweisung", locale: "de", limit: 3).first?.question == "Welche Zahlungsmöglichkeiten gibt es?")
        #expect(try await store.search("grosse umtauschen", locale: "de", limit: 3).first?.question == "Kann ich die Größe umtauschen?")
        #expect(try await store.search("wähle", locale: "de", limit: 3).first?.question == "Kann ich die Größe umtauschen?")
        #expect(try await store.search("exchange size", locale: "de", limit: 3).allSatisfy { $0.question != "Can I exchange the size?" })
    }

    @Test("snippets mark the matches and escape everything else; FTS syntax in a query is only text")
    func snippets() async throws {
        let dir = TempDirectory()
        let store = try await Self.store(dir, entries: [("Is <b>bold</b> allowed?", "Tags like <script>x</script> show as text; shipping is free.")])
        let hits = try await store.search("shipping", locale: "en", limit: 3)
        #expect(hits.count == 1)
        #expect(hits[0].snippetHtml.contains("<mark>shipping</mark>"))
        #expect(hits[0].snippetHtml.contains("&lt;script&gt;"))
        #expect(!hits[0].snippetHtml.contains("<script"))
        #expect(hits[0].questionHtml == "Is &lt;b&gt;bold&lt;/b&gt; allowed?")
        for query in ["\"", "AND OR NOT", "ship* NEAR(x y)", "question:free", "(", "^", "-"] {
            _ = try await store.search(query, locale: "en", limit: 3)   // no FTS5 syntax error escapes
        }
    }

    @Test("drafts are never found or listed, and a vote counts once per visitor")
    func draftsAndVotes() async throws {
        let dir = TempDirectory()
        let store = try await Self.store(dir, entries: [("Published question about parcels", "Yes.")])
        let draft = try await store.createEntry(FAQEntryInput(question: "Draft question about parcels", answer: "Secret."), now: Date())
        #expect(try await store.search("parcels", locale: "en", limit: 5).map(\.question) == ["Published question about parcels"])
        #expect(try await store.publishedListing(locale: "en", category: nil).entries.map(\.question) == ["Published question about parcels"])
        let published = try #require(try await store.entries(locale: "en", status: "published", categoryID: nil).first?.id)
        #expect(try await store.vote(entryID: published, visitor: "visitor-aaaa", helpful: true, now: Date()) == .counted)
        #expect(try await store.vote(entryID: published, visitor: "visitor-aaaa", helpful: false, now: Date()) == .alreadyVoted)
        #expect(try await store.vote(entryID: published, visitor: "visitor-bbbb", helpful: false, now: Date()) == .counted)
        await #expect(throws: FrontdeskError.self) { try await store.vote(entryID: draft.id!, visitor: "visitor-aaaa", helpful: true, now: Date()) }
        let entry = try await store.entry(id: published)
        #expect(entry.helpfulYes == 1 && entry.helpfulNo == 1)
    }
}
