import Foundation
import Synchronization

/// Spam defences without third parties, shared by every public form:
///
/// - a **honeypot** field, hidden from people, that bots fill in: such a post is answered as if it
///   was accepted and dropped, so the bot learns nothing;
/// - a **form token** issued with the form (HMAC-signed form id + issue time + nonce): a post sooner
///   than `minFillSeconds` after it is refused, each token is accepted once (a replay gets
///   `form_token_used`), and posts without one can be refused by configuration;
/// - an optional **proof of work**: a signed, expiring, single-use SHA-256 puzzle the widget solves
///   in the background (in the spirit of ALTCHA: find `n` with `sha256(salt + n) == challenge`).
///
/// The per-address rate limit is the `forms` class of the rate-limit middleware.
package final class FormGuard: Sendable {
    package enum Verdict: Sendable, Equatable {
        /// Looks like a person: store it.
        case accept
        /// The honeypot was filled: answer as if stored, store nothing.
        case discard
    }

    /// A puzzle for the browser.
    package struct Challenge: Sendable, Encodable, Equatable {
        package let algorithm: String
        package let challenge: String
        package let salt: String
        package let maxNumber: Int
        package let signature: String
    }

    /// The fields the guard reads and removes before a form's own fields are validated.
    package static let tokenField = "formToken"
    package static let proofField = "proofOfWork"

    let secret: Data
    package let settings: SpamSettings
    let now: @Sendable () -> Date
    /// Solved puzzles and accepted form tokens until they expire, so each is accepted once.
    /// In memory: a restart forgets them, which re-opens at most the tokens issued before it.
    private let spent = Mutex<[String: Date]>([:])
    static let challengeLifetime: TimeInterval = 600
    static let tokenLifetime: TimeInterval = 86_400

    package init(secret: Data, settings: SpamSettings, now: @escaping @Sendable () -> Date) {
        self.secret = secret
        self.settings = settings
        self.now = now
    }

    // MARK: Issuing

    /// `v2.<form>.<issued unix ms>.<nonce>.<hmac>`: proves when the form was handed out; the nonce
    /// keeps two tokens issued in the same millisecond apart, since each may be spent only once.
    package func issueToken(form: String) -> String {
        let payload = "v2.\(form).\(Int64(now().timeIntervalSince1970 * 1000)).\(Secrets.urlSafeToken(byteCount: 9))"
        return payload + "." + sign(payload)
    }

    package func issueChallenge() -> Challenge? {
        guard settings.proofOfWork else { return nil }
        let expires = Int64(now().timeIntervalSince1970 + Self.challengeLifetime)
        let salt = Secrets.urlSafeToken(byteCount: 12) + "?expires=\(expires)"
        let number = Int.random(in: 0...settings.proofOfWorkMaxNumber)
        let challenge = ContentDigest.sha256Hex(salt + String(number))
        return Challenge(algorithm: "SHA-256", challenge: challenge, salt: salt, maxNumber: settings.proofOfWorkMaxNumber,
                         signature: sign(challenge))
    }

    // MARK: Checking

    /// Checks the spam fields of `json` for `form` and returns the object without them.
    /// Throws a 422 naming the field when the token or the puzzle is wrong.
    package func screen(form: String, _ json: [String: JSONValue]) throws -> (Verdict, [String: JSONValue]) {
        var rest = json
        let honeypot = rest.removeValue(forKey: settings.honeypotField)
        let token = rest.removeValue(forKey: Self.tokenField)
        let proof = rest.removeValue(forKey: Self.proofField)
        switch honeypot {
        case nil, .null?, .string("")?: break
        case .string?: return (.discard, rest)
        case let other?:
            // The contract says string: anything else is a malformed post, not a bot to fool.
            throw FrontdeskError.validation([settings.honeypotField: "must be a string, not \(other.typeName)"])
        }
        let valid = try checkToken(token, form: form)
        if settings.proofOfWork {
            try checkProof(proof)
        } else {
            // Not asked for, so not checked — but the contract says object or null.
            switch proof {
            case nil, .null?, .object?: break
            case let other?: throw FrontdeskError.validation([Self.proofField: "must be an object or null, not \(other.typeName)"])
            }
        }
        // Spent last, so a post refused for its puzzle or as too fast may be sent again with it.
        if let valid { try spend(valid, form: form) }
        return (.accept, rest)
    }

    /// A checked form token, not yet spent.
    struct ValidToken {
        let signature: Substring
        let expires: Date
    }

    /// Checks signature, form, age and fill time; nil when there is no token (and none is required).
    func checkToken(_ raw: JSONValue?, form: String) throws -> ValidToken? {
        guard let raw, raw != .null else {
            if settings.requireFormToken {
                throw FrontdeskError.validation([Self.tokenField: "is required: load the form (GET /api/v1/forms/\(form)) and send its formToken"])
            }
            return nil
        }
        let parts: [Substring]
        if case .string(let token) = raw { parts = token.split(separator: ".", omittingEmptySubsequences: false) } else { parts = [] }
        guard parts.count == 5, parts[0] == "v2", let issuedMillis = Int64(parts[2]),
              Secrets.constantTimeEquals(Array(sign(parts[0..<4].joined(separator: ".")).utf8), Array(parts[4].utf8)) else {
            throw FrontdeskError.validation([Self.tokenField: "is not a form token this server issued; reload the form"])
        }
        guard parts[1] == form else {
            throw FrontdeskError.validation([Self.tokenField: "belongs to another form; reload the form"])
        }
        let age = now().timeIntervalSince1970 - Double(issuedMillis) / 1000
        if age > Self.tokenLifetime {
            throw FrontdeskError.validation([Self.tokenField: "has expired; reload the form"])
        }
        if age < Double(settings.minFillSeconds) {
            throw FrontdeskError(.validation, code: "submitted_too_fast",
                                 message: "The form was sent too quickly after it was shown. Please wait a moment and send it again.",
                                 details: [Self.tokenField: "sent \(max(0, Int(age))) s after the form was shown; at least \(settings.minFillSeconds) s are needed"])
        }
        return ValidToken(signature: parts[4], expires: Date(timeIntervalSince1970: Double(issuedMillis) / 1000 + Self.tokenLifetime))
    }

    /// Accepts a checked token once; a second post with it gets `form_token_used`.
    func spend(_ token: ValidToken, form: String) throws {
        guard spendOnce("token:" + token.signature, until: token.expires) else {
            throw FrontdeskError(.validation, code: "form_token_used",
                                 message: "This form token was already used. Load the form again (GET /api/v1/forms/\(form)) to send another.",
                                 details: [Self.tokenField: "was already used; reload the form"])
        }
    }

    func checkProof(_ raw: JSONValue?) throws {
        func fail(_ reason: String) -> FrontdeskError {
            FrontdeskError(.validation, code: "proof_of_work_failed", message: "The form's anti-spam check did not pass: \(reason)",
                           details: [Self.proofField: reason])
        }
        guard case .object(let proof)? = raw else { throw fail("it is missing; load the form again") }
        guard case .string(let salt)? = proof["salt"], case .string(let challenge)? = proof["challenge"],
              case .string(let signature)? = proof["signature"], case .number(let number)? = proof["number"],
              number >= 0, number == number.rounded() else {
            throw fail("it must have salt, challenge, signature (strings) and number (an integer)")
        }
        guard Secrets.constantTimeEquals(Array(sign(challenge).utf8), Array(signature.utf8)) else { throw fail("the challenge was not issued by this server") }
        guard let expires = salt.split(separator: "?expires=").last.flatMap({ Int64($0) }),
              Double(expires) > now().timeIntervalSince1970 else { throw fail("the challenge has expired; load the form again") }
        guard ContentDigest.sha256Hex(salt + String(Int(number))) == challenge else { throw fail("the solution is wrong") }
        guard spendOnce("pow:" + challenge, until: Date(timeIntervalSince1970: Double(expires))) else {
            throw fail("this challenge was already used; load the form again")
        }
    }

    /// Records `id` as spent until `expiry`; false when it already was. The one place that makes
    /// puzzles and form tokens single-use. Expired entries are dropped once the set grows large.
    private func spendOnce(_ id: String, until expiry: Date) -> Bool {
        spent.withLock { spent -> Bool in
            let current = now()
            if spent.count > 10_000 { spent = spent.filter { $0.value > current } }
            if spent[id] != nil { return false }
            spent[id] = expiry
            return true
        }
    }

    func sign(_ text: String) -> String {
        ContentDigest.hex(ContentDigest.hmacSHA256(text, key: secret))
    }
}

/// Per-install secrets kept in `app_settings`, created on first use.
package enum InstallSecret {
    /// 32 random bytes stored under `key`; the same bytes on every later call. Synchronous: called
    /// once at start-up, before the group-commit writer is busy.
    package static func load(_ key: String, database: AppDatabase, now: Date) throws -> Data {
        try database.writeDirectly { db in
            if let stored = try String.fetchOne(db, sql: "SELECT value FROM app_settings WHERE key = ?", arguments: [key]),
               let data = Data(base64Encoded: stored) {
                return data
            }
            var generator = SystemRandomNumberGenerator()
            let bytes = Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
            try db.execute(sql: "INSERT INTO app_settings(key, value, updated_at) VALUES (?, ?, ?)",
                           arguments: [key, bytes.base64EncodedString(), Timestamps.iso8601Milliseconds(now)])
            return bytes
        }
    }
}
