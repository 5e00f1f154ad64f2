import Foundation

/// The `server.*` deadlines and caps of HTTP connections, and who may read `/metrics`.
///
/// A connection that sends half a header block, or nothing, or a body a byte a minute, or reads
/// its answer a byte a minute, holds a file descriptor and a little memory; a thousand of them
/// used to hold the server (slowloris, slow POST, slow read). Each phase of a request now has a
/// deadline, and one client address may hold only so many connections.
package struct ConnectionSettings: Sendable, Equatable {
    /// From the first byte of a request until its header block is complete.
    package var headerTimeoutSeconds: Int
    /// From the end of the header block until the whole body has arrived.
    package var bodyTimeoutSeconds: Int
    /// A kept-alive connection with no request for this long is closed.
    package var idleTimeoutSeconds: Int
    /// A client that stops reading our answer for this long is dropped.
    package var sendTimeoutSeconds: Int
    /// Open HTTP connections one client address (IPv6: one /64) may hold.
    package var maxConnectionsPerAddress: Int
    /// Bearer token that opens `/metrics` to other machines; empty keeps it to this machine.
    package var metricsToken: String

    package init(headerTimeoutSeconds: Int = 10, bodyTimeoutSeconds: Int = 30, idleTimeoutSeconds: Int = 60, sendTimeoutSeconds: Int = 30,
                maxConnectionsPerAddress: Int = 64, metricsToken: String = "") {
        self.headerTimeoutSeconds = headerTimeoutSeconds
        self.bodyTimeoutSeconds = bodyTimeoutSeconds
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.sendTimeoutSeconds = sendTimeoutSeconds
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
        self.metricsToken = metricsToken
    }

    /// The settings catalogue entries for connections and metrics.
    package static let specs: [SettingSpec] = [
        SettingSpec(key: "server.header_timeout_seconds", env: "FRONTDESK_HEADER_TIMEOUT_SECONDS", kind: .integer(1...600), defaultValue: .integer(10),
                    doc: "A client must send a request's whole header block within this many seconds of its first byte; slower connections are closed (slowloris)."),
        SettingSpec(key: "server.body_timeout_seconds", env: "FRONTDESK_BODY_TIMEOUT_SECONDS", kind: .integer(1...3600), defaultValue: .integer(30),
                    doc: "A request's body must arrive within this many seconds of its headers; slower uploads are closed."),
        SettingSpec(key: "server.idle_timeout_seconds", env: "FRONTDESK_IDLE_TIMEOUT_SECONDS", kind: .integer(1...3600), defaultValue: .integer(60),
                    doc: "A kept-alive HTTP connection with no request for this many seconds is closed."),
        SettingSpec(key: "server.send_timeout_seconds", env: "FRONTDESK_SEND_TIMEOUT_SECONDS", kind: .integer(1...3600), defaultValue: .integer(30),
                    doc: "A client that reads none of our answer for this many seconds is disconnected (slow read)."),
        SettingSpec(key: "server.max_connections_per_address", env: "FRONTDESK_MAX_CONNECTIONS_PER_ADDRESS", kind: .integer(1...1_000_000), defaultValue: .integer(64),
                    doc: "Open HTTP connections one client address (an IPv6 client: its /64) may hold; more are closed at once. Lifted by `serve --rate-limit off`."),
        SettingSpec(key: "metrics.token", env: "FRONTDESK_METRICS_TOKEN", kind: .string, defaultValue: .string(""),
                    doc: "/metrics answers only requests from this machine unless this is set; then also requests with `Authorization: Bearer <token>`. Prefer the environment variable."),
    ]

    /// Reads the settings from resolved values.
    package init(values: [String: SettingValue]) {
        func int(_ key: String, _ fallback: Int) -> Int { if case .integer(let i) = values[key] { return i }; return fallback }
        func string(_ key: String) -> String { if case .string(let s) = values[key] { return s }; return "" }
        self.init(headerTimeoutSeconds: int("server.header_timeout_seconds", 10), bodyTimeoutSeconds: int("server.body_timeout_seconds", 30),
                  idleTimeoutSeconds: int("server.idle_timeout_seconds", 60), sendTimeoutSeconds: int("server.send_timeout_seconds", 30),
                  maxConnectionsPerAddress: int("server.max_connections_per_address", 64), metricsToken: string("metrics.token"))
    }

    /// A short metrics token is guessable.
    package func problems(source: String) -> [ConfigProblem] {
        guard !metricsToken.isEmpty, metricsToken.utf8.count < 24 else { return [] }
        return [ConfigProblem(key: "metrics.token", source: source, reason: .invalid("must be at least 24 characters (try `openssl rand -hex 24`)"))]
    }
}
