import Foundation
import Synchronization

/// The request log: one JSON line per request in the same file as the application log,
/// built by hand rather than through swift-log's metadata dictionary because it runs on every
/// request (see Benchmarks/http.sh for what that costs).
package final class AccessLog: Sendable {
    private let file: LogFile?
    private let echoToStderr: Bool
    private let enabled: Bool
    private let clock = Mutex<(second: Int, text: String)>((-1, ""))

    package init(file: LogFile?, enabled: Bool, echoToStderr: Bool) {
        self.file = file
        self.enabled = enabled
        self.echoToStderr = echoToStderr
    }

    /// Writes `{"ts":…,"level":"info","label":"frontdesk.http","msg":"request",…}`.
    package func record(requestID: String, method: String, path: String, route: String, status: Int, durationMicros: Int64, client: String) {
        guard enabled else { return }
        var line = "{\"ts\":\""
        line.reserveCapacity(256 + path.utf8.count)
        line += timestamp()
        line += "\",\"level\":\"info\",\"label\":\"frontdesk.http\",\"msg\":\"request\",\"client\":\""
        line += client
        line += "\",\"duration_ms\":\""
        line += String(durationMicros / 1000) + "." + Self.threeDigits(Int(durationMicros % 1000))
        line += "\",\"method\":"
        line += JSONText.quote(method)
        line += ",\"path\":"
        line += JSONText.quote(String(path.prefix(512)))
        line += ",\"request_id\":\""
        line += requestID
        line += "\",\"route\":"
        line += JSONText.quote(route)
        line += ",\"status\":\""
        line += String(status)
        line += "\"}"
        file?.append(line, urgent: false)
        if echoToStderr {
            FileHandle.standardError.write(Data("\(timestamp()) info    \(method) \(path) \(status) \(durationMicros / 1000)ms request_id=\(requestID)\n".utf8))
        }
    }

    /// `2026-11-26T16:00:00.123Z`, formatting the seconds part once per second.
    private func timestamp() -> String {
        let now = Date().timeIntervalSince1970
        let second = Int(now)
        let millis = Int((now - Double(second)) * 1000)
        let base = clock.withLock { cached -> String in
            if cached.second != second {
                let formatted = Timestamps.iso8601(Date(timeIntervalSince1970: Double(second)))
                cached = (second, String(formatted.dropLast()))
            }
            return cached.text
        }
        return base + "." + Self.threeDigits(millis) + "Z"
    }

    static func threeDigits(_ value: Int) -> String {
        let v = max(0, min(999, value))
        return v < 10 ? "00\(v)" : v < 100 ? "0\(v)" : String(v)
    }
}
