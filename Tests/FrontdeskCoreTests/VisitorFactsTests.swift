import Foundation
import Testing
@testable import FrontdeskCore

/// The reductions the analytics engine keeps of a request. The wide checks against independent
/// oracles (ua-parser on 1,179 real strings, maxminddb on generated databases) are in
/// `Tests/contract/test_visitor_facts.py`; these pin the cases a site owner would notice.
@Suite("Visitor facts")
struct VisitorFactsTests {
    typealias D = UserAgentFacts.Device

    @Test("user agents of today's browsers", arguments: [
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
         "Chrome", "131", "Windows", D.desktop),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70",
         "Edge", "131", "Windows", .desktop),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
         "Safari", "18", "macOS", .desktop),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox", "133", "Linux", .desktop),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
         "Chrome", "131", "iOS", .mobile),
        ("Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
         "Safari", "17", "iOS", .tablet),
        ("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
         "Samsung Internet", "26", "Android", .mobile),
        ("Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
         "Chrome", "130", "Android", .tablet),
        ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
         "Chrome", "131", "Chrome OS", .desktop),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/470.0.0.39.97;FBBV/630000000]",
         "Facebook", "470", "iOS", .mobile),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0",
         "Opera", "115", "Windows", .desktop),
        ("Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko", "IE", "11", "Windows", .desktop),
    ] as [(String, String, String, String, D)])
    func browsers(ua: String, browser: String, version: String, os: String, device: D) {
        let facts = UserAgentFacts.parse(ua)
        #expect(facts == UserAgentFacts(browser: browser, browserVersion: version, os: os, device: device, isBot: false))
    }

    @Test("crawlers, headless browsers, previewers and tools are bots", arguments: [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "WhatsApp/2.23.20.0 A",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 (compatible; Google-Read-Aloud)",
        "Mozilla/5.0 (compatible; Dataprovider.com)",
        "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
        "curl/8.5.0", "python-requests/2.32.3", "Go-http-client/2.0", "", "-",
    ])
    func bots(ua: String) {
        let facts = UserAgentFacts.parse(ua)
        #expect(facts.isBot)
        #expect(facts.device == .other)
    }

    @Test("a huge header is cut, not scanned whole")
    func longHeader() {
        let ua = "Mozilla/5.0 (Windows NT 10.0) " + String(repeating: "x", count: 100_000) + " Chrome/1.0"
        let facts = UserAgentFacts.parse(ua)
        #expect(facts.browser == "Other")
        #expect(facts.os == "Windows")
    }

    // MARK: traffic source

    typealias K = TrafficSource.Kind
    static let site: Set<String> = ["example.org", "shop.example.org"]

    @Test("referrers are named", arguments: [
        ("https://www.google.com/", nil, "Google", K.search, "www.google.com", "/"),
        ("https://www.google.co.uk/search?q=secret", nil, "Google", .search, "www.google.co.uk", "/search"),
        ("https://www.bing.com/search?q=x&form=y", nil, "Bing", .search, "www.bing.com", "/search"),
        ("https://duckduckgo.com/", nil, "DuckDuckGo", .search, "duckduckgo.com", "/"),
        ("https://search.yahoo.co.jp/search?p=x", nil, "Yahoo", .search, "search.yahoo.co.jp", "/search"),
        ("https://www.ecosia.org/search?q=x", nil, "Ecosia", .search, "www.ecosia.org", "/search"),
        ("https://yandex.ru/search/?text=x", nil, "Yandex", .search, "yandex.ru", "/search/"),
        ("https://www.baidu.com/link?url=abc", nil, "Baidu", .search, "www.baidu.com", "/link"),
        ("https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.org", nil, "Facebook", .social, "l.facebook.com", "/l.php"),
        ("https://t.co/AbCdEf", nil, "X", .social, "t.co", "/AbCdEf"),
        ("https://x.com/someone/status/1", nil, "X", .social, "x.com", "/someone/status/1"),
        ("https://www.linkedin.com/feed/", nil, "LinkedIn", .social, "www.linkedin.com", "/feed/"),
        ("https://old.reddit.com/r/swift/comments/x#top", nil, "Reddit", .social, "old.reddit.com", "/r/swift/comments/x"),
        ("https://m.youtube.com/watch?v=1", nil, "YouTube", .social, "m.youtube.com", "/watch"),
        ("https://l.instagram.com/?u=x", nil, "Instagram", .social, "l.instagram.com", "/"),
        ("https://mastodon.social/@someone/1", nil, "Mastodon", .social, "mastodon.social", "/@someone/1"),
        ("https://mastodon.example.net/@a", nil, "Mastodon", .social, "mastodon.example.net", "/@a"),
        ("https://news.ycombinator.com/item?id=1", nil, "Hacker News", .social, "news.ycombinator.com", "/item"),
        ("https://mail.google.com/mail/u/0/", nil, "Gmail", .email, "mail.google.com", "/mail/u/0/"),
        ("android-app://com.google.android.gm/", nil, "Gmail", .email, "com.google.android.gm", "/"),
        ("https://www.someblog.net:8443/post/1?ref=x", nil, "someblog.net", .referral, "www.someblog.net", "/post/1"),
        ("https://user:pw@Blog.Example.COM./a", nil, "blog.example.com", .referral, "blog.example.com", "/a"),
        ("https://www.google.com/", "newsletter-42", "newsletter-42", .search, "www.google.com", "/"),
        ("https://l.facebook.com/", "fb", "Facebook", .social, "l.facebook.com", "/"),
        ("https://www.google.com.evil.example/", nil, "google.com.evil.example", .referral, "www.google.com.evil.example", "/"),
    ] as [(String, String?, String, K, String, String)])
    func referrers(referrer: String, utm: String?, source: String, kind: K, host: String, path: String) {
        let s = TrafficSource.classify(referrer: referrer, utmSource: utm, siteHosts: Self.site)
        #expect(s == TrafficSource(source: source, referrerHost: host, referrerPath: path, kind: kind))
    }

    @Test("no referrer, an internal link or a strange scheme is direct; utm_source alone is a campaign")
    func direct() {
        for referrer in [nil, "", "https://example.org/about", "https://www.example.org/", "https://shop.example.org/cart?x=1",
                         "file:///etc/passwd", "javascript:alert(1)", "not a url"] as [String?] {
            #expect(TrafficSource.classify(referrer: referrer, utmSource: nil, siteHosts: Self.site)
                == TrafficSource(source: "Direct", referrerHost: nil, referrerPath: nil, kind: .direct), "\(referrer ?? "nil")")
        }
        #expect(TrafficSource.classify(referrer: nil, utmSource: "  Spring Sale ", siteHosts: Self.site)
            == TrafficSource(source: "Spring Sale", referrerHost: nil, referrerPath: nil, kind: .campaign))
        #expect(TrafficSource.classify(referrer: "https://example.org/", utmSource: "twitter", siteHosts: Self.site)
            == TrafficSource(source: "X", referrerHost: nil, referrerPath: nil, kind: .campaign))
        #expect(TrafficSource.classify(referrer: nil, utmSource: String(repeating: "u", count: 300), siteHosts: Self.site).source.count == 64)
    }

    // MARK: GeoIP

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/geoip")

    @Test("country and region from a MaxMind-format database")
    func maxMind() throws {
        let lookup = try MaxMindCountryLookup(path: Self.fixtures.appendingPathComponent("tiny.mmdb").path)
        #expect(lookup.metadata.ipVersion == 6)
        #expect(lookup.metadata.databaseType == "Frontdesk-Tiny-Country")
        #expect(lookup.location(forAddress: "203.0.113.7") == .init(country: "DE", region: "BY"))
        #expect(lookup.location(forAddress: "203.0.113.200") == .init(country: "AT", region: nil))
        #expect(lookup.country(forAddress: "::ffff:203.0.113.9") == "DE")
        #expect(lookup.country(forAddress: "198.51.100.1") == "US", "registered_country when no country")
        #expect(lookup.country(forAddress: "2001:db8:1::42") == "FR")
        #expect(lookup.country(forAddress: "[2001:db8::1]") == "FR")
        #expect(lookup.record(forAddress: "2001:db8::1")?["location"]?["accuracy_radius"] == .unsigned(100))
        for none in ["192.0.2.1", "2001:db9::1", "::1", "not an address", "", "203.0.113", "1.2.3.4.5"] {
            #expect(lookup.country(forAddress: none) == nil, "\(none)")
        }
        let asProtocol: any CountryLookup = lookup
        #expect(asProtocol.country(forAddress: "203.0.113.1") == "DE")
    }

    @Test("a missing, foreign or truncated database is refused by name")
    func maxMindErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mmdb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("none.mmdb").path
        #expect(throws: MaxMindDatabaseError.notFound(path: missing)) { try MaxMindCountryLookup(path: missing) }

        let foreign = dir.appendingPathComponent("foreign.mmdb")
        try Data(repeating: 0x41, count: 4096).write(to: foreign)
        #expect(throws: MaxMindDatabaseError.notMaxMind(path: foreign.path)) { try MaxMindCountryLookup(path: foreign.path) }

        let good = try [UInt8](Data(contentsOf: Self.fixtures.appendingPathComponent("tiny.mmdb")))
        let marker: [UInt8] = [0xAB, 0xCD, 0xEF] + Array("MaxMind.com".utf8)
        let at = (0...(good.count - marker.count)).last { good[$0..<($0 + marker.count)].elementsEqual(marker) }!
        let error = #expect(throws: MaxMindDatabaseError.self) { try MaxMindCountryLookup(bytes: Array(good[..<40] + good[at...]), path: "cut") }
        #expect(error?.description.contains("is corrupt") == true)

        // Random damage to the data section never traps; lookups answer or say nil.
        var rng = SeededGenerator(state: 14)
        for _ in 0..<200 {
            var damaged = good
            for _ in 0..<8 { damaged[Int.random(in: 0..<at, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            guard let lookup = try? MaxMindCountryLookup(bytes: damaged) else { continue }
            for address in ["203.0.113.7", "2001:db8::1", "198.51.100.1", "10.0.0.1"] { _ = lookup.location(forAddress: address) }
        }
    }
}

/// SplitMix64: a fixed seed gives the same damage every run.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
