import Foundation

/// RFC 3339 timestamps in UTC, as Frontdesk stores and returns them.
package enum Timestamps {
    /// `2026-11-26T16:00:00Z`
    package static func iso8601(_ date: Date) -> String {
        format(date, milliseconds: false)
    }

    /// `2026-11-26T16:00:00.123Z`, for logs and stored timestamps that order events.
    package static func iso8601Milliseconds(_ date: Date) -> String {
        format(date, milliseconds: true)
    }

    /// Digits written by hand: `String(format:)` costs more than the rest of a log line together.
    static func format(_ date: Date, milliseconds: Bool) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = time_t(interval.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func append(_ value: Int, width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8((rest / divisor) % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        append(Int(parts.tm_year) + 1900, width: 4)
        bytes.append(UInt8(ascii: "-"))
        append(Int(parts.tm_mon) + 1, width: 2)
        bytes.append(UInt8(ascii: "-"))
        append(Int(parts.tm_mday), width: 2)
        bytes.append(UInt8(ascii: "T"))
        append(Int(parts.tm_hour), width: 2)
        bytes.append(UInt8(ascii: ":"))
        append(Int(parts.tm_min), width: 2)
        bytes.append(UInt8(ascii: ":"))
        append(Int(parts.tm_sec), width: 2)
        if milliseconds {
            bytes.append(UInt8(ascii: "."))
            append(max(0, min(999, Int((interval - Double(seconds)) * 1000))), width: 3)
        }
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }
}
