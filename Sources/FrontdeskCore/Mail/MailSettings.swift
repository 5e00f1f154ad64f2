import Foundation

/// The `mail.*` settings, and the transport they choose.
package struct MailSettings: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// How mail leaves the machine.
    package enum TransportKind: String, Sendable, CaseIterable {
        /// `.eml` files under `<data_dir>/mail/`: needs nothing, good for demos and development.
        case file
        /// Piped to a sendmail-compatible program.
        case sendmail
        /// Straight to an SMTP relay.
        case smtp
    }

    package var transport: TransportKind
    package var fromAddress: String
    package var fromName: String
    /// Where contact notifications go; empty: none are sent.
    package var ownerAddress: String
    package var sendmailPath: String
    package var smtpHost: String
    package var smtpPort: Int
    package var smtpTLS: SMTPTransport.Security
    package var smtpUsername: String
    /// Kept out of `description`; prefer `FRONTDESK_MAIL_SMTP_PASSWORD` to the file.
    package var smtpPassword: String
    package var maxAttempts: Int
    /// The first wait before a retry; later waits double up to an hour.
    package var retryBaseSeconds: Int = 30
    /// Mails one client address may trigger per day (`mail.visitor_daily_limit`, see `VisitorMailBudget`).
    package var visitorDailyLimit: Int = 20

    package init(transport: TransportKind = .file, fromAddress: String = "frontdesk@localhost", fromName: String = "Frontdesk",
                ownerAddress: String = "", sendmailPath: String = "/usr/sbin/sendmail", smtpHost: String = "", smtpPort: Int = 587,
                smtpTLS: SMTPTransport.Security = .startTLS, smtpUsername: String = "", smtpPassword: String = "", maxAttempts: Int = 8) {
        self.transport = transport
        self.fromAddress = fromAddress
        self.fromName = fromName
        self.ownerAddress = ownerAddress
        self.sendmailPath = sendmailPath
        self.smtpHost = smtpHost
        self.smtpPort = smtpPort
        self.smtpTLS = smtpTLS
        self.smtpUsername = smtpUsername
        self.smtpPassword = smtpPassword
        self.maxAttempts = maxAttempts
    }

    /// The sender of every mail (`mail.from_address`, `mail.from_name`). `…@localhost` is
    /// accepted so that the default works for the file transport out of the box.
    package func sender() throws -> MailAddress {
        try MailAddress(fromAddress, name: fromName, field: "mail.from_address", allowLocalhost: true)
    }

    /// The site owner's mailbox for contact notifications, or nil when none is set.
    package func owner() throws -> MailAddress? {
        ownerAddress.isEmpty ? nil : try MailAddress(ownerAddress, field: "mail.owner_address")
    }

    /// The retry policy with `mail.max_attempts`.
    package var retryPolicy: MailRetryPolicy { MailRetryPolicy(base: .seconds(retryBaseSeconds), cap: .seconds(max(3600, retryBaseSeconds)), maxAttempts: maxAttempts) }

    /// The transport `mail.transport` names.
    ///
    /// - Parameter dataDirectory: the file transport writes to `<dataDirectory>/mail`.
    package func makeTransport(dataDirectory: String, now: @escaping @Sendable () -> Date = { Date() }) throws -> any MailTransport {
        switch transport {
        case .file:
            return FileMailTransport(directory: (dataDirectory as NSString).appendingPathComponent("mail"), now: now)
        case .sendmail:
            return SendmailTransport(path: sendmailPath)
        case .smtp:
            return try SMTPTransport(configuration: SMTPTransport.Configuration(
                host: smtpHost, port: smtpPort, security: smtpTLS,
                username: smtpUsername.isEmpty ? nil : smtpUsername, password: smtpPassword))
        }
    }

    /// Problems a type check cannot see: addresses that are not addresses, an SMTP transport
    /// without a host, clear text to a remote relay.
    package func problems(source: String) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        if (try? sender()) == nil {
            problems.append(ConfigProblem(key: "mail.from_address", source: source, reason: .invalid("must be an email address like \"desk@example.com\", found \"\(fromAddress)\"")))
        }
        if !ownerAddress.isEmpty, (try? owner()) == nil {
            problems.append(ConfigProblem(key: "mail.owner_address", source: source, reason: .invalid("must be an email address or empty, found \"\(ownerAddress)\"")))
        }
        if transport == .smtp && smtpHost.isEmpty {
            problems.append(ConfigProblem(key: "mail.smtp_host", source: source, reason: .invalid("must be set when mail.transport is \"smtp\"")))
        }
        if transport == .smtp && smtpTLS == .none && !smtpHost.isEmpty && !SMTPTransport.isLoopback(smtpHost) {
            problems.append(ConfigProblem(key: "mail.smtp_tls", source: source,
                                          reason: .invalid("may be \"none\" only for a relay on this machine (127.0.0.1, ::1, localhost), not \"\(smtpHost)\"")))
        }
        if transport == .sendmail && !sendmailPath.hasPrefix("/") {
            problems.append(ConfigProblem(key: "mail.sendmail_path", source: source, reason: .invalid("must be an absolute path, found \"\(sendmailPath)\"")))
        }
        return problems
    }

    package var description: String {
        "MailSettings(transport: \(transport.rawValue), from: \(fromAddress), owner: \(ownerAddress.isEmpty ? "none" : ownerAddress), "
            + "smtp: \(smtpHost):\(smtpPort) \(smtpTLS.rawValue), user: \(smtpUsername.isEmpty ? "none" : smtpUsername), "
            + "password: \(smtpPassword.isEmpty ? "none" : "<redacted>"), max_attempts: \(maxAttempts))"
    }

    package var debugDescription: String { description }
}
