import Foundation
import Logging
import Synchronization
@testable import FrontdeskCore
import FrontdeskTestSupport

/// Where the mail and inbox tests' wall clock starts.
let mailTestStart = Date(timeIntervalSince1970: 1_795_000_000)

/// A transport that fails as told, then records what it is given; each delivery is also
/// announced on `deliveries`, so a test can await one without sleeping.
final class ScriptedTransport: MailTransport, Sendable {
    let name = "scripted"
    private let state: Mutex<(failures: [MailTransportError], sent: [RenderedMail])>
    let deliveries: AsyncStream<RenderedMail>
    private let continuation: AsyncStream<RenderedMail>.Continuation

    init(failures: [MailTransportError] = []) {
        state = Mutex((failures, []))
        (deliveries, continuation) = AsyncStream<RenderedMail>.makeStream()
    }

    var sent: [RenderedMail] { state.withLock { $0.sent } }

    func send(_ message: RenderedMail) async throws {
        let failure = state.withLock { state -> MailTransportError? in
            if !state.failures.isEmpty { return state.failures.removeFirst() }
            state.sent.append(message)
            return nil
        }
        if let failure { throw failure }
        continuation.yield(message)
    }
}

/// A migrated database in a temp directory with an outbox on a hand-moved clock.
/// (`TempDirectory` is only read after init, so sharing it across tasks is safe.)
struct MailFixture: @unchecked Sendable {
    let dir = TempDirectory()
    let database: AppDatabase
    let time = TestClock(start: mailTestStart)
    let outbox: MailOutbox

    init() throws {
        database = try AppDatabase(path: dir.file("db.sqlite"))
        try database.migrate()
        outbox = MailOutbox(database: database, defaultSender: try MailAddress("desk@example.com", name: "Example Desk"), now: time.wall)
    }

    func service<C: Clock>(transport: any MailTransport, clock: C, maxAttempts: Int = 8, random: Double = 0.5,
                           logger: Logger = Logger(label: "test.mail", factory: { _ in SwiftLogNoOpLogHandler() })) -> MailDeliveryService<C> where C.Duration == Duration {
        MailDeliveryService(outbox: outbox, transport: transport, policy: MailRetryPolicy(maxAttempts: maxAttempts), clock: clock,
                            pollInterval: .seconds(5), now: time.wall, random: { random }, logger: logger)
    }

    func mail(to: String = "visitor@example.org", subject: String = "Hello", key: String? = nil) throws -> OutgoingMail {
        OutgoingMail(kind: .contactNotification, to: try MailAddress(to), subject: subject, textBody: "Body text.\nSecond line.",
                     htmlBody: "<p>Body text.</p>", idempotencyKey: key)
    }
}

/// The repository's `Resources/mail` templates, read from disk the way the server reads its embedded copy.
enum MailTestResources {
    static var directory: String {
        let here = URL(fileURLWithPath: #filePath)
        return here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Resources/mail").path
    }

    static func templates() throws -> MailTemplates {
        let sources = try MailTemplates.sources(inDirectory: directory)
        return try MailTemplates(sources: Dictionary(uniqueKeysWithValues: sources.map { ("mail/\($0.key)", $0.value) }))
    }
}

/// A message split the way a mail reader splits it: unfolded headers and the body.
struct ParsedMail {
    var headers: [(name: String, value: String)] = []
    var body: String

    init(_ raw: String) {
        let parts = raw.components(separatedBy: "\r\n\r\n")
        let headerBlock = parts[0]
        body = parts.dropFirst().joined(separator: "\r\n\r\n")
        var unfolded: [String] = []
        for line in headerBlock.components(separatedBy: "\r\n") {
            if line.hasPrefix(" ") || line.hasPrefix("\t"), !unfolded.isEmpty {
                unfolded[unfolded.count - 1] += line
            } else {
                unfolded.append(line)
            }
        }
        for line in unfolded {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
        }
    }

    func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
    func all(_ name: String) -> [String] { headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value) }

    /// Quoted-printable body text without the line end that closes the part.
    func decodedBody(_ text: String) -> String {
        // dropLast() removes one Character, and "\r\n" is one Character in Swift.
        String(decoding: QuotedPrintable.decode(text.hasSuffix("\r\n") ? String(text.dropLast()) : text), as: UTF8.self)
    }

    /// The decoded text of the part with `mediaType` (the body itself for a single-part message).
    func part(_ mediaType: String) -> String? {
        guard let contentType = header("Content-Type") else { return nil }
        if contentType.hasPrefix(mediaType) { return decodedBody(body) }
        guard let range = contentType.range(of: "boundary=\"") else { return nil }
        let boundary = contentType[range.upperBound...].prefix { $0 != "\"" }
        for section in body.components(separatedBy: "--\(boundary)") {
            let sub = ParsedMail(String(section.drop { $0 == "\r\n" || $0 == "\r" || $0 == "\n" }))
            if sub.header("Content-Type")?.hasPrefix(mediaType) == true {
                return decodedBody(sub.body)
            }
        }
        return nil
    }
}

/// Decodes RFC 2047 encoded-words (B and Q) in a header value, as a mail reader would.
func decodeEncodedWords(_ value: String) -> String {
    let pattern = try! NSRegularExpression(pattern: "=\\?([^?]+)\\?([BbQq])\\?([^?]*)\\?=(\\s+(?==\\?))?")
    var result = ""
    var last = value.startIndex
    for match in pattern.matches(in: value, range: NSRange(value.startIndex..., in: value)) {
        let range = Range(match.range, in: value)!
        result += value[last..<range.lowerBound]
        let encoding = String(value[Range(match.range(at: 2), in: value)!]).uppercased()
        let text = String(value[Range(match.range(at: 3), in: value)!])
        if encoding == "B", let data = Data(base64Encoded: text) {
            result += String(decoding: data, as: UTF8.self)
        } else {
            result += String(decoding: QuotedPrintable.decode(text.replacingOccurrences(of: "_", with: " ")), as: UTF8.self)
        }
        last = range.upperBound
    }
    result += value[last...]
    return result
}
