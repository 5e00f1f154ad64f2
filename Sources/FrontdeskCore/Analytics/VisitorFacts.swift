/// What the analytics engine keeps of a request besides the page: the user agent reduced to
/// families and a device class, the traffic source, the country. The raw user-agent string,
/// referrer query and client address are never stored; these reductions are all that is.
///
/// The bodies here are the first cut; the parser, classifier and lookup are refined beside
/// their tests (`UserAgentFactsTests`, `TrafficSourceTests`, `CountryLookupTests`).

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

    package static func parse(_ userAgent: String) -> UserAgentFacts {
        let ua = userAgent.lowercased()
        let isBot = ua.isEmpty || ["bot", "crawler", "spider", "headless", "preview", "curl/", "wget/", "python-"].contains { ua.contains($0) }
        let browser = ua.contains("firefox/") ? "Firefox" : ua.contains("edg/") ? "Edge" : ua.contains("chrome/") ? "Chrome"
            : ua.contains("safari/") ? "Safari" : "Other"
        let os = ua.contains("android") ? "Android" : ua.contains("iphone") || ua.contains("ipad") ? "iOS" : ua.contains("windows") ? "Windows"
            : ua.contains("mac os x") ? "macOS" : ua.contains("linux") ? "Linux" : "Other"
        let device: Device = ua.contains("ipad") || ua.contains("tablet") ? .tablet : ua.contains("mobile") ? .mobile : .desktop
        return UserAgentFacts(browser: browser, browserVersion: "", os: os, device: device, isBot: isBot)
    }
}

/// Where a visit came from: a named source ("Google", "Direct", or the `utm_source` as given)
/// and the referring host and path (no query, no fragment).
package struct TrafficSource: Sendable, Hashable {
    package var source: String
    package var referrerHost: String?
    package var referrerPath: String?

    package init(source: String, referrerHost: String?, referrerPath: String?) {
        self.source = source
        self.referrerHost = referrerHost
        self.referrerPath = referrerPath
    }

    /// `utm_source` wins; a referrer on one of `siteHosts` (an internal link) counts as direct.
    package static func classify(referrer: String?, utmSource: String?, siteHosts: Set<String>) -> TrafficSource {
        if let utm = utmSource, !utm.isEmpty { return TrafficSource(source: utm, referrerHost: nil, referrerPath: nil) }
        guard let referrer, let schemeEnd = referrer.range(of: "://") else { return TrafficSource(source: "Direct", referrerHost: nil, referrerPath: nil) }
        let rest = referrer[schemeEnd.upperBound...]
        let hostEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let host = rest[..<hostEnd].lowercased()
        guard !host.isEmpty, !siteHosts.contains(host) else { return TrafficSource(source: "Direct", referrerHost: nil, referrerPath: nil) }
        let pathEnd = rest[hostEnd...].firstIndex { $0 == "?" || $0 == "#" } ?? rest.endIndex
        let path = String(rest[hostEnd..<pathEnd])
        return TrafficSource(source: host.hasPrefix("www.") ? String(host.dropFirst(4)) : host, referrerHost: host, referrerPath: path.isEmpty ? "/" : path)
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
