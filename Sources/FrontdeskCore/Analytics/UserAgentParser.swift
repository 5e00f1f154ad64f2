import Foundation

/// The user-agent reduction behind `UserAgentFacts.parse`: a byte scanner over the header's
/// UTF-8 with `memchr`/`memcmp` token searches, run once per beacon, so it uses no regular expression
/// and allocates only the lower-cased copy the bot markers are searched in.
///
/// Rules are ordered like ua-parser's (uap-core `regexes.yaml`): the most specific product token
/// wins (an in-app browser or a Chromium fork before Chrome, Chrome before Safari). Families
/// are the brand without a "Mobile" suffix, since the device class is kept beside them; the
/// oracle test (`Tests/contract/test_user_agents.py`) compares them with ua-parser's on a
/// corpus of real strings and prints the agreement.
struct UserAgentScanner {
    /// Longer headers are cut: no browser needs more to be recognised, and the scan stays bounded.
    static let maximumBytes = 512

    let bytes: UnsafeBufferPointer<UInt8>
    /// ASCII lower-cased copy, for the case-insensitive bot markers.
    let lower: [UInt8]

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = UnsafeBufferPointer(rebasing: bytes.prefix(Self.maximumBytes))
        self.lower = self.bytes.map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 }
    }

    // MARK: searching

    /// Offset of the first occurrence of `token` (case-sensitive), nil when absent.
    func find(_ token: StaticString, from start: Int = 0) -> Int? {
        Self.search(bytes, token, from: start)
    }

    func has(_ token: StaticString) -> Bool { find(token) != nil }

    /// Case-insensitive: `token` must be written in lower case.
    func hasLower(_ token: StaticString) -> Bool {
        lower.withUnsafeBufferPointer { Self.search($0, token, from: 0) != nil }
    }

    private static func search(_ haystack: UnsafeBufferPointer<UInt8>, _ token: StaticString, from start: Int) -> Int? {
        let n = token.utf8CodeUnitCount
        guard let base = haystack.baseAddress, n > 0, start + n <= haystack.count else { return nil }
        let needle = token.utf8Start
        let first = Int32(needle[0])
        var at = start
        let last = haystack.count - n
        // memchr finds candidates for the first byte; memcmp checks the rest (glibc's memmem is
        // a GNU extension Swift does not see).
        while at <= last {
            guard let hit = memchr(base + at, first, last - at + 1) else { return nil }
            let index = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if memcmp(base + index, needle, n) == 0 { return index }
            at = index + 1
        }
        return nil
    }

    /// The digits right after `token` ("Chrome/126.0" → "126"); nil when the token is absent.
    func major(after token: StaticString) -> String? {
        guard let at = find(token) else { return nil }
        var end = at + token.utf8CodeUnitCount
        let start = end
        while end < bytes.count, end - start < 6, bytes[end] >= 48, bytes[end] <= 57 { end += 1 }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }

    // MARK: the facts

    func facts() -> UserAgentFacts {
        let (browser, version) = self.browser()
        let bot = isBot
        return UserAgentFacts(browser: browser, browserVersion: version, os: os, device: bot ? .other : device, isBot: bot)
    }

    /// Crawlers, headless and scripted browsers, link previewers, prefetchers, HTTP libraries.
    var isBot: Bool {
        if bytes.count < 8 { return true }
        // Every browser (and every in-app web view) starts with Mozilla/ (or Opera/ for Presto);
        // what does not is a tool, a library or a crawler.
        if !(bytes.starts(with: "Mozilla/".utf8) || bytes.starts(with: "Opera/".utf8)) { return true }
        for marker in Self.botMarkers where hasLower(marker) { return true }
        // "(compatible; Name…)" is how crawlers introduce themselves; of browsers only IE and
        // Konqueror still write it.
        if has("(compatible") && !(has("MSIE ") || has("Trident/") || has("Konqueror")) { return true }
        return false
    }

    /// Lower-case substrings that only non-human agents carry.
    static let botMarkers: [StaticString] = [
        "bot", "crawl", "spider", "slurp", "scrap", "headless", "phantomjs", "electron/", "lighthouse", "pagespeed",
        "gtmetrix", "pingdom", "uptime", "monitor", "preview", "prerender", "prefetch", "facebookexternalhit",
        "facebookcatalog", "meta-externalagent", "embedly", "whatsapp/", "skypeuripreview", "vkshare", "qwantify",
        "http://", "https://", "+http", "python", "curl", "wget", "java/", "okhttp", "go-http", "httpclient",
        "libwww", "feedfetcher", "feedburner", "archiver", "validator", "checker", "fetcher", "analyzer", "scanner",
        "mediapartners", "google-", "googleother", "adsbot", "ia_archiver", "seznam", "petal", "sogou", "yeti/",
        "ahrefs", "semrush", "mj12", "bytespider", "gptbot", "chatgpt", "claude", "anthropic", "perplexity", "ccbot",
        "cohere", "diffbot", "ltx71", "zgrab", "nmap", "masscan", "httrack", "node-fetch", "axios", "undici",
        "postman", "insomnia", "datadog", "newrelic", "statuscake", "site24x7", "dareboost", "webpagetest", "ptst/",
        "speedcurve", "catchpoint", "gomezagent", "linkcheck", "outbrain", "iframely", "nuzzel", "bitlyurl",
        "siteimprove", "screaming frog", "netcraft", "censys", "internet-measurement", "researchscan", "wappalyzer",
        "nutch", "heritrix", "teoma", "ask jeeves", "grapeshot", "proximic", "admantx", "coccoc", "yisou",
        "ruby", "perl/", "php/", "mechanize", "winhttp", "urllib", "aiohttp", "reqwest", "hackney", "dart:io",
        "playwright", "puppeteer", "selenium", "webdriver", "cypress", "jsdom", "htmlunit", "slimerjs",
        "ips-agent", "appinsights", "mailto:", "recon", "collection@",
    ]

    /// Family and major version, most specific product token first.
    func browser() -> (String, String) {
        for rule in Self.browserRules {
            if has(rule.token) {
                if let not = rule.unless, has(not) { continue }
                let version = rule.versionToken.flatMap(major(after:)) ?? major(after: rule.token) ?? ""
                return (rule.family, version)
            }
        }
        if has("Trident/") || has("MSIE ") {
            return ("IE", major(after: "rv:").flatMap { has("Trident/7") ? $0 : nil } ?? major(after: "MSIE ") ?? "")
        }
        if has("Chrome/") { return ("Chrome", major(after: "Chrome/") ?? "") }
        if has("Safari/") && has("Version/") {
            // The stock Android browser (pre-Chrome) is a WebKit "Version/4.0 … Safari" on Android.
            return (has("Android") ? "Android" : "Safari", major(after: "Version/") ?? "")
        }
        // An app's web view on iOS: WebKit without a Safari token.
        if has("AppleWebKit/") && (has("iPhone") || has("iPad") || has("iPod")) { return ("Safari", major(after: "OS ") ?? "") }
        if has("Gecko/") && has("rv:") && !has("like Gecko") { return ("Firefox", major(after: "rv:") ?? "") }
        // Mail.app renders HTML mail with WebKit and names no browser.
        if has("Macintosh") && has("AppleWebKit/") && !has("Safari/") { return ("Apple Mail", major(after: "AppleWebKit/") ?? "") }
        return ("Other", "")
    }

    struct BrowserRule {
        let token: StaticString
        let family: String
        var unless: StaticString? = nil
        var versionToken: StaticString? = nil
    }

    /// Ordered: forks and in-app browsers (which also carry Chrome/ or Safari/) before the engines.
    static let browserRules: [BrowserRule] = [
        BrowserRule(token: "FBAN/", family: "Facebook", versionToken: "FBAV/"),
        BrowserRule(token: "FBAV/", family: "Facebook"),
        BrowserRule(token: "FB_IAB/", family: "Facebook", versionToken: "FBAV/"),
        BrowserRule(token: "Instagram ", family: "Instagram"),
        BrowserRule(token: "Twitter for", family: "Twitter"),
        BrowserRule(token: "TwitterAndroid", family: "Twitter"),
        BrowserRule(token: " Line/", family: "LINE"),
        BrowserRule(token: "Snapchat/", family: "Snapchat"),
        BrowserRule(token: "Pinterest", family: "Pinterest"),
        BrowserRule(token: "musical_ly", family: "TikTok"),
        BrowserRule(token: "GSA/", family: "Google"),
        BrowserRule(token: "DuckDuckGo/", family: "DuckDuckGo"),
        BrowserRule(token: "Ddg/", family: "DuckDuckGo"),
        BrowserRule(token: "Ecosia ios@", family: "Ecosia"),
        BrowserRule(token: "YaBrowser/", family: "Yandex Browser"),
        BrowserRule(token: "YaSearchBrowser/", family: "Yandex Browser"),
        BrowserRule(token: "SamsungBrowser/", family: "Samsung Internet"),
        BrowserRule(token: "Silk/", family: "Amazon Silk"),
        BrowserRule(token: "UCBrowser/", family: "UC Browser"),
        BrowserRule(token: "UCWEB", family: "UC Browser"),
        BrowserRule(token: "MiuiBrowser/", family: "MiuiBrowser"),
        BrowserRule(token: "HuaweiBrowser/", family: "Huawei Browser"),
        BrowserRule(token: "HeyTapBrowser/", family: "HeyTapBrowser"),
        BrowserRule(token: "Whale/", family: "Whale"),
        BrowserRule(token: "QQBrowser/", family: "QQ Browser"),
        BrowserRule(token: "Opera Mini/", family: "Opera Mini"),
        BrowserRule(token: "OPiOS/", family: "Opera Mini"),
        BrowserRule(token: "OPT/", family: "Opera Touch"),
        BrowserRule(token: "OPX/", family: "Opera GX"),
        BrowserRule(token: "OPR/", family: "Opera"),
        BrowserRule(token: "Opera/", family: "Opera", versionToken: "Version/"),
        BrowserRule(token: "Avast/", family: "Avast Secure Browser"),
        BrowserRule(token: "AVG/", family: "AVG"),
        BrowserRule(token: "AOL ", family: "AOL Desktop Gold Browser", versionToken: "AOL "),
        BrowserRule(token: "AOLShield/", family: "AOL"),
        BrowserRule(token: "Vivaldi/", family: "Vivaldi"),
        BrowserRule(token: "Brave/", family: "Brave"),
        BrowserRule(token: "EdgiOS/", family: "Edge"),
        BrowserRule(token: "EdgA/", family: "Edge"),
        BrowserRule(token: "Edg/", family: "Edge"),
        BrowserRule(token: "Edge/", family: "Edge"),
        BrowserRule(token: "CriOS/", family: "Chrome"),
        BrowserRule(token: "FxiOS/", family: "Firefox"),
        BrowserRule(token: "Focus/", family: "Firefox Focus"),
        BrowserRule(token: "Klar/", family: "Firefox Klar"),
        BrowserRule(token: "SeaMonkey/", family: "SeaMonkey"),
        BrowserRule(token: "Camino/", family: "Camino"),
        BrowserRule(token: "ThunderBrowse/", family: "ThunderBrowse"),
        BrowserRule(token: "Lightning/", family: "Lightning"),
        BrowserRule(token: "Thunderbird/", family: "Thunderbird"),
        BrowserRule(token: "Iceweasel/", family: "Iceweasel"),
        BrowserRule(token: "IceCat/", family: "IceCat"),
        BrowserRule(token: "PaleMoon/", family: "Pale Moon"),
        BrowserRule(token: "Waterfox/", family: "Waterfox"),
        BrowserRule(token: "Firefox/", family: "Firefox"),
        BrowserRule(token: "Minefield/", family: "Firefox"),
        BrowserRule(token: "Namoroka/", family: "Firefox"),
        BrowserRule(token: "Shiretoko/", family: "Firefox"),
        BrowserRule(token: "GranParadiso/", family: "Firefox"),
        BrowserRule(token: "Chromium/", family: "Chromium"),
        BrowserRule(token: "HeadlessChrome/", family: "HeadlessChrome"),
    ]

    var os: String {
        if has("Windows Phone") || has("Windows Mobile") { return "Windows Phone" }
        if has("iPhone") || has("iPad") || has("iPod") || has("iOS") { return "iOS" }
        if has("Android") || has("Adr ") { return "Android" }
        if has("Windows") || has("Win98") || has("Win95") || has("WinNT") { return "Windows" }
        if has("CrOS ") { return "Chrome OS" }
        if has("Macintosh") || has("Mac OS X") || has("Mac_PowerPC") { return "macOS" }
        if has("KAIOS") || has("KaiOS") { return "KaiOS" }
        if has("Tizen") { return "Tizen" }
        if has("Web0S") || has("webOS") { return "webOS" }
        if has("FreeBSD") { return "FreeBSD" }
        if has("OpenBSD") { return "OpenBSD" }
        if has("NetBSD") { return "NetBSD" }
        if has("SunOS") { return "Solaris" }
        if has("Maemo") { return "Maemo" }
        if has("Linux") || has("X11") || has("Ubuntu") { return "Linux" }
        return "Other"
    }

    var device: UserAgentFacts.Device {
        if has("iPad") || has("Tablet") || has("Kindle") || has("PlayBook") || (has("Silk/") && !has("Mobile")) { return .tablet }
        if has("Mobi") || has("iPhone") || has("iPod") || has("Windows Phone") || has("Opera Mini") || has("BlackBerry")
            || has("IEMobile") || has("KAIOS") { return .mobile }
        if has("SmartTV") || has("SMART-TV") || has("HbbTV") || has("CrKey") || has("AppleTV") || has("PlayStation")
            || has("Xbox") || has("Nintendo") || has("Web0S") || has("BRAVIA") { return .other }
        // Android without "Mobile" is a tablet (Google's guidance to browser makers).
        if has("Android") { return .tablet }
        if has("Windows") || has("Macintosh") || has("X11") || has("CrOS ") || has("Linux") || has("BSD") { return .desktop }
        return .other
    }
}
