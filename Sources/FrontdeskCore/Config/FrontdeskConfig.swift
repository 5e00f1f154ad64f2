import Foundation
import Logging
import TOMLKit

/// How hard SQLite works to keep a committed transaction across a power cut.
///
/// `normal` (the default) in WAL mode never corrupts the database; a power cut may lose the last
/// transactions committed before the cut that the OS had not yet written. `full` fsyncs the WAL
/// on every commit, so a 2xx means the data is on disk even if the power goes at once.
/// See https://www.sqlite.org/pragma.html#pragma_synchronous
package enum SynchronousMode: String, Sendable {
    case normal
    case full
}

/// Frontdesk's whole configuration, resolved from flags > environment > TOML file > defaults.
package struct FrontdeskConfig: Sendable {
    package var host: String
    package var port: Int
    /// The address visitors and agents use, e.g. `https://desk.example.com`; empty when unknown.
    package var publicURL: String
    /// Origins of the sites that embed the widget; they may call the public API cross-origin.
    package var siteOrigins: [String]
    /// Peers whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed.
    package var trustedProxies: [String]
    /// Largest public JSON body, in KiB.
    package var maxBodyKiB: Int
    /// How long a graceful shutdown waits for requests in flight.
    package var drainSeconds: Int
    package var dataDirectory: String
    package var synchronous: SynchronousMode
    package var logLevel: Logger.Level
    package var logDirectory: String
    package var logMaxSizeMiB: Int
    package var logKeepFiles: Int
    /// Serve `Resources/` from this folder instead of the embedded copy (development).
    package var assetsDirectory: String?
    package var demo: Bool
    package var backupIntervalHours: Int
    package var backupKeep: Int
    package var backupDirectory: String
    package var sessionIdleMinutes: Int
    package var sessionAbsoluteHours: Int
    package var sessionSnapshotSeconds: Int
    package var cacheMaxEntries: Int
    package var cacheMaxMiB: Int
    package var rateLimits: RateLimitSettings
    /// Outgoing mail: transport, sender, the owner's address, SMTP relay, retries.
    package var mail: MailSettings
    /// Live chat: socket limits, business hours, the identity secret.
    package var chat: ChatSettings
    /// HTTP connection deadlines and caps, and access to `/metrics`.
    package var connections: ConnectionSettings
    /// The site's name in mails and pages.
    package var siteName: String
    /// The site owner's mail templates, replacing built-in ones by name.
    package var mailTemplatesDirectory: String?
    /// Honeypot, minimum fill time and proof of work for every public form.
    package var spam: SpamSettings
    /// Newsletter topics, consent text and the expiry of unconfirmed sign-ups.
    package var newsletter: NewsletterSettings
    /// Contact forms by id: `contact` always, others from `[forms.<id>]` tables in the TOML file.
    package var forms: [String: FormDefinition] = ["contact": .defaultContact]
    /// Every resolved value by key, for features' typed settings (`config[Setting]`).
    package var settingValues: [String: SettingValue] = [:]

    /// Per-client request limits by route class.
    package struct RateLimitSettings: Sendable {
        package var enabled: Bool
        package var publicPerMinute: Int
        package var publicBurst: Int
        package var formsPerMinute: Int
        package var formsBurst: Int
        package var loginPerMinute: Int
        package var loginBurst: Int
    }

    /// Where session snapshots live.
    package var stateDirectory: String { (dataDirectory as NSString).appendingPathComponent("state") }

    /// The main database file.
    package var databasePath: String { (dataDirectory as NSString).appendingPathComponent("frontdesk.sqlite") }
    package var maxBodyBytes: Int { maxBodyKiB * 1024 }

    /// The catalogue of settings; the single source for parsing, `--print-defaults` and the README.
    /// Features declare their own entries beside their code; here they are gathered, each
    /// section's settings kept together in the order sections first appear.
    package static let specs: [SettingSpec] = groupedBySection(coreSpecs + ChatSettings.specs + ConnectionSettings.specs + TLSSettings.specs)

    static func groupedBySection(_ specs: [SettingSpec]) -> [SettingSpec] {
        var order: [String] = []
        var bySection: [String: [SettingSpec]] = [:]
        for spec in specs {
            if bySection[spec.section] == nil { order.append(spec.section) }
            bySection[spec.section, default: []].append(spec)
        }
        return order.flatMap { bySection[$0]! }
    }

    static let coreSpecs: [SettingSpec] = [
        SettingSpec(key: "server.host", env: "FRONTDESK_HOST", kind: .string, defaultValue: .string("127.0.0.1"),
                    doc: "Address to listen on. Use 0.0.0.0 to listen on every interface (normally behind a TLS proxy)."),
        SettingSpec(key: "server.port", env: "FRONTDESK_PORT", kind: .integer(0...65535), defaultValue: .integer(8080),
                    doc: "TCP port to listen on (0 picks a free port)."),
        SettingSpec(key: "server.public_url", env: "FRONTDESK_PUBLIC_URL", kind: .string, defaultValue: .string(""),
                    doc: "The URL visitors and agents reach Frontdesk at, e.g. \"https://desk.example.com\"; used in mails and printed links."),
        SettingSpec(key: "server.site_origins", env: "FRONTDESK_SITE_ORIGINS", kind: .stringList, defaultValue: .stringList([]),
                    doc: "Origins of the sites that embed the widget, e.g. [\"https://www.example.com\"]; they may call the public API cross-origin."),
        SettingSpec(key: "server.trusted_proxies", env: "FRONTDESK_TRUSTED_PROXIES", kind: .stringList, defaultValue: .stringList([]),
                    doc: "Addresses of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto headers are believed."),
        SettingSpec(key: "server.max_body_kib", env: "FRONTDESK_MAX_BODY_KIB", kind: .integer(1...10_240), defaultValue: .integer(64),
                    doc: "Largest request body the public JSON API accepts, in KiB; larger bodies get 413."),
        SettingSpec(key: "server.drain_seconds", env: "FRONTDESK_DRAIN_SECONDS", kind: .integer(1...300), defaultValue: .integer(8),
                    doc: "On SIGTERM, how long requests in flight may take to finish before the process exits."),
        SettingSpec(key: "storage.data_dir", env: "FRONTDESK_DATA_DIR", kind: .string, defaultValue: .string("./frontdesk-data"),
                    doc: "Folder for the database, state snapshots, the mail spool and backups; created if missing."),
        SettingSpec(key: "storage.synchronous", env: "FRONTDESK_SYNCHRONOUS", kind: .choice(["normal", "full"]), defaultValue: .string("normal"),
                    doc: "\"normal\": a power cut may lose the last commits but never corrupts data; \"full\": every acknowledged write survives a power cut, at some cost in write throughput."),
        SettingSpec(key: "log.level", env: "FRONTDESK_LOG_LEVEL", kind: .choice(["trace", "debug", "info", "notice", "warning", "error", "critical"]), defaultValue: .string("info"),
                    doc: "Lowest level written to the log."),
        SettingSpec(key: "log.dir", env: "FRONTDESK_LOG_DIR", kind: .string, defaultValue: .string(""),
                    doc: "Folder for frontdesk.log and its rotated, gzip-compressed predecessors; empty means <data_dir>/logs."),
        SettingSpec(key: "log.max_size_mib", env: "FRONTDESK_LOG_MAX_SIZE_MIB", kind: .integer(1...4096), defaultValue: .integer(10),
                    doc: "Rotate frontdesk.log when it grows past this size, in MiB."),
        SettingSpec(key: "log.keep", env: "FRONTDESK_LOG_KEEP", kind: .integer(0...1000), defaultValue: .integer(5),
                    doc: "How many rotated log files to keep."),
        SettingSpec(key: "assets.dir", env: "FRONTDESK_ASSETS_DIR", kind: .string, defaultValue: .string(""),
                    doc: "Serve the widget, console and documents from this Resources/ folder instead of the copy inside the binary (for development)."),
        SettingSpec(key: "session.idle_minutes", env: "FRONTDESK_SESSION_IDLE_MINUTES", kind: .integer(1...10_080), defaultValue: .integer(120),
                    doc: "A console session ends after this many minutes without a request."),
        SettingSpec(key: "session.absolute_hours", env: "FRONTDESK_SESSION_ABSOLUTE_HOURS", kind: .integer(1...720), defaultValue: .integer(12),
                    doc: "A console session ends this many hours after sign-in, however active."),
        SettingSpec(key: "session.snapshot_seconds", env: "FRONTDESK_SESSION_SNAPSHOT_SECONDS", kind: .integer(1...3600), defaultValue: .integer(5),
                    doc: "How often sessions are snapshotted to <data_dir>/state/sessions.snap; a kill -9 loses at most the sign-ins of this many seconds."),
        SettingSpec(key: "cache.max_entries", env: "FRONTDESK_CACHE_MAX_ENTRIES", kind: .integer(100...10_000_000), defaultValue: .integer(100_000),
                    doc: "Most entries the in-process cache holds before evicting the least recently used."),
        SettingSpec(key: "cache.max_mib", env: "FRONTDESK_CACHE_MAX_MIB", kind: .integer(1...16_384), defaultValue: .integer(64),
                    doc: "Memory budget of the in-process cache, in MiB."),
        SettingSpec(key: "rate_limit.enabled", env: "FRONTDESK_RATE_LIMIT", kind: .boolean, defaultValue: .boolean(true),
                    doc: "Per-client request limits (not sign-in throttling). Turn off only for load tests: `serve --rate-limit off`."),
        SettingSpec(key: "rate_limit.public_per_minute", env: "FRONTDESK_RATE_LIMIT_PUBLIC_PER_MINUTE", kind: .integer(1...1_000_000), defaultValue: .integer(300),
                    doc: "Requests per minute one client address may make to the API."),
        SettingSpec(key: "rate_limit.public_burst", env: "FRONTDESK_RATE_LIMIT_PUBLIC_BURST", kind: .integer(1...1_000_000), defaultValue: .integer(100),
                    doc: "Requests one client address may make at once before the per-minute rate applies."),
        SettingSpec(key: "rate_limit.forms_per_minute", env: "FRONTDESK_RATE_LIMIT_FORMS_PER_MINUTE", kind: .integer(1...1_000_000), defaultValue: .integer(10),
                    doc: "Form submissions (contact, newsletter, tickets) per minute from one client address."),
        SettingSpec(key: "rate_limit.forms_burst", env: "FRONTDESK_RATE_LIMIT_FORMS_BURST", kind: .integer(1...1_000_000), defaultValue: .integer(5),
                    doc: "Form submissions one client address may send at once."),
        SettingSpec(key: "rate_limit.login_per_minute", env: "FRONTDESK_RATE_LIMIT_LOGIN_PER_MINUTE", kind: .integer(1...1_000_000), defaultValue: .integer(10),
                    doc: "Sign-in requests per minute from one client address (failed sign-ins are also throttled per account)."),
        SettingSpec(key: "rate_limit.login_burst", env: "FRONTDESK_RATE_LIMIT_LOGIN_BURST", kind: .integer(1...1_000_000), defaultValue: .integer(10),
                    doc: "Sign-in requests one client address may send at once."),
        SettingSpec(key: "backup.interval_hours", env: "FRONTDESK_BACKUP_INTERVAL_HOURS", kind: .integer(0...8760), defaultValue: .integer(24),
                    doc: "Take a backup into backup.dir every this many hours while serving; 0 turns scheduled backups off."),
        SettingSpec(key: "backup.keep", env: "FRONTDESK_BACKUP_KEEP", kind: .integer(1...1000), defaultValue: .integer(7),
                    doc: "How many scheduled backups to keep; older ones are deleted."),
        SettingSpec(key: "backup.dir", env: "FRONTDESK_BACKUP_DIR", kind: .string, defaultValue: .string(""),
                    doc: "Folder for scheduled backups and `frontdesk backup` without --to; empty means <data_dir>/backups."),
        SettingSpec(key: "demo.enabled", env: "FRONTDESK_DEMO", kind: .boolean, defaultValue: .boolean(false),
                    doc: "Seed demo content and serve the demo site at /demo."),
        SettingSpec(key: "mail.transport", env: "FRONTDESK_MAIL_TRANSPORT", kind: .choice(["file", "sendmail", "smtp"]), defaultValue: .string("file"),
                    doc: "How mail leaves: \"file\" writes each message as an .eml file under <data_dir>/mail/ (nothing to set up); \"sendmail\" pipes it to mail.sendmail_path; \"smtp\" sends it to mail.smtp_host."),
        SettingSpec(key: "mail.from_address", env: "FRONTDESK_MAIL_FROM_ADDRESS", kind: .string, defaultValue: .string("frontdesk@localhost"),
                    doc: "Sender address of every mail (and where bounces go). Set it to an address of your domain before using sendmail or smtp."),
        SettingSpec(key: "mail.from_name", env: "FRONTDESK_MAIL_FROM_NAME", kind: .string, defaultValue: .string("Frontdesk"),
                    doc: "Sender name shown beside mail.from_address, e.g. your site's name."),
        SettingSpec(key: "mail.owner_address", env: "FRONTDESK_MAIL_OWNER_ADDRESS", kind: .string, defaultValue: .string(""),
                    doc: "Where contact-form notifications go; empty sends none."),
        SettingSpec(key: "mail.sendmail_path", env: "FRONTDESK_MAIL_SENDMAIL_PATH", kind: .string, defaultValue: .string("/usr/sbin/sendmail"),
                    doc: "A sendmail-compatible program (postfix, exim, msmtp, nullmailer), run as: <path> -i -f <from> -- <to>."),
        SettingSpec(key: "mail.smtp_host", env: "FRONTDESK_MAIL_SMTP_HOST", kind: .string, defaultValue: .string(""),
                    doc: "SMTP relay host name (used when mail.transport is \"smtp\")."),
        SettingSpec(key: "mail.smtp_port", env: "FRONTDESK_MAIL_SMTP_PORT", kind: .integer(1...65535), defaultValue: .integer(587),
                    doc: "SMTP relay port: 587 for starttls, 465 for tls, 25 for a local relay."),
        SettingSpec(key: "mail.smtp_tls", env: "FRONTDESK_MAIL_SMTP_TLS", kind: .choice(["starttls", "tls", "none"]), defaultValue: .string("starttls"),
                    doc: "\"starttls\": upgrade with STARTTLS and refuse a relay that does not offer it; \"tls\": TLS from the start (port 465); \"none\": clear text, only for a relay on this machine."),
        SettingSpec(key: "mail.smtp_username", env: "FRONTDESK_MAIL_SMTP_USERNAME", kind: .string, defaultValue: .string(""),
                    doc: "SMTP user name; when set, Frontdesk signs in with AUTH PLAIN or LOGIN (only over TLS or to a relay on this machine)."),
        SettingSpec(key: "mail.smtp_password", env: "FRONTDESK_MAIL_SMTP_PASSWORD", kind: .string, defaultValue: .string(""),
                    doc: "SMTP password. Prefer the environment variable FRONTDESK_MAIL_SMTP_PASSWORD (e.g. from a systemd credential or EnvironmentFile) to writing it in this file."),
        SettingSpec(key: "mail.retry_base_seconds", env: "FRONTDESK_MAIL_RETRY_BASE_SECONDS", kind: .integer(1...3600), defaultValue: .integer(30),
                    doc: "The wait before the first retry of a mail a server refused for now (SMTP 4xx, a connection error); each later wait doubles, up to an hour."),
        SettingSpec(key: "mail.templates_dir", env: "FRONTDESK_MAIL_TEMPLATES_DIR", kind: .string, defaultValue: .string(""),
                    doc: "A folder of your own mail templates (<name>.subject.mustache, .txt.mustache, .html.mustache, as in Resources/mail/); files there replace the built-in ones of the same name."),
        SettingSpec(key: "mail.max_attempts", env: "FRONTDESK_MAIL_MAX_ATTEMPTS", kind: .integer(1...100), defaultValue: .integer(8),
                    doc: "Delivery attempts before a mail is marked dead; waits between attempts start at mail.retry_base_seconds and double up to 1 h. A permanent rejection (SMTP 5xx) is dead at once."),
    ] + VisitorMailBudget.specs + [
        SettingSpec(key: "site.name", env: "FRONTDESK_SITE_NAME", kind: .string, defaultValue: .string("Frontdesk"),
                    doc: "The site's name, shown in mails (subjects, greetings) and on confirmation pages."),
        SettingSpec(key: "spam.honeypot_field", env: "FRONTDESK_SPAM_HONEYPOT_FIELD", kind: .string, defaultValue: .string("website"),
                    doc: "A form field people never see and bots fill in; a submission with it filled is answered as if accepted and dropped."),
        SettingSpec(key: "spam.min_fill_seconds", env: "FRONTDESK_SPAM_MIN_FILL_SECONDS", kind: .integer(0...600), defaultValue: .integer(3),
                    doc: "A form sent sooner than this after its form token was issued is refused (422 submitted_too_fast). 0 turns the check off."),
        SettingSpec(key: "spam.require_form_token", env: "FRONTDESK_SPAM_REQUIRE_FORM_TOKEN", kind: .boolean, defaultValue: .boolean(false),
                    doc: "Refuse form posts without a form token from GET /api/v1/forms/{form} (the widget always sends one; plain API clients then must too)."),
        SettingSpec(key: "spam.proof_of_work", env: "FRONTDESK_SPAM_PROOF_OF_WORK", kind: .boolean, defaultValue: .boolean(false),
                    doc: "Ask every form for a solved, signed, single-use SHA-256 puzzle (self-hosted; no third party). The widget solves it in the background."),
        SettingSpec(key: "spam.proof_of_work_max_number", env: "FRONTDESK_SPAM_PROOF_OF_WORK_MAX_NUMBER", kind: .integer(1_000...10_000_000), defaultValue: .integer(100_000),
                    doc: "Puzzle size: a browser tries on average half this many hashes (100000 is well under a second on a phone)."),
        SettingSpec(key: "newsletter.topics", env: "FRONTDESK_NEWSLETTER_TOPICS", kind: .stringList, defaultValue: .stringList([]),
                    doc: "Topics a subscriber may choose, as \"id\" or \"id:Label\" (e.g. [\"news:Company news\", \"offers:Special offers\"]). Empty: no choice."),
        SettingSpec(key: "newsletter.consent_text", env: "FRONTDESK_NEWSLETTER_CONSENT_TEXT", kind: .string,
                    defaultValue: .string("Yes, send me the newsletter. I can unsubscribe at any time with one click."),
                    doc: "The consent sentence shown beside the sign-up form."),
        SettingSpec(key: "newsletter.consent_version", env: "FRONTDESK_NEWSLETTER_CONSENT_VERSION", kind: .string, defaultValue: .string("1"),
                    doc: "Stored with every sign-up as proof of what the person agreed to; change it whenever the consent text changes."),
        SettingSpec(key: "newsletter.pending_expiry_hours", env: "FRONTDESK_NEWSLETTER_PENDING_EXPIRY_HOURS", kind: .integer(1...8760), defaultValue: .integer(72),
                    doc: "Unconfirmed sign-ups are deleted this long after the confirmation mail."),
        SettingSpec(key: "newsletter.resend_minutes", env: "FRONTDESK_NEWSLETTER_RESEND_MINUTES", kind: .integer(0...1440), defaultValue: .integer(10),
                    doc: "Signing up again while pending resends the confirmation mail, at most once per this many minutes."),
    ]

    /// Resolves the configuration from its four sources and reports every problem at once.
    ///
    /// - Parameters:
    ///   - file: a TOML file, or nil for none.
    ///   - environment: usually `ProcessInfo.processInfo.environment`.
    ///   - flags: values given on the command line, keyed by setting key (`server.port`), as typed.
    ///   - features: the settings feature modules declare beside their code (`FeatureModule.settings`).
    package static func load(file: String?, environment: [String: String], flags: [String: String] = [:],
                             features: [SettingSpec]) throws -> FrontdeskConfig {
        let specs = catalogue(features)
        var values: [String: SettingValue] = Dictionary(uniqueKeysWithValues: specs.map { ($0.key, $0.defaultValue) })
        var problems: [ConfigProblem] = []
        let specByKey = Dictionary(uniqueKeysWithValues: specs.map { ($0.key, $0) })

        var forms: [String: FormDefinition] = ["contact": .defaultContact]
        if let file {
            let (fileValues, fileForms, fileProblems) = readTOML(path: file, specs: specs)
            problems += fileProblems
            values.merge(fileValues) { $1 }
            forms.merge(fileForms) { $1 }
        }
        for spec in specs {
            guard let raw = environment[spec.env] else { continue }
            switch spec.parse(raw: raw) {
            case .success(let value): values[spec.key] = value
            case .failure(let reason): problems.append(ConfigProblem(key: spec.key, source: "environment variable \(spec.env)", reason: reason))
            }
        }
        for (key, raw) in flags.sorted(by: { $0.key < $1.key }) {
            guard let spec = specByKey[key] else { continue }
            switch spec.parse(raw: raw) {
            case .success(let value): values[key] = value
            case .failure(let reason): problems.append(ConfigProblem(key: key, source: "flag --\(spec.name.replacingOccurrences(of: "_", with: "-"))", reason: reason))
            }
        }

        for spec in specs {
            if let check = spec.validate, let value = values[spec.key], let problem = check(value) {
                problems.append(ConfigProblem(key: spec.key, source: file ?? "configuration", reason: .invalid(problem)))
            }
        }
        var config = FrontdeskConfig(values: values)
        config.settingValues = values
        config.forms = forms
        problems += config.semanticProblems(source: file ?? "configuration")
        if !problems.isEmpty { throw ConfigErrors(problems: problems) }
        return config
    }

    /// Resolves the built-in settings only (no feature module's): for Core's own tests and tools.
    package static func load(file: String?, environment: [String: String], flags: [String: String] = [:]) throws -> FrontdeskConfig {
        try load(file: file, environment: environment, flags: flags, features: [])
    }

    /// The built-in settings and the features', each section's settings together.
    package static func catalogue(_ features: [SettingSpec]) -> [SettingSpec] {
        features.isEmpty ? specs : groupedBySection(specs + features)
    }

    /// A feature's typed setting: the value resolved from the four sources (already checked
    /// against its kind and range), or its default when nothing set it.
    package subscript<Value>(_ setting: Setting<Value>) -> Value {
        settingValues[setting.spec.key].flatMap(setting.read) ?? setting.defaultValue
    }

    /// The defaults alone: what `frontdesk serve` uses with no file, flags or environment.
    package static var defaults: FrontdeskConfig {
        FrontdeskConfig(values: Dictionary(uniqueKeysWithValues: specs.map { ($0.key, $0.defaultValue) }))
    }

    init(values: [String: SettingValue]) {
        func string(_ key: String) -> String { if case .string(let s) = values[key] { return s }; return "" }
        func int(_ key: String) -> Int { if case .integer(let i) = values[key] { return i }; return 0 }
        func bool(_ key: String) -> Bool { if case .boolean(let b) = values[key] { return b }; return false }
        func list(_ key: String) -> [String] { if case .stringList(let l) = values[key] { return l }; return [] }
        host = string("server.host")
        port = int("server.port")
        publicURL = string("server.public_url")
        siteOrigins = list("server.site_origins").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        trustedProxies = list("server.trusted_proxies")
        maxBodyKiB = int("server.max_body_kib")
        drainSeconds = int("server.drain_seconds")
        dataDirectory = string("storage.data_dir")
        synchronous = SynchronousMode(rawValue: string("storage.synchronous")) ?? .normal
        logLevel = Logger.Level(rawValue: string("log.level")) ?? .info
        let logDir = string("log.dir")
        logDirectory = logDir.isEmpty ? (dataDirectory as NSString).appendingPathComponent("logs") : logDir
        logMaxSizeMiB = int("log.max_size_mib")
        logKeepFiles = int("log.keep")
        let assets = string("assets.dir")
        assetsDirectory = assets.isEmpty ? nil : assets
        demo = bool("demo.enabled")
        backupIntervalHours = int("backup.interval_hours")
        backupKeep = int("backup.keep")
        let backupDir = string("backup.dir")
        backupDirectory = backupDir.isEmpty ? (dataDirectory as NSString).appendingPathComponent("backups") : backupDir
        sessionIdleMinutes = int("session.idle_minutes")
        sessionAbsoluteHours = int("session.absolute_hours")
        sessionSnapshotSeconds = int("session.snapshot_seconds")
        cacheMaxEntries = int("cache.max_entries")
        cacheMaxMiB = int("cache.max_mib")
        rateLimits = RateLimitSettings(
            enabled: bool("rate_limit.enabled"),
            publicPerMinute: int("rate_limit.public_per_minute"), publicBurst: int("rate_limit.public_burst"),
            formsPerMinute: int("rate_limit.forms_per_minute"), formsBurst: int("rate_limit.forms_burst"),
            loginPerMinute: int("rate_limit.login_per_minute"), loginBurst: int("rate_limit.login_burst"))
        mail = MailSettings(
            transport: MailSettings.TransportKind(rawValue: string("mail.transport")) ?? .file,
            fromAddress: string("mail.from_address"), fromName: string("mail.from_name"), ownerAddress: string("mail.owner_address"),
            sendmailPath: string("mail.sendmail_path"), smtpHost: string("mail.smtp_host"), smtpPort: int("mail.smtp_port"),
            smtpTLS: SMTPTransport.Security(rawValue: string("mail.smtp_tls")) ?? .startTLS,
            smtpUsername: string("mail.smtp_username"), smtpPassword: string("mail.smtp_password"), maxAttempts: int("mail.max_attempts"))
        mail.retryBaseSeconds = int("mail.retry_base_seconds")
        mail.visitorDailyLimit = int("mail.visitor_daily_limit")
        let templates = string("mail.templates_dir")
        mailTemplatesDirectory = templates.isEmpty ? nil : templates
        chat = ChatSettings(values: values)
        connections = ConnectionSettings(values: values)
        siteName = string("site.name")
        spam = SpamSettings(honeypotField: string("spam.honeypot_field"), minFillSeconds: int("spam.min_fill_seconds"),
                            requireFormToken: bool("spam.require_form_token"), proofOfWork: bool("spam.proof_of_work"),
                            proofOfWorkMaxNumber: int("spam.proof_of_work_max_number"))
        newsletter = NewsletterSettings(
            topics: list("newsletter.topics").map(NewsletterSettings.Topic.init(spec:)),
            consentText: string("newsletter.consent_text"), consentVersion: string("newsletter.consent_version"),
            pendingExpiryHours: int("newsletter.pending_expiry_hours"), resendMinutes: int("newsletter.resend_minutes"))
    }

    /// Checks that need more than a type: origins that are origins, a non-empty host.
    func semanticProblems(source: String) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        if host.isEmpty { problems.append(ConfigProblem(key: "server.host", source: source, reason: .invalid("must not be empty"))) }
        if dataDirectory.isEmpty { problems.append(ConfigProblem(key: "storage.data_dir", source: source, reason: .invalid("must not be empty"))) }
        for origin in siteOrigins where !Self.isOrigin(origin) {
            problems.append(ConfigProblem(key: "server.site_origins", source: source,
                                          reason: .invalid("has \"\(origin)\", which is not an origin like \"https://www.example.com\" (scheme, host and optional port; no path)")))
        }
        if !publicURL.isEmpty, URL(string: publicURL)?.host == nil || !(publicURL.hasPrefix("http://") || publicURL.hasPrefix("https://")) {
            problems.append(ConfigProblem(key: "server.public_url", source: source, reason: .invalid("must be an http:// or https:// URL, found \"\(publicURL)\"")))
        }
        problems += mail.problems(source: source)
        problems += chat.problems(source: source)
        problems += connections.problems(source: source)
        problems += TLSSettings.problems(self, source: source)
        if !FormDefinition.isValidName(spam.honeypotField) || FormDefinition.builtInNames.contains(spam.honeypotField) {
            problems.append(ConfigProblem(key: "spam.honeypot_field", source: source,
                                          reason: .invalid("must be a lower-case field name that no form uses, like \"website\"")))
        }
        for topic in newsletter.topics where !FormDefinition.isValidName(topic.id) {
            problems.append(ConfigProblem(key: "newsletter.topics", source: source,
                                          reason: .invalid("has the topic id \"\(topic.id)\"; ids are lower-case words like \"news\"")))
        }
        return problems
    }

    static func isOrigin(_ s: String) -> Bool {
        guard let url = URL(string: s), let scheme = url.scheme, scheme == "http" || scheme == "https", url.host != nil else { return false }
        return url.path.isEmpty && url.query == nil && url.fragment == nil
    }

    /// Reads a TOML file into setting values, collecting every unknown key and type error.
    static func readTOML(path: String, specs: [SettingSpec] = specs) -> ([String: SettingValue], [String: FormDefinition], [ConfigProblem]) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            return ([:], [:], [ConfigProblem(key: path, source: path, reason: .unreadable((error as NSError).localizedDescription))])
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            return ([:], [:], [ConfigProblem(key: path, source: path, reason: .syntax("TOML syntax error at line \(error.source.begin.line), column \(error.source.begin.column): \(error.description)"))])
        } catch {
            return ([:], [:], [ConfigProblem(key: path, source: path, reason: .syntax("TOML syntax error: \(error)"))])
        }
        var forms: [String: FormDefinition] = [:]
        var values: [String: SettingValue] = [:]
        var problems: [ConfigProblem] = []
        let specByKey = Dictionary(uniqueKeysWithValues: specs.map { ($0.key, $0) })
        let sections = Set(specs.map(\.section)).union(["forms"])
        for sectionName in table.keys.sorted() {
            if sectionName == "forms" {
                let (parsed, formProblems) = FormsTOML.read(table["forms"], path: path)
                forms = parsed
                problems += formProblems
                continue
            }
            guard sections.contains(sectionName), let section = table[sectionName]?.table else {
                problems.append(ConfigProblem(key: sectionName, source: path, reason: .unknownKey(suggestion: suggestion(for: sectionName, among: Array(sections)))))
                continue
            }
            for name in section.keys.sorted() {
                let key = "\(sectionName).\(name)"
                guard let spec = specByKey[key], let raw = section[name] else {
                    problems.append(ConfigProblem(key: key, source: path, reason: .unknownKey(suggestion: suggestion(for: key, among: specs.map(\.key)))))
                    continue
                }
                switch tomlValue(raw, spec: spec) {
                case .success(let value): values[key] = value
                case .failure(let reason): problems.append(ConfigProblem(key: key, source: path, reason: reason))
                }
            }
        }
        return (values, forms, problems)
    }

    static func tomlValue(_ raw: any TOMLValueConvertible, spec: SettingSpec) -> Result<SettingValue, ConfigProblem.Reason> {
        let found = "\(raw.type.description) \(raw.debugDescription)"
        switch spec.kind {
        case .string:
            guard let s = raw.string else { return .failure(.wrongType(expected: spec.kind.expectation, found: found)) }
            return .success(.string(s))
        case .integer:
            guard let i = raw.int else { return .failure(.wrongType(expected: spec.kind.expectation, found: found)) }
            return spec.parse(raw: String(i))
        case .boolean:
            guard let b = raw.bool else { return .failure(.wrongType(expected: spec.kind.expectation, found: found)) }
            return .success(.boolean(b))
        case .stringList:
            guard let array = raw.array else { return .failure(.wrongType(expected: spec.kind.expectation, found: found)) }
            var items: [String] = []
            for element in array {
                guard let s = element.string else { return .failure(.wrongType(expected: spec.kind.expectation, found: found)) }
                items.append(s)
            }
            return .success(.stringList(items))
        case .choice:
            guard let s = raw.string else { return .failure(.wrongType(expected: spec.kind.expectation, found: found)) }
            return spec.parse(raw: s)
        case .structured:
            guard let json = jsonValue(raw) else { return .failure(.wrongType(expected: spec.kind.expectation, found: found)) }
            guard let data = try? JSONEncoder.sorted.encode(json) else { return .failure(.wrongType(expected: spec.kind.expectation, found: found)) }
            return .success(.json(String(decoding: data, as: UTF8.self)))
        }
    }

    /// A TOML value as JSON: tables, arrays, strings, integers, booleans (no dates or floats).
    static func jsonValue(_ raw: any TOMLValueConvertible) -> JSONValue? {
        if let table = raw.table {
            var object: [String: JSONValue] = [:]
            for key in table.keys {
                guard let value = table[key], let converted = jsonValue(value) else { return nil }
                object[key] = converted
            }
            return .object(object)
        }
        if let array = raw.array {
            var items: [JSONValue] = []
            for element in array {
                guard let converted = jsonValue(element) else { return nil }
                items.append(converted)
            }
            return .array(items)
        }
        if let s = raw.string { return .string(s) }
        if let b = raw.bool { return .bool(b) }
        if let i = raw.int { return .number(Double(i)) }
        return nil
    }

    /// The closest known key within two edits, to turn a typo into a fix.
    static func suggestion(for key: String, among candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(key, $0)) }.filter { $0.1 <= 2 }
        return scored.min { $0.1 < $1.1 }?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// A TOML file documenting every setting with its default, each line commented out.
    /// The README's configuration table, one row per setting, made from the catalogue; a test
    /// keeps README.md equal to it (`frontdesk check-config --print-settings-table` prints it).
    package static func settingsTable(features: [SettingSpec] = []) -> String {
        var out = "| key | environment | default | meaning |\n|---|---|---|---|\n"
        for spec in catalogue(features) {
            let doc = spec.doc.replacingOccurrences(of: "|", with: "\\|")
            out += "| `\(spec.key)` | `\(spec.env)` | `\(spec.defaultValue.tomlLiteral)` | \(doc) |\n"
        }
        return out
    }

    package static func defaultsDocument(features: [SettingSpec] = []) -> String {
        let specs = catalogue(features)
        var out = """
        # Frontdesk configuration.
        # Precedence: command-line flags > environment (FRONTDESK_...) > this file > built-in defaults.
        # Every setting below shows its default; uncomment a line to change it.

        """
        var currentSection = ""
        for spec in specs {
            if spec.section != currentSection {
                currentSection = spec.section
                out += "\n[\(currentSection)]\n"
            }
            out += "# \(spec.doc)\n# Environment: \(spec.env)\n# \(spec.name) = \(spec.defaultValue.tomlLiteral)\n\n"
        }
        return out
    }
}
