import Foundation
import GRDB

/// The identifiers of one person across every feature: what a privacy request names (an e-mail,
/// an identified user id, a visitor id, a consent id, a ticket id) plus what the features' rows
/// link it to (a chat visitor who left an e-mail, the ticket made from that chat, …).
///
/// `PrivacyService` starts from what the request names and asks every `PersonalDataKind` to
/// `link` until nothing new is found, then exports or erases with the whole set.
package struct PrivacySubject: Sendable, Codable, Equatable {
    /// E-mail addresses, lower-cased.
    package var emails: Set<String> = []
    /// Ids the site passed to `frontdesk.identify` (chat's `user_id`).
    package var userIDs: Set<String> = []
    /// Ids a visitor's browser sent: the chat visitor id, the vote id, the persistent analytics id.
    package var visitors: Set<String> = []
    /// Consent ids (the banner's `frontdesk:consent`).
    package var consentIDs: Set<String> = []
    /// Support tickets about the person.
    package var ticketIDs: Set<Int64> = []
    /// Chat conversations the person had as a visitor.
    package var conversationIDs: Set<Int64> = []
    /// Console accounts (`users.id`) of the person.
    package var accountIDs: Set<Int64> = []
    /// Names the person gave (for the export's heading and the erasure's own check).
    package var names: Set<String> = []

    package init(emails: Set<String> = [], userIDs: Set<String> = [], visitors: Set<String> = [], consentIDs: Set<String> = [],
                 ticketIDs: Set<Int64> = [], conversationIDs: Set<Int64> = [], accountIDs: Set<Int64> = [], names: Set<String> = []) {
        self.emails = Set(emails.map { $0.lowercased() })
        self.userIDs = userIDs
        self.visitors = visitors
        self.consentIDs = consentIDs
        self.ticketIDs = ticketIDs
        self.conversationIDs = conversationIDs
        self.accountIDs = accountIDs
        self.names = names
    }

    /// Adds an e-mail address (lower-cased; empty ones ignored).
    package mutating func add(email: String?) {
        guard let email = email?.trimmingCharacters(in: .whitespaces).lowercased(), !email.isEmpty else { return }
        emails.insert(email)
    }

    /// Adds a name (trimmed; empty ones ignored).
    package mutating func add(name: String?) {
        guard let name = name?.trimmingCharacters(in: .whitespaces), !name.isEmpty else { return }
        names.insert(name)
    }

    /// Whether nothing identifies anybody.
    package var isEmpty: Bool {
        emails.isEmpty && userIDs.isEmpty && visitors.isEmpty && consentIDs.isEmpty && ticketIDs.isEmpty && conversationIDs.isEmpty && accountIDs.isEmpty
    }

    /// The identifiers only (names excluded): what `link` must stop growing.
    package var identifiers: [String] {
        emails.sorted() + userIDs.sorted().map { "u:" + $0 } + visitors.sorted().map { "v:" + $0 } + consentIDs.sorted().map { "c:" + $0 }
            + ticketIDs.sorted().map { "t:\($0)" } + conversationIDs.sorted().map { "chat:\($0)" } + accountIDs.sorted().map { "a:\($0)" }
    }
}

/// Which SQLite file a kind of personal data lives in.
package enum PrivacyDatabase: String, Sendable, Codable {
    /// `frontdesk.sqlite`: what people wrote.
    case main
    /// `analytics.sqlite`: visits and events.
    case analytics
}

/// What erasure does to a kind's rows, and why, for the command's report and the record of processing.
package enum ErasureRule: Sendable, Equatable {
    /// The rows are deleted.
    case delete
    /// The rows stay with every identifier and free text removed; `reason` says why they stay
    /// (a consent proof the site must keep, an aggregate count).
    case anonymise(reason: String)

    package var word: String {
        switch self {
        case .delete: return "deleted"
        case .anonymise: return "anonymised"
        }
    }
}

/// One kind of personal data a feature holds, declared by the feature's module
/// (`FeatureModule.personalData`). It is the only place that knows the kind's SQL for privacy:
/// how to find a person's rows, export them, erase or anonymise them, and sweep them when their
/// retention ends. Every method runs inside a transaction the caller opened on `database`'s file
/// (one per file for an erasure), so a kind never commits on its own.
package protocol PersonalDataKind: Sendable {
    /// Stable name, `<feature>.<kind>`: `inbox.contacts`, `chat.conversations`.
    var name: String { get }
    /// The file its tables live in.
    var database: PrivacyDatabase { get }
    /// The tables it reads and changes (the export's manifest lists them as searched).
    var tables: [String] { get }
    /// Why the data is held, one sentence for the record of processing (Art. 30).
    var purpose: String { get }
    /// Delete or anonymise.
    var erasure: ErasureRule { get }
    /// The retention setting in days (0 keeps rows until erased), or nil when the kind has none
    /// of its own (its rows go with the rows they belong to, or are short-lived by design).
    var retention: Setting<Int>? { get }

    /// Adds to `subject` what this kind's rows link it to (a chat's e-mail, a ticket's chat).
    /// Called repeatedly across all kinds until no kind adds anything.
    func link(_ subject: inout PrivacySubject, in db: Database) throws
    /// The subject's rows, by table, as JSON objects (secrets such as password hashes and access
    /// nonces left out).
    func export(_ subject: PrivacySubject, in db: Database) throws -> [String: [[String: JSONValue]]]
    /// Erases (or anonymises, per `erasure`) the subject's rows; the number of rows per table.
    func erase(_ subject: PrivacySubject, in db: Database, now: Date) throws -> [String: Int]
    /// Removes (or anonymises) at most `limit` rows whose retention ended before `cutoff`; how many.
    func sweep(before cutoff: Date, limit: Int, in db: Database, now: Date) throws -> Int
    /// Files outside the databases that hold the subject's data (the mail spool's `.eml` files):
    /// exported with their text and deleted after the erasure's transactions commit.
    func files(_ subject: PrivacySubject, in db: Database) throws -> [String]
}

extension PersonalDataKind {
    package var retention: Setting<Int>? { nil }
    package func link(_ subject: inout PrivacySubject, in db: Database) throws {}
    package func sweep(before cutoff: Date, limit: Int, in db: Database, now: Date) throws -> Int { 0 }
    package func files(_ subject: PrivacySubject, in db: Database) throws -> [String] { [] }
}

/// Helpers every kind uses: rows to JSON, and `IN (…)` lists.
package enum PersonalDataSQL {
    /// `(?, ?, ?)` for `count` values (`(NULL)` for none, which matches nothing).
    package static func placeholders(_ count: Int) -> String {
        count == 0 ? "(NULL)" : "(" + Array(repeating: "?", count: count).joined(separator: ", ") + ")"
    }

    /// The rows of `sql` as JSON objects, without the columns in `omitting`.
    package static func rows(_ db: Database, _ sql: String, _ arguments: [any DatabaseValueConvertible], omitting: Set<String> = []) throws -> [[String: JSONValue]] {
        try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { row in
            var object: [String: JSONValue] = [:]
            for column in row.columnNames where !omitting.contains(column) {
                object[column] = json(row[column] as DatabaseValue)
            }
            return object
        }
    }

    /// One SQLite value as JSON (blobs as UTF-8 text when they are, else base64).
    package static func json(_ value: DatabaseValue) -> JSONValue {
        switch value.storage {
        case .null: return .null
        case .int64(let i): return .number(Double(i))
        case .double(let d): return .number(d)
        case .string(let s): return .string(s)
        case .blob(let data): return .string(String(data: data, encoding: .utf8) ?? data.base64EncodedString())
        }
    }

    /// The lower-cased e-mails as arguments.
    package static func values<T: DatabaseValueConvertible & Comparable>(_ set: Set<T>) -> [any DatabaseValueConvertible] {
        set.sorted().map { $0 as any DatabaseValueConvertible }
    }
}
