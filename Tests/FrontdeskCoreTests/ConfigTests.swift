import Foundation
import Testing
@testable import FrontdeskCore

@Suite("Configuration")
struct ConfigTests {
    @Test("no file, no environment, no flags: the embedded default")
    func defaults() throws {
        let config = try FrontdeskConfig.load(file: nil, environment: [:])
        #expect(config.host == "127.0.0.1")
        #expect(config.port == 8080)
        #expect(config.dataDirectory == "./frontdesk-data")
        #expect(config.logDirectory == "./frontdesk-data/logs")
        #expect(config.synchronous == .normal)
        #expect(config.maxBodyBytes == 64 * 1024)
    }

    @Test("flags beat environment, environment beats the file, the file beats defaults")
    func precedence() throws {
        let dir = TempDirectory()
        let file = dir.file("frontdesk.toml")
        try """
        [server]
        host = "0.0.0.0"
        port = 7000
        max_body_kib = 32
        [storage]
        data_dir = "/srv/fd"
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let config = try FrontdeskConfig.load(file: file, environment: ["FRONTDESK_PORT": "7100", "FRONTDESK_HOST": "10.0.0.1"],
                                              flags: ["server.port": "7200"])
        #expect(config.port == 7200)
        #expect(config.host == "10.0.0.1")
        #expect(config.maxBodyKiB == 32)
        #expect(config.dataDirectory == "/srv/fd")
        #expect(config.logDirectory == "/srv/fd/logs")
    }

    @Test("every problem in a file is reported, each naming its key and the file")
    func everyProblemReported() throws {
        let dir = TempDirectory()
        let file = dir.file("bad.toml")
        try """
        [server]
        prot = 8080
        port = "eighty"
        site_origins = ["https://ok.example", "not an origin"]
        [storage]
        synchronous = "sometimes"
        [unknown_section]
        x = 1
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let errors = try #require(throws: ConfigErrors.self) { try FrontdeskConfig.load(file: file, environment: [:]) }
        let keys = Set(errors.problems.map(\.key))
        #expect(keys == ["server.prot", "server.port", "server.site_origins", "storage.synchronous", "unknown_section"])
        #expect(errors.problems.allSatisfy { $0.source == file })
        let typo = try #require(errors.problems.first { $0.key == "server.prot" })
        #expect(typo.description.contains("did you mean \"server.port\""))
        let wrongType = try #require(errors.problems.first { $0.key == "server.port" })
        #expect(wrongType.description.contains("must be an integer from 0 to 65535"))
    }

    @Test("a bad environment variable is named")
    func badEnvironment() throws {
        let errors = try #require(throws: ConfigErrors.self) {
            try FrontdeskConfig.load(file: nil, environment: ["FRONTDESK_PORT": "99999", "FRONTDESK_DEMO": "maybe"])
        }
        #expect(errors.problems.map(\.source).sorted() == ["environment variable FRONTDESK_DEMO", "environment variable FRONTDESK_PORT"])
    }

    @Test("TOML syntax errors give the line")
    func syntaxError() throws {
        let dir = TempDirectory()
        let file = dir.file("broken.toml")
        try "[server\nport = 1\n".write(toFile: file, atomically: true, encoding: .utf8)
        let errors = try #require(throws: ConfigErrors.self) { try FrontdeskConfig.load(file: file, environment: [:]) }
        #expect(errors.problems.count == 1)
        #expect(errors.description.contains("line 1"))
    }

    @Test("a missing file is an error naming the file")
    func missingFile() throws {
        let errors = try #require(throws: ConfigErrors.self) { try FrontdeskConfig.load(file: "/nonexistent/frontdesk.toml", environment: [:]) }
        #expect(errors.description.contains("/nonexistent/frontdesk.toml"))
    }

    @Test("the defaults document parses back to the defaults once uncommented")
    func defaultsDocumentRoundTrips() throws {
        let dir = TempDirectory()
        let file = dir.file("defaults.toml")
        let uncommented = FrontdeskConfig.defaultsDocument().split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            line.hasPrefix("# ") && line.contains(" = ") && !line.contains("Environment") ? String(line.dropFirst(2)) : String(line)
        }.joined(separator: "\n")
        try uncommented.write(toFile: file, atomically: true, encoding: .utf8)
        let config = try FrontdeskConfig.load(file: file, environment: [:])
        #expect(config.port == FrontdeskConfig.defaults.port)
        #expect(config.dataDirectory == FrontdeskConfig.defaults.dataDirectory)
        for spec in FrontdeskConfig.specs {
            #expect(uncommented.contains("\(spec.name) = "), "missing \(spec.key)")
        }
    }
}

@Suite("Settings catalogue")
struct SettingsCatalogueTests {
    @Test("every key once, each section's keys together, every default valid for its own kind")
    func catalogue() throws {
        let keys = FrontdeskConfig.specs.map(\.key)
        #expect(Set(keys).count == keys.count)
        var seen: [String] = []
        for spec in FrontdeskConfig.specs where seen.last != spec.section {
            #expect(!seen.contains(spec.section), "section \(spec.section) is split in the catalogue")
            seen.append(spec.section)
        }
        // The printed defaults document is a valid configuration file once uncommented.
        let dir = TempDirectory()
        let file = dir.file("defaults.toml")
        let uncommented = FrontdeskConfig.defaultsDocument().split(separator: "\n", omittingEmptySubsequences: false)
            .map { line -> String in
                let body = line.dropFirst(2)
                guard line.hasPrefix("# "), let eq = body.range(of: " = "),
                      body[..<eq.lowerBound].allSatisfy({ $0.isLowercase || $0 == "_" || $0.isNumber }) else { return String(line) }
                return String(body)
            }
            .joined(separator: "\n")
        try uncommented.write(toFile: file, atomically: true, encoding: .utf8)
        _ = try FrontdeskConfig.load(file: file, environment: [:])
    }
}
