import Foundation
import Testing
@testable import FrontdeskCore

/// `server.tls_cert` / `server.tls_key`: files that do not load are configuration errors that
/// name the setting and the file, so `check-config` and `serve` both refuse them.
@Suite("TLS settings")
struct TLSSettingsTests {
    /// The one problem loading reports, as printed.
    func problem(_ settings: String, in dir: TempDirectory) throws -> String {
        let file = dir.file("frontdesk.toml")
        try "[server]\n\(settings)\n".write(toFile: file, atomically: true, encoding: .utf8)
        do {
            _ = try FrontdeskConfig.load(file: file, environment: [:])
        } catch let errors as ConfigErrors {
            #expect(errors.problems.count == 1, "\(errors)")
            return "\(errors)"
        }
        Issue.record("loading \(settings) succeeded")
        return ""
    }

    @Test("a certificate and its key load; the listener is told to serve TLS")
    func validPair() throws {
        let dir = TempDirectory()
        let pair = try #require(try TestCertificate.make(in: dir), "openssl is needed to make the test certificate")
        let file = dir.file("frontdesk.toml")
        try "[server]\ntls_cert = \"\(pair.certificatePath)\"\ntls_key = \"\(pair.keyPath)\"\nhttp_redirect_port = 8081\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let config = try FrontdeskConfig.load(file: file, environment: [:])
        #expect(config.tlsFiles?.certificate == pair.certificatePath)
        #expect(config.tlsFiles?.key == pair.keyPath)
        #expect(config[TLSSettings.hstsMaxAge] == 31_536_000)
        #expect(FrontdeskConfig.defaults.tlsFiles == nil)
    }

    @Test("a certificate file that is not PEM names the setting and the file")
    func badCertificate() throws {
        let dir = TempDirectory()
        let pair = try #require(try TestCertificate.make(in: dir))
        let bad = dir.file("broken-cert.pem")
        try "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let message = try problem("tls_cert = \"\(bad)\"\ntls_key = \"\(pair.keyPath)\"", in: dir)
        #expect(message.contains("\"server.tls_cert\""))
        #expect(message.contains(bad))
        #expect(message.contains(dir.file("frontdesk.toml")))
    }

    @Test("a key file that is not PEM, or a key of another certificate, names the key file")
    func badKey() throws {
        let dir = TempDirectory(), other = TempDirectory()
        let pair = try #require(try TestCertificate.make(in: dir))
        let stranger = try #require(try TestCertificate.make(in: other))
        let bad = dir.file("broken-key.pem")
        try "just text\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let unparsable = try problem("tls_cert = \"\(pair.certificatePath)\"\ntls_key = \"\(bad)\"", in: dir)
        #expect(unparsable.contains("\"server.tls_key\"") && unparsable.contains(bad))
        let mismatched = try problem("tls_cert = \"\(pair.certificatePath)\"\ntls_key = \"\(stranger.keyPath)\"", in: dir)
        #expect(mismatched.contains("\"server.tls_key\"") && mismatched.contains(stranger.keyPath) && mismatched.contains("does not belong"))
    }

    @Test("a missing file, one setting without the other, a redirect without TLS")
    func incomplete() throws {
        let dir = TempDirectory()
        let pair = try #require(try TestCertificate.make(in: dir))
        let missing = dir.file("nowhere.pem")
        let absent = try problem("tls_cert = \"\(missing)\"\ntls_key = \"\(pair.keyPath)\"", in: dir)
        #expect(absent.contains(missing) && absent.contains("does not exist"))
        #expect(try problem("tls_cert = \"\(pair.certificatePath)\"", in: dir).contains("\"server.tls_key\" must be set too"))
        #expect(try problem("tls_key = \"\(pair.keyPath)\"", in: dir).contains("\"server.tls_cert\" must be set too"))
        #expect(try problem("http_redirect_port = 8081", in: dir).contains("\"server.http_redirect_port\" needs server.tls_cert"))
    }
}
