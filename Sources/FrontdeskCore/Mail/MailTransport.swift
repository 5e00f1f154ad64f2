import Foundation
import Logging

/// A message ready for a transport: the SMTP envelope and the RFC 5322 text.
package struct RenderedMail: Sendable, Equatable {
    /// The outbox id, used in spool file names and logs.
    package let id: Int64
    /// `MAIL FROM` (bounces go here).
    package let envelopeFrom: String
    /// `RCPT TO`, one per recipient.
    package let recipients: [String]
    /// The whole message: ASCII, CRLF line ends, not dot-stuffed.
    package let data: String

    package init(id: Int64, envelopeFrom: String, recipients: [String], data: String) {
        self.id = id
        self.envelopeFrom = envelopeFrom
        self.recipients = recipients
        self.data = data
    }
}

/// Hands a message to the next hop. Throw `MailTransportError` to say whether a retry can help;
/// any other error is treated as temporary.
package protocol MailTransport: Sendable {
    /// A short name for logs: `file`, `sendmail`, `smtp`.
    var name: String { get }
    /// Returns once the next hop accepted the message.
    func send(_ message: RenderedMail) async throws
}

/// A failed delivery attempt, saying where it failed and whether trying again can help.
package struct MailTransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where it failed, e.g. `RCPT TO`, `STARTTLS`, `connect`, `sendmail`.
    package let step: String
    /// The SMTP reply code (or sendmail exit status), when there was one.
    package let code: Int?
    /// What the peer said, or what went wrong locally.
    package let message: String
    /// True when the same message will fail the same way again (SMTP 5xx): dead-letter at once.
    package let permanent: Bool

    package init(step: String, code: Int? = nil, message: String, permanent: Bool) {
        self.step = step
        self.code = code
        self.message = message
        self.permanent = permanent
    }

    package var description: String {
        let text = message.isEmpty ? "" : ": \(message)"
        if let code { return "\(step) failed with \(code)\(text)" }
        return "\(step) failed\(text)"
    }
}

/// Writes each message as `<directory>/<timestamp>-<id>.eml`: the default transport, so a demo
/// or local development needs no mail server, and the spool can be opened in any mail reader.
package struct FileMailTransport: MailTransport {
    package let name = "file"
    package let directory: String
    let now: @Sendable () -> Date

    package init(directory: String, now: @escaping @Sendable () -> Date = { Date() }) {
        self.directory = directory
        self.now = now
    }

    package func send(_ message: RenderedMail) async throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            // Compact, sortable and free of ":" (which some file systems and tools dislike).
            let stamp = Timestamps.iso8601Milliseconds(now()).replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "-", with: "")
            let path = (directory as NSString).appendingPathComponent("\(stamp)-\(message.id).eml")
            // .atomic writes a temporary file and renames it: a reader never sees half a message.
            try Data(message.data.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw MailTransportError(step: "write spool file", message: "\(error.localizedDescription)", permanent: false)
        }
    }
}

/// Pipes each message to a sendmail-compatible program (postfix, exim, msmtp, nullmailer):
/// `<path> -i -f <from> -- <recipients…>`.
package struct SendmailTransport: MailTransport {
    package let name = "sendmail"
    package let path: String
    /// The program is killed and the attempt retried when it takes longer than this.
    package let timeout: Duration

    package init(path: String, timeout: Duration = .seconds(60)) {
        self.path = path
        self.timeout = timeout
    }

    package func send(_ message: RenderedMail) async throws {
        // Recipients after "--" so an address can never be read as an option; addresses are
        // validated `MailAddress` values anyway.
        let arguments = ["-i", "-f", message.envelopeFrom, "--"] + message.recipients
        // sendmail programs expect the local line convention; postfix warns about CRLF input.
        let input = Data(message.data.replacingOccurrences(of: "\r\n", with: "\n").utf8)
        let result: ProcessResult
        do {
            result = try await ProcessRunner.run(path: path, arguments: arguments, input: input, timeout: timeout)
        } catch {
            throw MailTransportError(step: "sendmail", message: "could not run \(path): \(error)", permanent: false)
        }
        if result.timedOut {
            throw MailTransportError(step: "sendmail", message: "\(path) did not finish within \(timeout)", permanent: false)
        }
        guard result.status == 0 else {
            let stderr = MailHeaderText.singleLine(String(decoding: result.stderr.prefix(2000), as: UTF8.self), maxLength: 500)
            // sysexits.h: EX_DATAERR 65, EX_NOUSER 67, EX_NOHOST 68 will not change on a retry;
            // everything else (EX_TEMPFAIL 75 above all) may.
            let permanent = [65, 67, 68].contains(result.status)
            throw MailTransportError(step: "sendmail", code: Int(result.status),
                                     message: stderr.isEmpty ? "\(path) exited with status \(result.status)" : stderr, permanent: permanent)
        }
    }
}

/// What a finished child process left behind.
struct ProcessResult: Sendable {
    var status: Int32
    var stdout: Data
    var stderr: Data
    var timedOut: Bool
}

/// Runs a program with input on stdin and collects its output, without blocking the cooperative pool.
enum ProcessRunner {
    /// A write to a child that exited gives EPIPE only when SIGPIPE is ignored; by default the
    /// signal kills the whole server (seen: the test process died mid-run in the sendmail
    /// timeout test). Ignored once, for the process, before the first child is started.
    private static let brokenPipesIgnored: Void = { signal(SIGPIPE, SIG_IGN) }()

    static func run(path: String, arguments: [String], input: Data, timeout: Duration) async throws -> ProcessResult {
        _ = brokenPipesIgnored
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        let finished = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in finished.continuation.finish() }
        try process.run()
        // Blocking reads and writes each get a thread of their own: on the cooperative pool (two
        // threads on a two-core machine) they would stall every other task; and a child that
        // fills its stderr pipe before reading all of stdin would otherwise deadlock with us.
        async let out = onThread { stdout.fileHandleForReading.readDataToEndOfFile() }
        async let err = onThread { stderr.fileHandleForReading.readDataToEndOfFile() }
        async let written: Void = onThread {
            // A child that exits without reading its input gives EPIPE; its exit status tells the rest.
            try? stdin.fileHandleForWriting.write(contentsOf: input)
            try? stdin.fileHandleForWriting.close()
        }
        let timedOut = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await _ in finished.stream {}
                return false
            }
            group.addTask {
                do { try await Task.sleep(for: timeout) } catch { return false }
                return true
            }
            let first = await group.next() ?? false
            if first, process.isRunning { kill(process.processIdentifier, SIGKILL) }
            group.cancelAll()
            return first
        }
        _ = await written
        let (stdoutData, stderrData) = await (out, err)
        let status = await onThread { process.waitUntilExit(); return process.terminationStatus }
        return ProcessResult(status: status, stdout: stdoutData, stderr: stderrData, timedOut: timedOut)
    }

    /// Runs blocking work on a fresh thread and awaits its result.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: body()) }
            thread.start()
        }
    }
}
