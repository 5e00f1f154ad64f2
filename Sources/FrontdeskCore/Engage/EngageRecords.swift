import Foundation
import GRDB

/// A notification banner (table `notification_banners`): Markdown content rendered to safe HTML
/// at save, an optional call to action, where it shows, whom it targets and when.
///
/// `version` grows whenever what a visitor sees changes (content, type, call to action), so a
/// dismissal — remembered per banner version in the page — hides only the version dismissed.
package struct Banner: Sendable, Equatable, Codable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "notification_banners"

    package var id: Int64?
    package var title: String
    package var type: String
    package var contentMarkdown: String
    package var contentHTML: String
    package var ctaLabel: String?
    package var ctaURL: String?
    package var position: String
    package var slot: String?
    /// JSON array of path globs (`*` any characters but `/`, `**` anything); empty: every page.
    package var pathsJSON: String
    /// JSON array of language tags; empty: every locale.
    package var localesJSON: String
    /// `all`, `new` or `returning`.
    package var audience: String
    /// JSON array of `mobile`, `tablet`, `desktop`; empty: every device.
    package var devicesJSON: String
    package var priority: Int
    package var dismissible: Bool
    package var version: Int
    /// `draft` or `published`; a published banner is live inside its schedule.
    package var status: String
    /// The schedule as the editor wrote it: local date-times in the site's time zone.
    package var startsLocal: String?
    package var endsLocal: String?
    /// The same instants in UTC (`2027-03-28T08:00:00Z`), what the scheduler compares.
    package var startsAt: String?
    package var endsAt: String?
    package var createdAt: String
    package var updatedAt: String

    enum CodingKeys: String, CodingKey {
        case id, title, type, position, slot, audience, priority, dismissible, version, status
        case contentMarkdown = "content_markdown"
        case contentHTML = "content_html"
        case ctaLabel = "cta_label"
        case ctaURL = "cta_url"
        case pathsJSON = "paths_json"
        case localesJSON = "locales_json"
        case devicesJSON = "devices_json"
        case startsLocal = "starts_local"
        case endsLocal = "ends_local"
        case startsAt = "starts_at"
        case endsAt = "ends_at"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    package var paths: [String] { Self.strings(pathsJSON) }
    package var locales: [String] { Self.strings(localesJSON) }
    package var devices: [String] { Self.strings(devicesJSON) }

    static func strings(_ json: String) -> [String] {
        (try? JSONDecoder().decode([String].self, from: Data(json.utf8))) ?? []
    }

    static func json(_ strings: [String]) -> String {
        String(decoding: (try? JSONEncoder().encode(strings)) ?? Data("[]".utf8), as: UTF8.self)
    }

    /// Whether the banner is live at `date`: published and inside its schedule (start
    /// inclusive, end exclusive).
    package func isLive(at date: Date) -> Bool {
        guard status == "published" else { return false }
        if let startsAt, let start = EngageLimits.instant(startsAt), date < start { return false }
        if let endsAt, let end = EngageLimits.instant(endsAt), date >= end { return false }
        return true
    }
}

/// Limits and vocabularies of the engage fields, checked by the inputs and stated in the contract.
package enum EngageLimits {
    package static let types = ["info", "success", "warning", "error", "promo"]
    package static let positions = ["top", "bottom", "inline"]
    package static let audiences = ["all", "new", "returning"]
    package static let devices = ["mobile", "tablet", "desktop"]
    package static let statuses = ["draft", "published"]
    package static let title = 120
    package static let content = 2000
    package static let ctaLabel = 40
    package static let url = 2000
    package static let slot = 40
    package static let pathGlob = 200
    package static let maxPaths = 20
    package static let maxLocales = 20
    package static let maxPriority = 1000

    /// A slot name: lower-case letters, digits and `-`, like a slug.
    package static func isSlot(_ value: String) -> Bool {
        !value.isEmpty && value.count <= slot && !value.hasPrefix("-") && !value.hasSuffix("-")
            && value.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    /// A path glob: starts with `/`, printable ASCII without spaces, quotes, `<`, `>` or `\`.
    package static func isPathGlob(_ value: String) -> Bool {
        value.hasPrefix("/") && value.count <= pathGlob
            && value.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && !"\"'<>\\`".unicodeScalars.contains($0) }
    }

    /// Why `url` may not be a banner's call to action, or nil when it may: a path on the site
    /// itself (`/pricing`, not `//host`), or an `https` URL whose origin is one of the site's or
    /// the allow-list's.
    package static func urlProblem(_ url: String, allowedOrigins: Set<String>) -> String? {
        if url.hasPrefix("/") {
            if url.hasPrefix("//") || url.hasPrefix("/\\") { return "must be a path on this site (/…) or an allowed https URL; //host is another site" }
            guard url.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != "\\" }) else {
                return "must be a path without spaces or control characters"
            }
            return nil
        }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), let host = components.host?.lowercased(), !host.isEmpty else {
            return "must be a path on this site (/…) or an https URL"
        }
        guard scheme == "https" || scheme == "http" else { return "must be http(s): \(scheme): links are refused" }
        guard components.user == nil, components.password == nil else { return "must not carry a user name or password" }
        let origin = "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
        guard allowedOrigins.contains(origin) else {
            return "goes to \(origin), which is neither the site (server.site_origins) nor in engage.allowed_origins"
        }
        return nil
    }

    /// Whether Markdown holds something that looks like an HTML tag or comment (`<script`,
    /// `</p>`, `<!--`): the renderer would show it as text, but content with markup is refused
    /// so the editor learns at save that it will not run. `a < b` and `<3` are text.
    package static func containsTag(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        for (i, s) in scalars.enumerated() where s == "<" && i + 1 < scalars.count {
            let next = scalars[i + 1]
            if next == "/" || next == "!" || next == "?" || ("a"..."z").contains(next) || ("A"..."Z").contains(next) { return true }
        }
        return false
    }

    /// `2027-03-28T08:00:00Z` as a date.
    package static func instant(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// The instant of a local date-time `YYYY-MM-DDTHH:MM[:SS]` in `zone`, or why there is none: a
    /// time skipped by a daylight-saving change does not exist; a repeated one means the first.
    package static func localInstant(_ text: String, in zone: TimeZone) -> Result<Date, ScheduleProblem> {
        let bytes = Array(text.utf8)
        func digits(_ range: Range<Int>) -> Int? {
            var n = 0
            for i in range {
                guard bytes[i] >= 0x30 && bytes[i] <= 0x39 else { return nil }
                n = n * 10 + Int(bytes[i] - 0x30)
            }
            return n
        }
        guard bytes.count == 16 || (bytes.count == 19 && bytes[16] == UInt8(ascii: ":")), bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"), let year = digits(0..<4), let month = digits(5..<7),
              let day = digits(8..<10), let hour = digits(11..<13), let minute = digits(14..<16), (2000...2200).contains(year),
              (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute) else {
            return .failure(.malformed)
        }
        var second = 0
        if bytes.count == 19 {
            guard let s = digits(17..<19), s <= 59 else { return .failure(.malformed) }
            second = s
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let wanted = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard let date = calendar.date(from: wanted) else { return .failure(.malformed) }
        let back = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        guard back.year == year, back.month == month, back.day == day else { return .failure(.malformed) }
        guard back.hour == hour, back.minute == minute else { return .failure(.skipped(zone.identifier)) }
        // A wall time that happens twice (clocks go back): the first of the two.
        let earlier = date.addingTimeInterval(-3600)
        let again = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: earlier)
        if again.year == year, again.month == month, again.day == day, again.hour == hour, again.minute == minute { return .success(earlier) }
        return .success(date)
    }

    /// Why a local date-time names no instant.
    package enum ScheduleProblem: Error, Equatable {
        case malformed
        case skipped(String)

        package var message: String {
            switch self {
            case .malformed: return "must be a local date and time like 2027-03-28T09:00 (seconds optional)"
            case .skipped(let zone): return "does not exist in \(zone): the clocks skip it for daylight saving time"
            }
        }
    }
}

/// A validated new or changed banner: only the fields present are applied on a change; a
/// `.some(nil)` clears an optional field.
package struct BannerInput: Sendable, Equatable {
    package var title: String?
    package var type: String?
    package var content: String?
    package var ctaLabel: String??
    package var ctaURL: String??
    package var position: String?
    package var slot: String??
    package var paths: [String]?
    package var locales: [String]?
    package var audience: String?
    package var devices: [String]?
    package var priority: Int?
    package var dismissible: Bool?
    package var startsAt: String??
    package var endsAt: String??

    static let fields: Set<String> = ["title", "type", "content", "cta", "position", "slot", "paths", "locales", "audience", "devices",
                                      "priority", "dismissible", "startsAt", "endsAt"]

    package init(title: String? = nil, type: String? = nil, content: String? = nil, ctaLabel: String?? = nil, ctaURL: String?? = nil,
                 position: String? = nil, slot: String?? = nil, paths: [String]? = nil, locales: [String]? = nil, audience: String? = nil,
                 devices: [String]? = nil, priority: Int? = nil, dismissible: Bool? = nil, startsAt: String?? = nil, endsAt: String?? = nil) {
        self.title = title; self.type = type; self.content = content; self.ctaLabel = ctaLabel; self.ctaURL = ctaURL
        self.position = position; self.slot = slot; self.paths = paths; self.locales = locales; self.audience = audience
        self.devices = devices; self.priority = priority; self.dismissible = dismissible; self.startsAt = startsAt; self.endsAt = endsAt
    }

    /// Reads a body; `creating` requires the title and the content. Field rules only: the rules
    /// between fields are checked on the whole banner (`EngageStore.validated`).
    package init(json: [String: JSONValue], creating: Bool) throws {
        var reader = FieldReader(json, allowed: Self.fields)
        title = reader.text("title", required: creating, maxLength: EngageLimits.title)
        content = reader.text("content", required: creating, maxLength: EngageLimits.content, multiline: true)
        if let content, EngageLimits.containsTag(content) {
            reader.fail("content", "must be Markdown without HTML tags (<script>, <img>, … are refused, not shown)")
        }
        type = Self.choice(&reader, "type", EngageLimits.types)
        position = Self.choice(&reader, "position", EngageLimits.positions)
        audience = Self.choice(&reader, "audience", EngageLimits.audiences)
        switch json["slot"] {
        case nil: break
        case .null?: slot = .some(nil)
        case .string(let s)? where EngageLimits.isSlot(s): slot = .some(s)
        case .string?: reader.fail("slot", "must be lower-case letters, digits and - (at most \(EngageLimits.slot)), like pricing-top")
        case let other?: reader.fail("slot", "must be a string or null, not \(other.typeName)")
        }
        switch json["cta"] {
        case nil: break
        case .null?: ctaLabel = .some(nil); ctaURL = .some(nil)
        case .object(let cta)?:
            var inner = FieldReader(cta, allowed: ["label", "url"])
            let label = inner.text("label", required: true, maxLength: EngageLimits.ctaLabel)
            let url = inner.text("url", required: true, maxLength: EngageLimits.url)
            for (field, problem) in inner.problems { reader.fail("cta.\(field)", problem) }
            if let label, let url { ctaLabel = .some(label); ctaURL = .some(url) }
        case let other?: reader.fail("cta", "must be an object {label, url} or null, not \(other.typeName)")
        }
        paths = Self.strings(&reader, json, "paths", max: EngageLimits.maxPaths) { EngageLimits.isPathGlob($0) ? nil : "must be path globs starting with / (like /pricing or /blog/**)" }
        locales = Self.strings(&reader, json, "locales", max: EngageLimits.maxLocales) { FAQLimits.isLocale($0) ? nil : "must be language tags like en, de or pt-BR" }
        devices = Self.strings(&reader, json, "devices", max: 3) { EngageLimits.devices.contains($0) ? nil : "must name mobile, tablet or desktop" }
        if let devices, Set(devices).count != devices.count { reader.fail("devices", "must not name a device twice") }
        switch json["priority"] {
        case nil: break
        case .number(let n)? where n >= 0 && n <= Double(EngageLimits.maxPriority) && n.rounded() == n: priority = Int(n)
        case let other?: reader.fail("priority", other.typeName == "a number" ? "must be an integer from 0 to \(EngageLimits.maxPriority)" : "must be an integer, not \(other.typeName)")
        }
        switch json["dismissible"] {
        case nil: break
        case .bool(let b)?: dismissible = b
        case let other?: reader.fail("dismissible", "must be true or false, not \(other.typeName)")
        }
        startsAt = Self.localTime(&reader, json, "startsAt")
        endsAt = Self.localTime(&reader, json, "endsAt")
        try reader.validate()
    }

    /// One of `choices` exactly (no trimming, so the contract's enum is the rule); null is absent.
    static func choice(_ reader: inout FieldReader, _ key: String, _ choices: [String]) -> String? {
        switch reader.object[key] {
        case nil, .null?: return nil
        case .string(let value)? where choices.contains(value): return value
        case .string?: reader.fail(key, "must be one of " + choices.joined(separator: ", ")); return nil
        case let other?: reader.fail(key, "must be one of " + choices.joined(separator: ", ") + ", not \(other.typeName)"); return nil
        }
    }

    static func strings(_ reader: inout FieldReader, _ json: [String: JSONValue], _ key: String, max: Int, check: (String) -> String?) -> [String]? {
        guard let raw = json[key] else { return nil }
        guard case .array(let values) = raw else { reader.fail(key, "must be an array of strings, not \(raw.typeName)"); return nil }
        if values.count > max { reader.fail(key, "must have at most \(max) entries"); return nil }
        var out: [String] = []
        for value in values {
            guard case .string(let s) = value else { reader.fail(key, "must hold strings only, not \(value.typeName)"); return nil }
            if let problem = check(s) { reader.fail(key, problem); return nil }
            out.append(s)
        }
        return out
    }

    static func localTime(_ reader: inout FieldReader, _ json: [String: JSONValue], _ key: String) -> String?? {
        switch json[key] {
        case nil: return nil
        case .null?: return .some(nil)
        case .string(let s)?:
            if case .failure(let problem) = EngageLimits.localInstant(s, in: TimeZone(identifier: "UTC")!), problem == .malformed {
                reader.fail(key, problem.message)
                return nil
            }
            return .some(s)
        case let other?: reader.fail(key, "must be a local date-time string or null, not \(other.typeName)"); return nil
        }
    }
}

/// What the page gets for one live banner (`GET /api/v1/engage`, `banner.published` frames).
package struct PublicBanner: Sendable, Encodable, Equatable {
    package struct CTA: Sendable, Encodable, Equatable {
        package let label: String
        package let url: String
    }

    package struct Targeting: Sendable, Encodable, Equatable {
        package let paths: [String]
        package let locales: [String]
        package let audience: String
        package let devices: [String]
    }

    package let id: Int64
    package let version: Int
    package let title: String
    package let type: String
    /// Safe HTML, rendered on the server.
    package let html: String
    package let cta: CTA?
    package let position: String
    package let slot: String?
    package let targeting: Targeting
    package let priority: Int
    package let dismissible: Bool
    package let endsAt: String?

    package init(_ b: Banner) {
        id = b.id ?? 0; version = b.version; title = b.title; type = b.type; html = b.contentHTML
        cta = b.ctaLabel.flatMap { label in b.ctaURL.map { CTA(label: label, url: $0) } }
        position = b.position; slot = b.slot
        targeting = Targeting(paths: b.paths, locales: b.locales, audience: b.audience, devices: b.devices)
        priority = b.priority; dismissible = b.dismissible; endsAt = b.endsAt
    }
}

/// The one document the page reads (`GET /api/v1/engage`): the live banners, best first.
package struct EngageDocument: Sendable, Encodable, Equatable {
    package let banners: [PublicBanner]

    package init(banners: [PublicBanner]) {
        self.banners = banners
    }
}
