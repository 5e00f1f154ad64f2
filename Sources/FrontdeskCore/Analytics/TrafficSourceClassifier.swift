/// The referrer reduction behind `TrafficSource.classify`: the host is parsed by hand (no
/// Foundation URL, no regular expression: it runs per page view), matched against the known
/// search engines, social networks and mail services label by label, so `google.co.uk`,
/// `www.google.de` and `l.facebook.com` all find their name without a list of every country.
enum TrafficSourceClassifier {
    /// A known site: its name, its kind, and the hosts it answers on. A pattern `google.*` is the
    /// label `google` followed by a public suffix of one or two short labels (`.de`, `.co.uk`);
    /// any other pattern matches the host itself and every subdomain of it.
    struct Known {
        let name: String
        let kind: TrafficSource.Kind
        let patterns: [String]
    }

    static let known: [Known] = [
        // Mail first: mail.google.com is Gmail, not Google search.
        Known(name: "Gmail", kind: .email, patterns: ["mail.google.com", "com.google.android.gm"]),
        Known(name: "Outlook", kind: .email, patterns: ["outlook.live.com", "outlook.office.com", "outlook.office365.com"]),
        Known(name: "Yahoo Mail", kind: .email, patterns: ["mail.yahoo.com"]),
        Known(name: "Google", kind: .search, patterns: ["google.*", "googlequicksearchbox"]),
        Known(name: "Bing", kind: .search, patterns: ["bing.com"]),
        Known(name: "DuckDuckGo", kind: .search, patterns: ["duckduckgo.com", "ddg.gg"]),
        Known(name: "Yahoo", kind: .search, patterns: ["yahoo.*", "yahoo.co.jp"]),
        Known(name: "Ecosia", kind: .search, patterns: ["ecosia.org"]),
        Known(name: "Yandex", kind: .search, patterns: ["yandex.*", "ya.ru"]),
        Known(name: "Baidu", kind: .search, patterns: ["baidu.com"]),
        Known(name: "Brave Search", kind: .search, patterns: ["search.brave.com"]),
        Known(name: "Qwant", kind: .search, patterns: ["qwant.com"]),
        Known(name: "Startpage", kind: .search, patterns: ["startpage.com"]),
        Known(name: "Kagi", kind: .search, patterns: ["kagi.com"]),
        Known(name: "Naver", kind: .search, patterns: ["naver.com"]),
        Known(name: "Seznam", kind: .search, patterns: ["seznam.cz"]),
        Known(name: "Sogou", kind: .search, patterns: ["sogou.com"]),
        Known(name: "Mojeek", kind: .search, patterns: ["mojeek.com"]),
        Known(name: "Perplexity", kind: .search, patterns: ["perplexity.ai"]),
        Known(name: "ChatGPT", kind: .search, patterns: ["chatgpt.com", "chat.openai.com"]),
        Known(name: "Facebook", kind: .social, patterns: ["facebook.com", "fb.com", "fb.me", "messenger.com", "com.facebook.katana"]),
        Known(name: "Instagram", kind: .social, patterns: ["instagram.com", "com.instagram.android"]),
        Known(name: "X", kind: .social, patterns: ["twitter.com", "t.co", "x.com", "com.twitter.android"]),
        Known(name: "LinkedIn", kind: .social, patterns: ["linkedin.com", "lnkd.in", "com.linkedin.android"]),
        Known(name: "Reddit", kind: .social, patterns: ["reddit.com", "redd.it", "com.reddit.frontpage"]),
        Known(name: "YouTube", kind: .social, patterns: ["youtube.com", "youtu.be", "com.google.android.youtube"]),
        Known(name: "Pinterest", kind: .social, patterns: ["pinterest.*", "pin.it"]),
        Known(name: "TikTok", kind: .social, patterns: ["tiktok.com"]),
        Known(name: "Threads", kind: .social, patterns: ["threads.net", "threads.com"]),
        Known(name: "Bluesky", kind: .social, patterns: ["bsky.app"]),
        Known(name: "Mastodon", kind: .social, patterns: ["mastodon.social", "mastodon.online", "mastodon.world", "mstdn.social", "fosstodon.org", "hachyderm.io", "infosec.exchange"]),
        Known(name: "Hacker News", kind: .social, patterns: ["news.ycombinator.com"]),
        Known(name: "Lobsters", kind: .social, patterns: ["lobste.rs"]),
        Known(name: "VK", kind: .social, patterns: ["vk.com"]),
        Known(name: "WhatsApp", kind: .social, patterns: ["whatsapp.com", "wa.me"]),
        Known(name: "Telegram", kind: .social, patterns: ["t.me", "telegram.org"]),
        Known(name: "Discord", kind: .social, patterns: ["discord.com", "discordapp.com"]),
        Known(name: "Quora", kind: .social, patterns: ["quora.com"]),
        Known(name: "Tumblr", kind: .social, patterns: ["tumblr.com"]),
    ]

    /// Names a `utm_source` value may be given in, folded to the referrer's name ("fb" → "Facebook").
    static let utmAliases: [String: String] = {
        var aliases: [String: String] = [
            "fb": "Facebook", "ig": "Instagram", "twitter": "X", "x": "X", "t.co": "X", "yt": "YouTube",
            "li": "LinkedIn", "hn": "Hacker News", "ddg": "DuckDuckGo", "newsletter": "Newsletter",
        ]
        for site in known { aliases[site.name.lowercased()] = site.name }
        return aliases
    }()

    static func classify(referrer: String?, utmSource: String?, siteHosts: Set<String>) -> TrafficSource {
        var host: String?
        var path: String?
        if let referrer, let (h, p) = split(referrer) {
            if !isInternal(h, siteHosts: siteHosts) {
                host = h
                path = p
            }
        }
        let named = host.flatMap(knownSite(forHost:))
        if let utm = utmSource.map(trimmed), !utm.isEmpty {
            let name = utmAliases[utm.lowercased()] ?? String(utm.prefix(64))
            return TrafficSource(source: name, referrerHost: host, referrerPath: path, kind: named?.kind ?? .campaign)
        }
        guard let host else { return TrafficSource(source: "Direct", referrerHost: nil, referrerPath: nil, kind: .direct) }
        if let named { return TrafficSource(source: named.name, referrerHost: host, referrerPath: path, kind: named.kind) }
        let bare = host.hasPrefix("www.") ? String(host.dropFirst(4)) : host
        if bare.hasPrefix("mastodon.") || bare.hasPrefix("mstdn.") {
            return TrafficSource(source: "Mastodon", referrerHost: host, referrerPath: path, kind: .social)
        }
        return TrafficSource(source: bare, referrerHost: host, referrerPath: path, kind: .referral)
    }

    /// Host (lower case, no port, no trailing dot) and path (no query, no fragment, "/" when
    /// empty) of an http(s) or android-app referrer; nil for anything else.
    static func split(_ referrer: String) -> (String, String)? {
        let utf8 = Array(referrer.utf8.prefix(2048))
        guard let colon = utf8.firstIndex(of: UInt8(ascii: ":")), colon + 2 < utf8.count,
              utf8[colon + 1] == UInt8(ascii: "/"), utf8[colon + 2] == UInt8(ascii: "/") else { return nil }
        let scheme = String(decoding: utf8[..<colon], as: UTF8.self).lowercased()
        guard scheme == "http" || scheme == "https" || scheme == "android-app" else { return nil }
        var i = colon + 3
        let hostStart = i
        while i < utf8.count, !"/?#".utf8.contains(utf8[i]) { i += 1 }
        var hostBytes = utf8[hostStart..<i]
        if let at = hostBytes.lastIndex(of: UInt8(ascii: "@")) { hostBytes = hostBytes[(at + 1)...] }
        if hostBytes.first == UInt8(ascii: "[") {
            if let close = hostBytes.firstIndex(of: UInt8(ascii: "]")) { hostBytes = hostBytes[...close] }
        } else if let portColon = hostBytes.firstIndex(of: UInt8(ascii: ":")) {
            hostBytes = hostBytes[..<portColon]
        }
        var host = String(decoding: hostBytes, as: UTF8.self).lowercased()
        while host.hasSuffix(".") { host.removeLast() }
        guard !host.isEmpty, host.utf8.count <= 253 else { return nil }
        let pathStart = i
        while i < utf8.count, utf8[i] != UInt8(ascii: "?"), utf8[i] != UInt8(ascii: "#") { i += 1 }
        let path = String(decoding: utf8[pathStart..<i], as: UTF8.self)
        return (host, path.isEmpty ? "/" : path)
    }

    /// A link from the site itself (any of its hosts, with or without `www.`) is not a source.
    static func isInternal(_ host: String, siteHosts: Set<String>) -> Bool {
        if siteHosts.contains(host) { return true }
        let bare = host.hasPrefix("www.") ? String(host.dropFirst(4)) : host
        return siteHosts.contains { site in
            let site = site.lowercased()
            return site == bare || site == "www." + bare || (site.hasPrefix("www.") && site.dropFirst(4) == bare)
        }
    }

    static func knownSite(forHost host: String) -> Known? {
        let labels = host.split(separator: ".")
        for site in known {
            for pattern in site.patterns where matches(labels: labels, host: host, pattern: pattern) { return site }
        }
        return nil
    }

    private static func matches(labels: [Substring], host: String, pattern: String) -> Bool {
        if pattern.hasSuffix(".*") {
            let name = pattern.dropLast(2)
            // name.tld or name.co.tld (any subdomain before): the public suffix is one or two
            // short labels after the name.
            guard let index = labels.lastIndex(where: { $0 == name }) else { return false }
            let suffix = labels[(index + 1)...]
            return (1...2).contains(suffix.count) && suffix.allSatisfy { (2...3).contains($0.count) }
                && (suffix.count == 1 || ["co", "com", "org", "net", "ne", "or", "ac"].contains(String(suffix.first!)))
        }
        return host == pattern || host.hasSuffix("." + pattern)
    }

    private static func trimmed(_ value: String) -> String {
        var s = Substring(value)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
