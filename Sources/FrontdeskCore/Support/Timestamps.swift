import Foundation

/// RFC 3339 timestamps in UTC, as Frontdesk stores and returns them.
public enum Timestamps {
    /// `2026-11-26T16:00:00Z`
    public static func iso8601(_ date: Date) -> String {
        format(date, milliseconds: false)
    }

    /// `2026-11-26T16:00:00.123Z`, for logs and stored timestamps that order events.
    public static func iso8601Milliseconds(_ date: Date) -> String {
        format(date, milliseconds: true)
    }

    static func format(_ date: Date, milliseconds: Bool) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = time_t(interval.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let base = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                          Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        guard milliseconds else { return base + "Z" }
        let millis = Int((interval - Double(seconds)) * 1000)
        return base + String(format: ".%03dZ", max(0, min(999, millis)))
    }
}
