/// What the analytics engine keeps of a request besides the page: the user agent reduced to
/// families and a device class, the traffic source, the country. The raw user-agent string,
/// referrer query and client address are never stored; these reductions are all that is.
///
/// The rules live beside: `UserAgentParser.swift`, `TrafficSourceClassifier.swift` and
/// `MaxMindCountryLookup.swift` (a pure-Swift reader of MaxMind-format `.mmdb` files); their
/// tests are `VisitorFactsTests` and the oracle tests in `Tests/contract/test_visitor_facts.py`.

/// A user agent reduced to what the dashboard breaks down by.
package struct UserAgentFacts: Sendable, Hashable {
    package enum Device: String, Sendable, CaseIterable { case desktop, mobile, tablet, other }

    /// Browser family ("Chrome", "Firefox", "Safari", "Edge", …; "Other" when unknown).
    package var browser: String
    /// The browser's major version ("126"), "" when unknown.
    package var browserVersion: String
    /// Operating-system family ("Windows", "macOS", "iOS", "Android", "Linux", …; "Other").
    package var os: String
    package var device: Device
    /// Crawlers, headless browsers, link previewers and prefetchers: answered, never counted.
    package var isBot: Bool

    package init(browser: String, browserVersion: String, os: String, device: Device, isBot: Bool) {
        self.browser = browser
        self.browserVersion = browserVersion
        self.os = os
        self.device = device
        self.isBot = isBot
    }

    /// Reduces a `User-Agent` header (see `UserAgentScanner` for the rules; the oracle test
    /// checks them against ua-parser on real strings).
    package static func parse(_ userAgent: String) -> UserAgentFacts {
        var userAgent = userAgent
        return userAgent.withUTF8 { UserAgentScanner(bytes: $0).facts() }
    }
}

/// Where a visit came from: a named source ("Google", "Direct", or the `utm_source` as given)
/// and the referring host and path (no query, no fragment).
package struct TrafficSource: Sendable, Hashable {
    /// What kind of place sent the visit; `campaign` is a `utm_source` naming no known site.
    package enum Kind: String, Sendable, CaseIterable { case direct, search, social, email, referral, campaign }

    package var source: String
    package var referrerHost: String?
    package var referrerPath: String?
    package var kind: Kind

    package init(source: String, referrerHost: String?, referrerPath: String?, kind: Kind = .referral) {
        self.source = source
        self.referrerHost = referrerHost
        self.referrerPath = referrerPath
        self.kind = kind
    }

    /// `utm_source` wins (a known site's alias is folded to its name: "fb" is "Facebook"); a
    /// referrer on one of `siteHosts` (an internal link) counts as direct; a known search engine,
    /// social network or mail service is named; any other referrer is its host without `www.`.
    /// The referring host and path are kept without query or fragment, also beside a `utm_source`.
    package static func classify(referrer: String?, utmSource: String?, siteHosts: Set<String>) -> TrafficSource {
        TrafficSourceClassifier.classify(referrer: referrer, utmSource: utmSource, siteHosts: siteHosts)
    }
}

/// Country (ISO 3166-1 alpha-2) of a client address, looked up in memory; the address is
/// dropped right after.
package protocol CountryLookup: Sendable {
    func country(forAddress address: String) -> String?
}

/// No GeoIP database configured: every country is unknown.
package struct NoCountryLookup: CountryLookup {
    package init() {}
    package func country(forAddress address: String) -> String? { nil }
}
