import Foundation

/// The `chat.*` settings: limits of the chat sockets, business hours and the identity secret.
package struct ChatSettings: Sendable, Equatable {
    /// Longest message text, in bytes of UTF-8.
    package var maxTextBytes: Int
    /// Largest WebSocket message a client may send; larger closes the socket with 1009.
    package var maxFrameBytes: Int
    /// Sustained frames per minute per visitor socket (agent sockets get ten times as many).
    package var ratePerMinute: Int
    /// Frames a visitor socket may send at once before the sustained rate applies.
    package var rateBurst: Int
    /// Visitor sockets one client address may hold at once.
    package var maxSocketsPerAddress: Int
    /// WebSocket ping interval; a peer that does not answer by the next ping is dropped.
    package var pingSeconds: Int
    /// A conversation with no message for this long is closed.
    package var inactivityMinutes: Int
    /// When agents answer; empty means always.
    package var businessHours: BusinessHours
    /// The raw `chat.business_hours` text, for `check-config` and the console.
    package var businessHoursText: String
    /// Time zone of the business hours.
    package var timeZone: TimeZone
    /// The configured time zone name, checked by `problems(source:)`.
    var timeZoneName: String = "UTC"
    /// HMAC key for `identify`; empty disables identification.
    package var identitySecret: String
    /// Query parameters of the visitor's page address that are kept (`utm_*`-style prefixes or
    /// exact names); every other parameter and the fragment are dropped before it is stored.
    package var pageUrlQueryParams: [String] = ["utm_*"]

    package init(maxTextBytes: Int = 4096, maxFrameBytes: Int = 16384, ratePerMinute: Int = 120, rateBurst: Int = 30,
                maxSocketsPerAddress: Int = 20, pingSeconds: Int = 30, inactivityMinutes: Int = 30,
                businessHours: BusinessHours = .always, businessHoursText: String = "", timeZone: TimeZone = TimeZone(identifier: "UTC")!,
                identitySecret: String = "") {
        self.maxTextBytes = maxTextBytes
        self.maxFrameBytes = maxFrameBytes
        self.ratePerMinute = ratePerMinute
        self.rateBurst = rateBurst
        self.maxSocketsPerAddress = maxSocketsPerAddress
        self.pingSeconds = pingSeconds
        self.inactivityMinutes = inactivityMinutes
        self.businessHours = businessHours
        self.businessHoursText = businessHoursText
        self.timeZone = timeZone
        self.identitySecret = identitySecret
    }

    /// The settings catalogue entries of the `chat` section.
    package static let specs: [SettingSpec] = [
        SettingSpec(key: "chat.max_text_bytes", env: "FRONTDESK_CHAT_MAX_TEXT_BYTES", kind: .integer(16...65_536), defaultValue: .integer(4096),
                    doc: "Longest chat message, in bytes of UTF-8."),
        SettingSpec(key: "chat.max_frame_bytes", env: "FRONTDESK_CHAT_MAX_FRAME_BYTES", kind: .integer(1024...1_048_576), defaultValue: .integer(16_384),
                    doc: "Largest WebSocket message a chat client may send; a larger one closes the socket with code 1009. Keep it above chat.max_text_bytes plus 1 KiB."),
        SettingSpec(key: "chat.rate_per_minute", env: "FRONTDESK_CHAT_RATE_PER_MINUTE", kind: .integer(1...1_000_000), defaultValue: .integer(120),
                    doc: "Frames per minute one visitor socket may send (agent sockets: ten times as many). Lifted by `serve --rate-limit off`."),
        SettingSpec(key: "chat.rate_burst", env: "FRONTDESK_CHAT_RATE_BURST", kind: .integer(1...1_000_000), defaultValue: .integer(30),
                    doc: "Frames one visitor socket may send at once before chat.rate_per_minute applies."),
        SettingSpec(key: "chat.max_sockets_per_address", env: "FRONTDESK_CHAT_MAX_SOCKETS_PER_ADDRESS", kind: .integer(1...100_000), defaultValue: .integer(20),
                    doc: "Visitor chat sockets one client address may hold at once. Lifted by `serve --rate-limit off`."),
        SettingSpec(key: "chat.ping_seconds", env: "FRONTDESK_CHAT_PING_SECONDS", kind: .integer(5...600), defaultValue: .integer(30),
                    doc: "WebSocket ping interval; a client that does not answer by the next ping is disconnected."),
        SettingSpec(key: "chat.inactivity_minutes", env: "FRONTDESK_CHAT_INACTIVITY_MINUTES", kind: .integer(1...10_080), defaultValue: .integer(30),
                    doc: "A chat conversation with no message for this many minutes is closed."),
        SettingSpec(key: "chat.business_hours", env: "FRONTDESK_CHAT_BUSINESS_HOURS", kind: .string, defaultValue: .string(""),
                    doc: "When agents answer, e.g. \"mon-fri 09:00-17:00, sat 10:00-14:00\"; outside them visitors are offered to leave their email. Empty means always."),
        SettingSpec(key: "chat.timezone", env: "FRONTDESK_CHAT_TIMEZONE", kind: .string, defaultValue: .string("UTC"),
                    doc: "Time zone of chat.business_hours, e.g. \"Europe/Berlin\"."),
        SettingSpec(key: "chat.identity_secret", env: "FRONTDESK_CHAT_IDENTITY_SECRET", kind: .string, defaultValue: .string(""),
                    doc: "Secret for verifying signed-in site users in the chat: the site's backend sends hex(HMAC-SHA256(secret, userId)). Prefer the environment variable. Empty disables identification."),
        SettingSpec(key: "chat.page_url_query_params", env: "FRONTDESK_CHAT_PAGE_URL_QUERY_PARAMS", kind: .stringList, defaultValue: .stringList(["utm_*"]),
                    doc: "Query parameters kept in the page address a chat visitor is on (names, or prefixes ending in *); the rest of the query and the #fragment are never stored. Empty keeps no query."),
    ]

    /// Reads the settings from resolved values.
    package init(values: [String: SettingValue]) {
        func int(_ key: String, _ fallback: Int) -> Int { if case .integer(let i) = values[key] { return i }; return fallback }
        func string(_ key: String) -> String { if case .string(let s) = values[key] { return s }; return "" }
        let hoursText = string("chat.business_hours")
        self.init(maxTextBytes: int("chat.max_text_bytes", 4096), maxFrameBytes: int("chat.max_frame_bytes", 16384),
                  ratePerMinute: int("chat.rate_per_minute", 120), rateBurst: int("chat.rate_burst", 30),
                  maxSocketsPerAddress: int("chat.max_sockets_per_address", 20), pingSeconds: int("chat.ping_seconds", 30),
                  inactivityMinutes: int("chat.inactivity_minutes", 30),
                  businessHours: (try? BusinessHours(parsing: hoursText)) ?? .always, businessHoursText: hoursText,
                  timeZone: TimeZone(identifier: string("chat.timezone")) ?? TimeZone(identifier: "UTC")!,
                  identitySecret: string("chat.identity_secret"))
        if case .stringList(let params) = values["chat.page_url_query_params"] { pageUrlQueryParams = params }
        timeZoneName = string("chat.timezone")
    }

    /// Problems a type check cannot see: malformed business hours, an unknown time zone.
    package func problems(source: String) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        do {
            _ = try BusinessHours(parsing: businessHoursText)
        } catch {
            problems.append(ConfigProblem(key: "chat.business_hours", source: source, reason: .invalid("\(error)")))
        }
        if TimeZone(identifier: timeZoneName) == nil {
            problems.append(ConfigProblem(key: "chat.timezone", source: source, reason: .invalid("names no known time zone: \"\(timeZoneName)\"")))
        }
        if !identitySecret.isEmpty && identitySecret.utf8.count < 32 {
            // HMAC-SHA256 keys shorter than the hash are guessable offline from one signed id (RFC 2104 §3).
            problems.append(ConfigProblem(key: "chat.identity_secret", source: source,
                                          reason: .invalid("must be at least 32 bytes, found \(identitySecret.utf8.count) (try `openssl rand -hex 32`)")))
        }
        if maxFrameBytes < maxTextBytes + 1024 {
            problems.append(ConfigProblem(key: "chat.max_frame_bytes", source: source,
                                          reason: .invalid("must be at least chat.max_text_bytes + 1024 (\(maxTextBytes + 1024)), found \(maxFrameBytes)")))
        }
        return problems
    }

}

/// Weekly opening hours such as `mon-fri 09:00-17:00, sat 10:00-14:00`, checked in a time zone.
package struct BusinessHours: Sendable, Equatable {
    /// One opening interval on one weekday (1 = Sunday … 7 = Saturday, as `Calendar` counts), in minutes after midnight.
    package struct Interval: Sendable, Equatable {
        package let weekday: Int
        package let start: Int
        package let end: Int
    }

    package let intervals: [Interval]

    /// Open all the time.
    package static let always = BusinessHours(intervals: [])

    package var isAlways: Bool { intervals.isEmpty }

    init(intervals: [Interval]) {
        self.intervals = intervals
    }

    package struct ParseError: Error, CustomStringConvertible, Sendable {
        package let description: String
    }

    static let dayNames = ["sun": 1, "mon": 2, "tue": 3, "wed": 4, "thu": 5, "fri": 6, "sat": 7]

    /// Parses `"mon-fri 09:00-17:00, sat 10:00-14:00"`; empty text means always open.
    package init(parsing text: String) throws {
        var intervals: [Interval] = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !part.isEmpty {
            let pieces = part.split(separator: " ", omittingEmptySubsequences: true)
            guard pieces.count == 2 else {
                throw ParseError(description: "has \"\(part)\", expected days and hours like \"mon-fri 09:00-17:00\"")
            }
            let days = try Self.days(String(pieces[0]))
            let hours = pieces[1].split(separator: "-")
            guard hours.count == 2, let start = Self.minutes(String(hours[0])), let end = Self.minutes(String(hours[1])), start < end else {
                throw ParseError(description: "has \"\(pieces[1])\", expected hours like \"09:00-17:00\" (start before end, 24:00 allowed as an end)")
            }
            for day in days { intervals.append(Interval(weekday: day, start: start, end: end)) }
        }
        self.intervals = intervals
    }

    static func days(_ text: String) throws -> [Int] {
        let range = text.split(separator: "-").map(String.init)
        guard (1...2).contains(range.count), let first = dayNames[range[0]], let last = dayNames[range.count == 2 ? range[1] : range[0]] else {
            throw ParseError(description: "has \"\(text)\", expected a day or a range of days like \"mon\" or \"mon-fri\"")
        }
        var days: [Int] = []
        var day = first
        while true {
            days.append(day)
            if day == last { break }
            day = day % 7 + 1
        }
        return days
    }

    static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0...24).contains(h), (0..<60).contains(m) else { return nil }
        let total = h * 60 + m
        return total <= 24 * 60 ? total : nil
    }

    /// Whether `date` falls inside the hours, read in `timeZone`.
    package func isOpen(at date: Date, in timeZone: TimeZone) -> Bool {
        if isAlways { return true }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: date)
        guard let weekday = parts.weekday, let hour = parts.hour, let minute = parts.minute else { return true }
        let now = hour * 60 + minute
        return intervals.contains { $0.weekday == weekday && now >= $0.start && now < $0.end }
    }
}
