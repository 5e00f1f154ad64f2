import ArgumentParser
import Foundation
import FrontdeskCore

/// `frontdesk user-agent`: what the analytics engine keeps of user-agent strings, one JSON line each.
struct UserAgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user-agent",
        abstract: "Show what Frontdesk keeps of user-agent strings (browser, version, OS, device, bot).",
        discussion: """
        Reads one user-agent string per line from standard input (or the arguments) and prints one
        JSON object per line: {"browser":…,"version":…,"os":…,"device":…,"bot":…}.

        Examples:
          frontdesk user-agent 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
          frontdesk user-agent < access-log-agents.txt
        """
    )

    @Argument(help: "User-agent strings (default: one per line from standard input).")
    var userAgents: [String] = []

    func run() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func show(_ ua: String) throws {
            let facts = UserAgentFacts.parse(ua)
            let line: [String: JSONLine] = [
                "browser": .s(facts.browser), "version": .s(facts.browserVersion), "os": .s(facts.os),
                "device": .s(facts.device.rawValue), "bot": .b(facts.isBot),
            ]
            print(String(decoding: try encoder.encode(line), as: UTF8.self))
        }
        if userAgents.isEmpty {
            while let line = readLine(strippingNewline: true) { try show(line) }
        } else {
            for ua in userAgents { try show(ua) }
        }
    }
}

/// `frontdesk geoip`: inspect a MaxMind-format database the way the tracker uses it.
struct GeoIPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "geoip",
        abstract: "Inspect a MaxMind-format GeoIP database (.mmdb).",
        subcommands: [Lookup.self]
    )

    /// `frontdesk geoip lookup --db FILE ADDRESS…`
    struct Lookup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Look addresses up in a .mmdb file: country and region, one JSON line each.",
            discussion: """
            Prints {"address":…,"country":…,"region":…} per address (null when the database has no
            record); with --record, the whole record as well. Exits 2 when the file cannot be opened.

            Example:
              frontdesk geoip lookup --db /var/lib/frontdesk/dbip-country-lite.mmdb 203.0.113.7 2001:db8::1
            """
        )

        @Option(name: .long, help: ArgumentHelp("MaxMind-format database.", valueName: "file"))
        var db: String

        @Flag(help: "Print the whole record too.")
        var record = false

        @Argument(help: "IPv4 or IPv6 addresses.")
        var addresses: [String]

        func run() throws {
            let lookup: MaxMindCountryLookup
            do { lookup = try MaxMindCountryLookup(path: db) } catch let error as MaxMindDatabaseError {
                FileHandle.standardError.write(Data("frontdesk: \(error)\n".utf8))
                throw ExitCode(2)
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            for address in addresses {
                let location = lookup.location(forAddress: address)
                var line: [String: JSONLine] = [
                    "address": .s(address), "country": location?.country.map(JSONLine.s) ?? .null,
                    "region": location?.region.map(JSONLine.s) ?? .null,
                ]
                if record { line["record"] = lookup.record(forAddress: address).map(JSONLine.init) ?? .null }
                print(String(decoding: try encoder.encode(line), as: UTF8.self))
            }
        }
    }
}

/// The little JSON these debugging commands print.
private indirect enum JSONLine: Encodable {
    case s(String), b(Bool), n(Double), null, a([JSONLine]), o([String: JSONLine])

    init(_ value: MaxMindValue) {
        switch value {
        case .string(let s): self = .s(s)
        case .double(let d): self = .n(d)
        case .float(let f): self = .n(Double(f))
        case .bytes(let b): self = .s(b.map { String(format: "%02x", $0) }.joined())
        case .unsigned(let u): self = .n(Double(u))
        case .unsigned128(let b): self = .s(b.map { String(format: "%02x", $0) }.joined())
        case .int32(let i): self = .n(Double(i))
        case .map(let m): self = .o(m.mapValues(JSONLine.init))
        case .array(let a): self = .a(a.map(JSONLine.init))
        case .bool(let b): self = .b(b)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .s(let v): try c.encode(v)
        case .b(let v): try c.encode(v)
        case .n(let v): try c.encode(v)
        case .null: try c.encodeNil()
        case .a(let v): try c.encode(v)
        case .o(let v): try c.encode(v)
        }
    }
}
