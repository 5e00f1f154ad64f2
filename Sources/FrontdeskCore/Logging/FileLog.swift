import Dispatch
import Foundation
import Logging
import Synchronization

/// The log file: JSON lines appended to `<dir>/frontdesk.log`, rotated by size, old files
/// gzip-compressed and the oldest removed beyond `keep`.
///
/// Lines are buffered and written at most every 200 ms (or at once from warning level up, or when
/// 64 KiB are waiting), so the access log costs a request a memcpy instead of a syscall.
/// A crash can lose the last 200 ms of info-level lines; errors are written immediately.
package final class LogFile: Sendable {
    struct State {
        var descriptor: Int32
        var size: Int
        var buffer: [UInt8] = []
        var rotations = 0
    }

    package let directory: String
    package let path: String
    private let maxBytes: Int
    private let keep: Int
    private let state: Mutex<State>
    private let compressor = DispatchQueue(label: "frontdesk-log-compress")

    /// Opens (creating) the log file in `directory`.
    package init(directory: String, maxBytes: Int, keep: Int) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
        self.path = (directory as NSString).appendingPathComponent("frontdesk.log")
        self.maxBytes = maxBytes
        self.keep = keep
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: "cannot open log file \(path): \(String(cString: strerror(errno)))"])
        }
        var info = stat()
        fstat(fd, &info)
        self.state = Mutex(State(descriptor: fd, size: Int(info.st_size)))
        let flusher = Thread { [weak self] in
            while let self {
                Thread.sleep(forTimeInterval: 0.2)
                self.flush()
            }
        }
        flusher.name = "frontdesk-log-flush"
        flusher.start()
    }

    /// Appends one line (without its newline).
    func append(_ line: String, urgent: Bool) {
        state.withLock { state in
            state.buffer.append(contentsOf: line.utf8)
            state.buffer.append(UInt8(ascii: "\n"))
            if urgent || state.buffer.count >= 64 * 1024 {
                writeOut(&state)
            }
        }
    }

    /// Writes buffered lines to disk.
    package func flush() {
        state.withLock { writeOut(&$0) }
    }

    private func writeOut(_ state: inout State) {
        guard !state.buffer.isEmpty else { return }
        if state.size + state.buffer.count > maxBytes, state.size > 0 {
            rotate(&state)
        }
        let count = state.buffer.count
        state.buffer.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = write(state.descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if n <= 0 { if errno == EINTR { continue }; break }
                offset += n
            }
        }
        state.size += count
        state.buffer.removeAll(keepingCapacity: true)
    }

    /// frontdesk.log → frontdesk.log.1.gz, shifting older ones up and dropping those beyond `keep`.
    ///
    /// Only a rename happens under the lock; compressing megabytes of log takes hundreds of
    /// milliseconds, so it runs on a serial background queue (which also does the shifting, so
    /// rotations that follow each other quickly stay in order). Requests never wait for gzip.
    private func rotate(_ state: inout State) {
        close(state.descriptor)
        state.rotations += 1
        let pending = "\(path).\(state.rotations).pending"
        try? FileManager.default.moveItem(atPath: path, toPath: pending)
        state.descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        state.size = 0
        let keep = keep, path = path
        compressor.async {
            let fm = FileManager.default
            defer { try? fm.removeItem(atPath: pending) }
            guard keep > 0 else { return }
            func rotated(_ n: Int) -> String { "\(path).\(n).gz" }
            try? fm.removeItem(atPath: rotated(keep))
            if keep > 1 {
                for n in stride(from: keep - 1, through: 1, by: -1) where fm.fileExists(atPath: rotated(n)) {
                    try? fm.moveItem(atPath: rotated(n), toPath: rotated(n + 1))
                }
            }
            if let data = fm.contents(atPath: pending) {
                let temp = rotated(1) + ".tmp"
                if fm.createFile(atPath: temp, contents: Gzip.compress(data, level: 6), attributes: [.posixPermissions: 0o640]) {
                    try? fm.moveItem(atPath: temp, toPath: rotated(1))
                }
            }
        }
    }

    /// Waits until rotated files are compressed (tests, shutdown).
    package func waitForCompression() {
        compressor.sync {}
    }
}

/// A swift-log handler writing JSON lines to a `LogFile`, and readable lines to stderr when
/// stderr is a terminal.
package struct JSONLogHandler: LogHandler {
    package var metadata: Logger.Metadata = [:]
    package var logLevel: Logger.Level
    let label: String
    let file: LogFile?
    let echoToStderr: Bool

    /// Keys whose values are never written, whoever logs them.
    static let secretKeys: Set<String> = ["password", "token", "cookie", "authorization", "secret", "csrf", "session"]

    package init(label: String, file: LogFile?, level: Logger.Level, echoToStderr: Bool) {
        self.label = label
        self.file = file
        self.logLevel = level
        self.echoToStderr = echoToStderr
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let timestamp = Timestamps.iso8601Milliseconds(Date())
        var line = "{\"ts\":\"\(timestamp)\",\"level\":\"\(event.level.rawValue)\",\"label\":\(JSONText.quote(label)),\"msg\":\(JSONText.quote("\(event.message)"))"
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line += ",\(JSONText.quote(key)):\(JSONText.quote(Self.render(key: key, value)))"
        }
        line += "}"
        file?.append(line, urgent: event.level >= .warning)
        if echoToStderr {
            var human = "\(timestamp) \(event.level.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0))\(event.message)"
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) { human += " \(key)=\(Self.render(key: key, value))" }
            FileHandle.standardError.write(Data((human + "\n").utf8))
        }
    }

    static func render(key: String, _ value: Logger.Metadata.Value) -> String {
        let lowered = key.lowercased()
        if secretKeys.contains(where: { lowered.contains($0) }) && !lowered.hasSuffix("_id") { return "[redacted]" }
        return value.description
    }
}

/// JSON string quoting for hand-built lines (faster than JSONEncoder on the logging hot path).
enum JSONText {
    static func quote(_ s: String) -> String {
        // Fast path: most values (paths, routes, ids) need no escaping.
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            return "\"" + s + "\""
        }
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
