import Foundation

/// One event of `POST /api/v1/events`, validated: what the tracker sent, before the server adds
/// who (the visitor id) and when.
package struct IngestEvent: Sendable, Equatable {
    package enum Kind: Int, Sendable { case pageview = 0, event = 1, engagement = 2 }
    package enum Screen: String, Sendable { case mobile, tablet, desktop }

    package var kind: Kind
    /// The page's path (no query, no fragment), at most 2,048 characters.
    package var path: String
    /// The page's host (lowercased, with a non-default port), the "site" of the visitor id.
    package var host: String
    package var utmSource: String?
    package var utmMedium: String?
    package var utmCampaign: String?
    package var referrer: String?
    package var name: String?
    /// Canonical JSON of the properties (sorted keys), nil when none.
    package var props: String?
    package var engagedMs: Int?
    package var scrollDepth: Int?
    package var screen: Screen?
    package var visitor: String?

    package init(kind: Kind, path: String, host: String, utmSource: String?, utmMedium: String?, utmCampaign: String?, referrer: String?,
                 name: String?, props: String?, engagedMs: Int?, scrollDepth: Int?, screen: Screen?, visitor: String?) {
        self.kind = kind
        self.path = path
        self.host = host
        self.utmSource = utmSource
        self.utmMedium = utmMedium
        self.utmCampaign = utmCampaign
        self.referrer = referrer
        self.name = name
        self.props = props
        self.engagedMs = engagedMs
        self.scrollDepth = scrollDepth
        self.screen = screen
        self.visitor = visitor
    }
}

/// The wire contract of `POST /api/v1/events` (see the README): 1–50 events, each checked
/// field by field; a 422 names every bad event and field (`events[3].name`).
package enum IngestBatch {
    package static let maxBodyBytes = 64 * 1024
    package static let maxEvents = 50
    package static let maxURLLength = 2048
    package static let maxProps = 16
    package static let maxPropValueLength = 256
    package static let maxEngagedMs = 86_400_000

    /// Validates the decoded body; throws one 422 listing every problem.
    package static func parse(_ body: [String: JSONValue]) throws -> [IngestEvent] {
        var problems: [String: String] = [:]
        for key in body.keys where key != "events" { problems[key] = "is not a known field" }
        guard let raw = body["events"] else {
            problems["events"] = "is required: an array of 1 to \(maxEvents) events"
            throw FrontdeskError.validation(problems)
        }
        guard case .array(let items) = raw else {
            problems["events"] = "must be an array, not \(raw.typeName)"
            throw FrontdeskError.validation(problems)
        }
        if items.isEmpty || items.count > maxEvents {
            problems["events"] = "must hold 1 to \(maxEvents) events, not \(items.count)"
            throw FrontdeskError.validation(problems)
        }
        var events: [IngestEvent] = []
        for (index, item) in items.enumerated() {
            let prefix = "events[\(index)]"
            guard case .object(let object) = item else {
                problems[prefix] = "must be an object, not \(item.typeName)"
                continue
            }
            if let event = parseEvent(object, prefix: prefix, problems: &problems) { events.append(event) }
        }
        if !problems.isEmpty { throw FrontdeskError.validation(problems) }
        return events
    }

    static let fields: Set<String> = ["type", "url", "referrer", "name", "props", "engagedMs", "scrollDepth", "screen", "visitor"]

    static func parseEvent(_ object: [String: JSONValue], prefix: String, problems: inout [String: String]) -> IngestEvent? {
        let before = problems.count
        func fail(_ field: String, _ message: String) {
            let key = "\(prefix).\(field)"
            if problems[key] == nil { problems[key] = message }
        }
        func string(_ key: String) -> String? {
            guard let value = object[key] else { return nil }
            guard case .string(let s) = value else { fail(key, "must be a string, not \(value.typeName)"); return nil }
            return s
        }
        func integer(_ key: String, _ range: ClosedRange<Int>) -> Int? {
            guard let value = object[key] else { return nil }
            guard case .number(let n) = value, n.rounded() == n, n >= Double(range.lowerBound), n <= Double(range.upperBound) else {
                fail(key, "must be an integer from \(range.lowerBound) to \(range.upperBound)"); return nil
            }
            return Int(n)
        }
        for key in object.keys where !fields.contains(key) { fail(key, "is not a known field") }
        var kind: IngestEvent.Kind?
        switch string("type") {
        case "pageview": kind = .pageview
        case "event": kind = .event
        case "engagement": kind = .engagement
        case nil: if object["type"] == nil { fail("type", "is required: pageview, event or engagement") }
        default: fail("type", "must be pageview, event or engagement")
        }
        var page: PageURL?
        if let url = string("url") {
            if url.unicodeScalars.count > maxURLLength { fail("url", "must be at most \(maxURLLength) characters") }
            else if let parsed = PageURL(url) { page = parsed }
            else { fail("url", "must be an absolute http(s) URL") }
        } else if object["url"] == nil {
            fail("url", "is required")
        }
        let referrer = string("referrer")
        if let referrer, referrer.unicodeScalars.count > maxURLLength { fail("referrer", "must be at most \(maxURLLength) characters") }
        if referrer != nil, kind != nil, kind != .pageview { fail("referrer", "is allowed on pageview events only") }
        let name = string("name")
        if let name, !isValidName(name) { fail("name", "must be 1 to 64 characters of A-Z a-z 0-9 space _ . : / -") }
        if kind == .event, name == nil, object["name"] == nil { fail("name", "is required for event") }
        if kind == .pageview, object["name"] != nil { fail("name", "is allowed on event and engagement only") }
        var props: String?
        if let raw = object["props"] {
            if kind != nil, kind != .event { fail("props", "is allowed on event only") }
            else { props = canonicalProps(raw, fail: { fail($0, $1) }) }
        }
        let engaged = integer("engagedMs", 0...maxEngagedMs)
        if kind == .engagement, engaged == nil, object["engagedMs"] == nil {
            fail("engagedMs", "is required for engagement")
        }
        if kind != nil, kind != .engagement, object["engagedMs"] != nil { fail("engagedMs", "is allowed on engagement only") }
        let scroll = integer("scrollDepth", 0...100)
        if kind != nil, kind != .engagement, object["scrollDepth"] != nil { fail("scrollDepth", "is allowed on engagement only") }
        var screen: IngestEvent.Screen?
        if let value = string("screen") {
            if let s = IngestEvent.Screen(rawValue: value) { screen = s } else { fail("screen", "must be mobile, tablet or desktop") }
        }
        let visitor = string("visitor")
        if let visitor, !(16...64).contains(visitor.utf8.count) || !visitor.utf8.allSatisfy(isVisitorByte) {
            fail("visitor", "must be 16 to 64 characters of A-Z a-z 0-9 _ -")
        }
        guard problems.count == before, let kind, let page else { return nil }
        return IngestEvent(kind: kind, path: page.path, host: page.host, utmSource: page.utm["utm_source"], utmMedium: page.utm["utm_medium"],
                           utmCampaign: page.utm["utm_campaign"], referrer: referrer.flatMap { $0.isEmpty ? nil : $0 }, name: name, props: props,
                           engagedMs: engaged, scrollDepth: scroll, screen: screen, visitor: visitor)
    }

    /// 1–64 characters of `[A-Za-z0-9 _.:/-]`.
    package static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.utf8.allSatisfy { byte in
            isVisitorByte(byte) || byte == UInt8(ascii: " ") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "/")
        }
    }

    static func isVisitorByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    /// `props` as canonical JSON (sorted keys), or nil with the problem reported.
    static func canonicalProps(_ raw: JSONValue, fail: (String, String) -> Void) -> String? {
        guard case .object(let map) = raw else { fail("props", "must be an object, not \(raw.typeName)"); return nil }
        if map.count > maxProps { fail("props", "must have at most \(maxProps) keys"); return nil }
        var ok = true
        for (key, value) in map {
            if key.isEmpty || key.unicodeScalars.count > 64 { fail("props", "keys must be 1 to 64 characters"); ok = false; continue }
            switch value {
            case .string(let s) where s.unicodeScalars.count > maxPropValueLength:
                fail("props.\(key)", "must be at most \(maxPropValueLength) characters"); ok = false
            case .string, .bool: break
            case .number(let n) where n.isFinite: break
            default: fail("props.\(key)", "must be a string, number or boolean, not \(value.typeName)"); ok = false
            }
        }
        guard ok else { return nil }
        if map.isEmpty { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(map)).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// An absolute page URL reduced to what is kept: host, path and the `utm_*` parameters.
package struct PageURL: Sendable, Equatable {
    package var host: String
    package var path: String
    package var utm: [String: String]

    /// Accepts what the contract's pattern says: `http://` or `https://` (any case), a host of
    /// at least one character that is not `/`, `?`, `#` or white space, then anything.
    package init?(_ url: String) {
        let scalars = Array(url.unicodeScalars)
        let lower = String(String.UnicodeScalarView(scalars.prefix(8))).lowercased()
        let schemeLength = lower.hasPrefix("https://") ? 8 : lower.hasPrefix("http://") ? 7 : 0
        guard schemeLength > 0 else { return nil }
        var index = schemeLength
        while index < scalars.count, !["/", "?", "#"].contains(scalars[index]), !scalars[index].properties.isWhitespace { index += 1 }
        guard index > schemeLength else { return nil }
        let https = schemeLength == 8
        let rawHost = String(String.UnicodeScalarView(scalars[schemeLength..<index])).lowercased()
        let defaultPort = https ? ":443" : ":80"
        host = rawHost.hasSuffix(defaultPort) ? String(rawHost.dropLast(defaultPort.count)) : rawHost
        var pathEnd = index
        while pathEnd < scalars.count, scalars[pathEnd] != "?", scalars[pathEnd] != "#" { pathEnd += 1 }
        let rawPath = String(String.UnicodeScalarView(scalars[index..<pathEnd]))
        path = rawPath.isEmpty ? "/" : rawPath
        var utm: [String: String] = [:]
        if pathEnd < scalars.count, scalars[pathEnd] == "?" {
            var queryEnd = pathEnd + 1
            while queryEnd < scalars.count, scalars[queryEnd] != "#" { queryEnd += 1 }
            let query = String(String.UnicodeScalarView(scalars[(pathEnd + 1)..<queryEnd]))
            for pair in query.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                let name = String(parts[0])
                guard ["utm_source", "utm_medium", "utm_campaign"].contains(name), parts.count == 2 else { continue }
                let raw = String(parts[1]).replacingOccurrences(of: "+", with: " ")
                let value = (raw.removingPercentEncoding ?? raw).trimmingCharacters(in: .whitespaces)
                if !value.isEmpty { utm[name] = String(value.prefix(256)) }
            }
        }
        self.utm = utm
    }
}
