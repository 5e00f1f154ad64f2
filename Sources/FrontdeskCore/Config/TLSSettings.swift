import Foundation
import NIOSSL

/// The `server.tls_*` settings: Frontdesk serving HTTPS itself, without a proxy in front.
///
/// With `server.tls_cert` and `server.tls_key` both set the listener speaks TLS (HTTP/2 and
/// HTTP/1.1 by ALPN), every answer carries `Strict-Transport-Security`, and an optional second
/// listener on `server.http_redirect_port` sends plain-HTTP visitors to the https URL.
package enum TLSSettings {
    package static let certificate = Setting<String>.string(
        "server.tls_cert", env: "FRONTDESK_TLS_CERT", default: "",
        doc: "PEM file with the server certificate (then its intermediates) for serving HTTPS directly; with server.tls_key set too, Frontdesk speaks TLS. Reloaded on SIGHUP. Empty: plain HTTP (behind a TLS proxy).")
    package static let key = Setting<String>.string(
        "server.tls_key", env: "FRONTDESK_TLS_KEY", default: "",
        doc: "PEM file with the private key of server.tls_cert. Reloaded on SIGHUP with the certificate.")
    package static let http2 = Setting<Bool>.boolean(
        "server.tls_http2", env: "FRONTDESK_TLS_HTTP2", default: true,
        doc: "Offer HTTP/2 (ALPN h2) beside HTTP/1.1 when serving TLS. WebSockets (the chat) always use HTTP/1.1 connections.")
    package static let hstsMaxAge = Setting<Int>.integer(
        "server.hsts_max_age_seconds", env: "FRONTDESK_HSTS_MAX_AGE_SECONDS", default: 31_536_000, range: 0...63_072_000,
        doc: "max-age of the Strict-Transport-Security header on every answer when serving TLS (one year by default); 0 sends no header.")
    package static let redirectPort = Setting<Int>.integer(
        "server.http_redirect_port", env: "FRONTDESK_HTTP_REDIRECT_PORT", default: 0, range: 0...65535,
        doc: "When serving TLS, also listen for plain HTTP on this port (same server.host) and answer every request with a 308 to the https URL, same path and query. 0: no such listener.")

    /// The catalogue entries, in the `server` section.
    package static let specs: [SettingSpec] = [certificate.spec, key.spec, http2.spec, hstsMaxAge.spec, redirectPort.spec]

    /// What is wrong with the TLS settings: one file set without the other, a file that cannot
    /// be read or is no PEM, a key that does not match the certificate. Each names the file.
    static func problems(_ config: FrontdeskConfig, source: String) -> [ConfigProblem] {
        let certificate = config[Self.certificate], key = config[Self.key]
        switch (certificate.isEmpty, key.isEmpty) {
        case (true, true):
            if config[redirectPort] != 0 {
                return [ConfigProblem(key: redirectPort.spec.key, source: source,
                                      reason: .invalid("needs server.tls_cert and server.tls_key: the redirect listener sends visitors to the HTTPS one"))]
            }
            return []
        case (false, true):
            return [ConfigProblem(key: Self.key.spec.key, source: source, reason: .invalid("must be set too when server.tls_cert is set"))]
        case (true, false):
            return [ConfigProblem(key: Self.certificate.spec.key, source: source, reason: .invalid("must be set too when server.tls_key is set"))]
        case (false, false):
            var problems: [ConfigProblem] = []
            if config[redirectPort] != 0 && config[redirectPort] == config.port {
                problems.append(ConfigProblem(key: redirectPort.spec.key, source: source, reason: .invalid("must differ from server.port")))
            }
            do {
                _ = try TLSIdentity.load(certificatePath: certificate, keyPath: key)
            } catch let error as TLSIdentity.LoadError {
                problems.append(ConfigProblem(key: error.setting, source: source, reason: .invalid(error.message)))
            } catch {
                problems.append(ConfigProblem(key: Self.certificate.spec.key, source: source, reason: .invalid("\(error)")))
            }
            return problems
        }
    }
}

extension FrontdeskConfig {
    /// The certificate and key files when both are set: the listener serves TLS.
    package var tlsFiles: (certificate: String, key: String)? {
        let certificate = self[TLSSettings.certificate], key = self[TLSSettings.key]
        return certificate.isEmpty || key.isEmpty ? nil : (certificate, key)
    }
}

/// A certificate chain and its private key, read from the PEM files `server.tls_cert` and
/// `server.tls_key`, checked to belong together.
package struct TLSIdentity: Sendable {
    package let chain: [NIOSSLCertificate]
    package let privateKey: NIOSSLPrivateKey
    /// Where they were read from.
    package let certificatePath: String
    package let keyPath: String

    /// Why the files could not be used; the message names the file.
    package struct LoadError: Error, Sendable, CustomStringConvertible {
        /// `server.tls_cert` or `server.tls_key`: the setting that names the file at fault.
        package let setting: String
        package let path: String
        package let message: String
        package var description: String { "\(setting): \(message)" }
    }

    /// Reads and checks both files: each must be readable PEM, and the key must be the
    /// certificate's (a TLS context is built from them, as the listener will).
    package static func load(certificatePath: String, keyPath: String) throws -> TLSIdentity {
        let certificateBytes = try read(certificatePath, setting: TLSSettings.certificate.spec.key, what: "certificate")
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(certificateBytes)
        } catch {
            throw LoadError(setting: TLSSettings.certificate.spec.key, path: certificatePath,
                            message: "names \"\(certificatePath)\", which holds no PEM certificate (\"-----BEGIN CERTIFICATE-----\") that parses")
        }
        guard !chain.isEmpty else {
            throw LoadError(setting: TLSSettings.certificate.spec.key, path: certificatePath,
                            message: "names \"\(certificatePath)\", which holds no PEM certificate")
        }
        let keyBytes = try read(keyPath, setting: TLSSettings.key.spec.key, what: "private key")
        let privateKey: NIOSSLPrivateKey
        do {
            privateKey = try NIOSSLPrivateKey(bytes: keyBytes, format: .pem)
        } catch {
            throw LoadError(setting: TLSSettings.key.spec.key, path: keyPath,
                            message: "names \"\(keyPath)\", which holds no unencrypted PEM private key (\"-----BEGIN PRIVATE KEY-----\") that parses")
        }
        let identity = TLSIdentity(chain: chain, privateKey: privateKey, certificatePath: certificatePath, keyPath: keyPath)
        do {
            _ = try NIOSSLContext(configuration: identity.serverConfiguration(http2: false))
        } catch {
            throw LoadError(setting: TLSSettings.key.spec.key, path: keyPath,
                            message: "names \"\(keyPath)\", whose key does not belong to the certificate in \"\(certificatePath)\" (\(error))")
        }
        return identity
    }

    /// The server's TLS configuration: this chain and key, TLS 1.2 or newer (swift-nio-ssl's
    /// server default still admits 1.0), ALPN `h2` (when offered) then `http/1.1`.
    package func serverConfiguration(http2: Bool) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                                     privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = http2 ? ["h2", "http/1.1"] : ["http/1.1"]
        return configuration
    }

    private static func read(_ path: String, setting: String, what: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read (check its permissions)" : "does not exist"
            throw LoadError(setting: setting, path: path, message: "names the \(what) file \"\(path)\", which \(reason)")
        }
        return Array(data)
    }
}
