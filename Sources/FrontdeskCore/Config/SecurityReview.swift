import Foundation

/// What `frontdesk doctor` says about a resolved configuration before it faces the internet:
/// each finding names the setting, why it matters and the fix.
package struct SecurityFinding: Sendable, Equatable {
    package enum Severity: String, Sendable, Comparable {
        /// Fine as it is, worth knowing.
        case note
        /// Unsafe on a server reachable from the internet.
        case unsafe

        package static func < (a: Severity, b: Severity) -> Bool { a == .note && b == .unsafe }
    }

    package let severity: Severity
    package let setting: String
    package let problem: String
    package let fix: String
}

/// Reviews a configuration for production. Pure: reads only the configuration and the
/// environment it is given, so tests can hand it any mix.
package enum SecurityReview {
    package static func findings(_ config: FrontdeskConfig, environment: [String: String] = [:]) -> [SecurityFinding] {
        var findings: [SecurityFinding] = []
        func add(_ severity: SecurityFinding.Severity, _ setting: String, _ problem: String, _ fix: String) {
            findings.append(SecurityFinding(severity: severity, setting: setting, problem: problem, fix: fix))
        }
        let listensPublicly = !isLoopbackHost(config.host)
        let tls = config.publicURL.hasPrefix("https://")
        // server.tls_cert / tls_key: Frontdesk terminates TLS itself, no proxy in front.
        let servesTLS = config.tlsFiles != nil
        if listensPublicly && !tls && !servesTLS {
            add(.unsafe, "server.public_url",
                "Frontdesk listens on \(config.host) but server.public_url is not an https:// address: sign-ins, session cookies and visitors' messages would cross the network unencrypted.",
                "Put a TLS proxy (Caddy, nginx) in front, set server.public_url = \"https://…\" and server.host = \"127.0.0.1\"; or serve TLS directly with server.tls_cert and server.tls_key.")
        }
        if listensPublicly && config.trustedProxies.isEmpty && tls && !servesTLS {
            add(.note, "server.trusted_proxies",
                "server.public_url is https but no proxy is trusted: if a proxy terminates TLS, every visitor looks like the proxy to rate limits and sign-in throttling.",
                "List the proxy's address in server.trusted_proxies (e.g. [\"127.0.0.1\"]).")
        }
        if config.publicURL.isEmpty {
            add(listensPublicly ? .unsafe : .note, "server.public_url",
                "server.public_url is empty: links in mails (ticket magic links, newsletter confirmations) use the address the server bound to.",
                "Set server.public_url to the address people reach Frontdesk at, e.g. \"https://desk.example.com\".")
        }
        if !config.rateLimits.enabled {
            add(.unsafe, "rate_limit.enabled",
                "Rate limits and per-address connection caps are off: one client can flood the forms, the inbox and the mail queue.",
                "Remove `--rate-limit off` / set rate_limit.enabled = true; it is meant for load tests only.")
        }
        if !config.connections.metricsToken.isEmpty {
            add(.note, "metrics.token", "/metrics is readable from other machines with the bearer token.",
                "Keep the token in FRONTDESK_METRICS_TOKEN (environment), not in the file.")
        }
        if config.chat.identitySecret.isEmpty {
            add(.note, "chat.identity_secret", "Chat identification is off: frontdesk.identify(…) calls are refused and every chat visitor is anonymous.",
                "To link chats to your site's signed-in users, set FRONTDESK_CHAT_IDENTITY_SECRET to `openssl rand -hex 32` and sign user ids on your server.")
        } else if environment["FRONTDESK_CHAT_IDENTITY_SECRET"] == nil {
            add(.note, "chat.identity_secret", "The chat identity secret is in the configuration file.",
                "Prefer the environment variable FRONTDESK_CHAT_IDENTITY_SECRET (a systemd credential or EnvironmentFile readable by root only).")
        }
        if config.mail.transport == .smtp && config.mail.smtpTLS == .none && !isLoopbackHost(config.mail.smtpHost) {
            add(.unsafe, "mail.smtp_tls", "Mail goes to \(config.mail.smtpHost) in clear text: the relay password and every mail can be read on the way.",
                "Set mail.smtp_tls = \"starttls\" (port 587) or \"tls\" (port 465).")
        }
        if !config.mail.smtpPassword.isEmpty && environment["FRONTDESK_MAIL_SMTP_PASSWORD"] == nil {
            add(.note, "mail.smtp_password", "The SMTP password is in the configuration file.", "Prefer FRONTDESK_MAIL_SMTP_PASSWORD in the environment.")
        }
        if listensPublicly && config.mail.transport == .file {
            add(.note, "mail.transport", "Mail is written to files under the data directory and never leaves this machine: nobody gets the confirmation and ticket mails.",
                "Set mail.transport to \"smtp\" (with mail.smtp_host) or \"sendmail\".")
        }
        if config.demo && listensPublicly {
            add(.unsafe, "demo.enabled", "Demo mode seeds sample conversations and serves /demo on a public address.", "Run without --demo in production.")
        }
        if !config.spam.requireFormToken && !config.spam.proofOfWork {
            add(.note, "spam.require_form_token", "Plain API clients may post forms without a form token; only the honeypot and the rate limit stop scripted spam.",
                "If the widget is your only client, set spam.require_form_token = true (or spam.proof_of_work = true).")
        }
        return findings.sorted { $0.severity > $1.severity }
    }

    static func isLoopbackHost(_ host: String) -> Bool {
        host == "localhost" || host.hasPrefix("127.") || host == "::1" || host.isEmpty
    }
}
