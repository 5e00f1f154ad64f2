import Crypto
import Foundation
import Synchronization

/// The cookieless visitor id: the first 8 bytes of SHA-256(daily salt ‖ site ‖ client address ‖
/// user agent), Plausible's published scheme (https://plausible.io/data-policy).
///
/// The salt is 32 random bytes made for one calendar day in `tracking.timezone` and held only in
/// memory. The first id asked for on a new day replaces it: yesterday's salt is overwritten and
/// gone, so nobody (the site owner with a copy of the database included) can recompute
/// yesterday's ids from an address and a user agent, and no id links a visitor across days. The
/// address and the user agent go into the hash and nowhere else.
///
/// A visitor who granted the `analytics` consent sends a persistent first-party id instead; it
/// is hashed with the site (no salt), so it recognises them across days.
package final class VisitorSalt: Sendable {
    private struct Current {
        var day: Int
        var salt: [UInt8]
    }

    private let state: Mutex<Current?> = Mutex(nil)
    private let calendar: Calendar
    private let now: @Sendable () -> Date
    private let random: @Sendable () -> [UInt8]

    /// - Parameters:
    ///   - timeZone: where days begin (`tracking.timezone`).
    ///   - random: 32 fresh random bytes per call (injected for tests; the system RNG by default).
    package init(timeZone: TimeZone, now: @escaping @Sendable () -> Date,
                 random: @escaping @Sendable () -> [UInt8] = { (0..<32).map { _ in UInt8.random(in: .min ... .max) } }) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
        self.now = now
        self.random = random
    }

    /// The local day number (days since 1970-01-01 in the time zone) of `date`.
    package func dayNumber(_ date: Date) -> Int {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return AnalyticsCalendar.daysFromCivil(year: parts.year!, month: parts.month!, day: parts.day!)
    }

    /// The cookieless id of a visitor now.
    package func cookielessID(site: String, address: String, userAgent: String) -> Int64 {
        let today = dayNumber(now())
        let salt = state.withLock { current -> [UInt8] in
            if let current, current.day == today { return current.salt }
            // A new day: the old salt is replaced (and with it destroyed) here.
            let fresh = Current(day: today, salt: random())
            current = fresh
            return fresh.salt
        }
        var hasher = SHA256()
        hasher.update(data: salt)
        for part in [site, address, userAgent] {
            hasher.update(data: Array(part.utf8))
            hasher.update(data: [0])
        }
        return Self.truncate(hasher.finalize())
    }

    /// The day the salt in memory belongs to (nil before the first visitor).
    package var saltDay: Int? { state.withLock { $0?.day } }

    /// The id of a visitor who consented to a persistent first-party id.
    package static func consentedID(site: String, visitor: String) -> Int64 {
        var hasher = SHA256()
        hasher.update(data: Array("persistent\u{0}\(site)\u{0}\(visitor)".utf8))
        return truncate(hasher.finalize())
    }

    static func truncate(_ digest: SHA256.Digest) -> Int64 {
        var value: UInt64 = 0
        for byte in digest.prefix(8) { value = value << 8 | UInt64(byte) }
        return Int64(bitPattern: value)
    }
}

/// Day and hour arithmetic in the site's time zone.
package enum AnalyticsCalendar {
    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    package static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date of a day number.
    package static func civil(fromDays z: Int) -> (year: Int, month: Int, day: Int) {
        let z = z + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// "2027-01-15" for a day number.
    package static func dateString(_ day: Int) -> String {
        let (y, m, d) = civil(fromDays: day)
        return String(format: "%04d-%02d-%02d", y, m, d)
    }

    /// The day number of "2027-01-15", or nil.
    package static func day(from string: String) -> Int? {
        let parts = string.split(separator: "-")
        guard string.count == 10, parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1...12).contains(m), (1...31).contains(d), (1...9999).contains(y) else { return nil }
        let number = daysFromCivil(year: y, month: m, day: d)
        guard civil(fromDays: number) == (y, m, d) else { return nil }
        return number
    }
}

/// Maps instants to local days and local midnights in one time zone, caching per UTC hour.
package struct LocalDays: Sendable {
    package let timeZone: TimeZone
    private let calendar: Calendar

    package init(timeZone: TimeZone) {
        self.timeZone = timeZone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    /// The local day number of a Unix time.
    package func day(ofUnix seconds: Int64) -> Int {
        let parts = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        return AnalyticsCalendar.daysFromCivil(year: parts.year!, month: parts.month!, day: parts.day!)
    }

    /// The Unix time of local midnight starting `day` (the first instant of that date).
    package func start(ofDay day: Int) -> Int64 {
        let (y, m, d) = AnalyticsCalendar.civil(fromDays: day)
        let date = calendar.date(from: DateComponents(year: y, month: m, day: d, hour: 0)) ?? Date(timeIntervalSince1970: TimeInterval(day * 86_400))
        return Int64(calendar.startOfDay(for: date).timeIntervalSince1970)
    }

    /// The local start of the hour containing a Unix time, as a label "2027-03-28T02:00".
    package func hourLabel(ofUnix seconds: Int64) -> String {
        let parts = calendar.dateComponents([.year, .month, .day, .hour], from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        let offset = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds)))
        let sign = offset < 0 ? "-" : "+"
        return String(format: "%04d-%02d-%02dT%02d:00%@%02d:%02d", parts.year!, parts.month!, parts.day!, parts.hour!, sign, abs(offset) / 3600, abs(offset) % 3600 / 60)
    }

    /// The day number of the Monday of the week holding `day`.
    package func weekStart(_ day: Int) -> Int {
        // 1970-01-01 was a Thursday: (day + 3) mod 7 is 0 on Mondays.
        day - ((day + 3) % 7 + 7) % 7
    }

    /// The day number of the first of the month holding `day`.
    package func monthStart(_ day: Int) -> Int {
        let (y, m, _) = AnalyticsCalendar.civil(fromDays: day)
        return AnalyticsCalendar.daysFromCivil(year: y, month: m, day: 1)
    }
}
