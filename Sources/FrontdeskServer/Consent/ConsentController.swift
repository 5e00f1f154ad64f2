import FrontdeskCore
import Foundation
import HTTPTypes
import Hummingbird
import Metrics
import NIOCore

/// The visitor side of consent:
/// - `GET /api/v1/consent/config?locale=` — the published banner in one locale, with the exact
///   document the widget renders and hashes (strong ETag, revalidated after a minute);
/// - `POST /api/v1/consents` — one proof of consent, 201 after commit (the `forms` rate class).
///   Refused with 422 and counted in `/metrics` (`frontdesk_consent_refused_total{reason}`) when
///   the version does not exist, the hash is not that of the texts it showed, a category was not
///   offered, or the action contradicts the categories.
struct ConsentController: Sendable {
    let banner: ConsentBanner
    let maxAgeDays: Int
    let metrics: any MetricsFactory
    let now: @Sendable () -> Date

    /// What the widget needs to show the banner in one locale.
    struct ConfigView: Encodable {
        let version: Int
        let promptSince: Int
        let maxAgeDays: Int
        let locale: String
        let position: String
        let consentMode: String
        let consentModeMap: [String: [String]]
        let gpcRefusesAnalytics: Bool
        let categories: [String]
        /// SHA-256 of `document`.
        let hash: String
        /// The JSON text of what the banner shows (texts, categories, services, privacy link).
        let document: String
    }

    struct RecordView: Encodable {
        let consentId: String
        let recordId: Int64
        let action: String
        let granted: [String]
        let denied: [String]
        let version: Int
        let hash: String
        let createdAt: String
    }

    static func locale(_ raw: String?) throws -> String {
        guard let raw else { return "en" }
        guard ConsentConfiguration.locales.contains(raw) else {
            throw FrontdeskError.validation(["locale": "must be one of " + ConsentConfiguration.locales.joined(separator: ", ")])
        }
        return raw
    }

    func addRoutes(to routes: Routes) {
        let refused = Dictionary(uniqueKeysWithValues: ConsentStore.Refusal.allCases.map {
            ($0.rawValue, Counter(label: "frontdesk_consent_refused_total", dimensions: [("reason", $0.rawValue)], factory: metrics))
        })
        let invalid = Counter(label: "frontdesk_consent_refused_total", dimensions: [("reason", "validation_failed")], factory: metrics)
        let accepted = Counter(label: "frontdesk_consent_records_total", dimensions: [], factory: metrics)

        routes.publicAPI.get("/consent/config") { request, _ in
            let query = request.queryDictionary
            if let unknown = query.keys.sorted().first(where: { $0 != "locale" }) {
                throw FrontdeskError.validation([unknown: "is not a known parameter"])
            }
            let locale = try Self.locale(query["locale"])
            let version = try await banner.current()
            let etag = "\"consent-\(version.version)-\(locale)\""
            var headers = HTTPFields()
            headers[.eTag] = etag
            headers[.cacheControl] = "public, max-age=60"
            if ETagMatch.notModified(request, etag: etag) {
                return Response(status: .notModified, headers: headers)
            }
            let configuration = version.configuration
            let document = configuration.shownDocument(locale: locale)
            return try Response.json(ConfigView(version: version.version, promptSince: version.promptSince, maxAgeDays: maxAgeDays, locale: locale,
                                                position: configuration.position, consentMode: configuration.consentMode,
                                                consentModeMap: configuration.consentModeMap, gpcRefusesAnalytics: configuration.gpcRefusesAnalytics,
                                                categories: configuration.offered, hash: ContentDigest.sha256Hex(document), document: document), headers: headers)
        }

        routes.publicForms.post("/consents") { request, context in
            let consent: NewConsent
            do {
                consent = try Self.parse(try await request.jsonObject(context: context), secGPC: request.headers[HTTPField.Name("Sec-GPC")!] == "1")
            } catch let error as FrontdeskError where error.kind == .validation {
                invalid.increment()
                throw error
            }
            _ = try await banner.current()
            let record: ConsentRecord
            do {
                record = try await banner.store.record(consent, clientNetwork: ClientAddress.truncated(context.clientAddress),
                                                       browserFamily: UserAgentFacts.parse(request.headers[.userAgent] ?? "").browser, now: now())
            } catch let error as FrontdeskError where error.kind == .validation {
                (refused[error.code] ?? invalid).increment()
                throw error
            }
            accepted.increment()
            context.logger.info("consent recorded", metadata: ["record_id": "\(record.id)", "action": "\(record.action)", "version": "\(record.policyVersion)"])
            return try Response.json(RecordView(consentId: record.consentID, recordId: record.id, action: record.action,
                                                granted: record.granted.split(separator: ",").map(String.init),
                                                denied: record.denied.split(separator: ",").map(String.init), version: record.policyVersion,
                                                hash: record.textHash, createdAt: record.createdAt), status: .created)
        }
    }

    /// The post's fields, every problem named at once. Read exactly as sent (no trimming, null
    /// is not absent): these are machine values, and the schema says so.
    static func parse(_ json: [String: JSONValue], secGPC: Bool) throws -> NewConsent {
        var reader = FieldReader(json, allowed: ["consentId", "action", "granted", "version", "hash", "locale", "pagePath", "gpc"])
        func exact(_ key: String, required: Bool) -> String? {
            switch json[key] {
            case nil: if required { reader.fail(key, "is required") }; return nil
            case .string(let s)?: return s
            case let other?: reader.fail(key, "must be a string, not \(other.typeName)"); return nil
            }
        }
        let consentID = exact("consentId", required: false)
        if let consentID, !(16...64).contains(consentID.unicodeScalars.count)
            || !consentID.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") }) {
            reader.fail("consentId", "must be 16 to 64 letters, digits, - or _ (the id the first answer gave)")
        }
        let action = exact("action", required: true)
        if let action, !NewConsent.actions.contains(action) { reader.fail("action", "must be one of " + NewConsent.actions.joined(separator: ", ")) }
        var granted: [String] = []
        switch json["granted"] {
        case .array(let items)?:
            for item in items {
                guard case .string(let s) = item, ConsentConfiguration.categories.contains(s) else {
                    reader.fail("granted", "must list categories among necessary, functional, analytics, marketing"); break
                }
                if granted.contains(s) { reader.fail("granted", "must not repeat a category") } else { granted.append(s) }
            }
        case nil: reader.fail("granted", "is required")
        case let other?: reader.fail("granted", "must be an array of categories, not \(other.typeName)")
        }
        var version = 0
        switch json["version"] {
        case .number(let n)? where n >= 1 && n <= 1_000_000_000 && n.rounded() == n: version = Int(n)
        case nil: reader.fail("version", "is required")
        default: reader.fail("version", "must be a whole number of at least 1")
        }
        let hash = exact("hash", required: true)
        if let hash, hash.unicodeScalars.count != 64 || !hash.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || ("a"..."f").contains($0) }) {
            reader.fail("hash", "must be 64 lower-case hex digits (SHA-256)")
        }
        let locale = exact("locale", required: true)
        if let locale, !ConsentConfiguration.locales.contains(locale) { reader.fail("locale", "must be one of " + ConsentConfiguration.locales.joined(separator: ", ")) }
        var pagePath = exact("pagePath", required: false) ?? "/"
        if !pagePath.hasPrefix("/") || pagePath.unicodeScalars.count > 512 || pagePath.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" }) {
            reader.fail("pagePath", "must be a path starting with / (one line, at most 512 characters)")
        }
        // The path only: a query or fragment may carry personal data.
        if let cut = pagePath.firstIndex(where: { $0 == "?" || $0 == "#" }) { pagePath = String(pagePath[..<cut]) }
        var gpc = secGPC
        switch json["gpc"] {
        case .bool(let b)?: gpc = gpc || b
        case nil: break
        default: reader.fail("gpc", "must be true or false")
        }
        try reader.validate()
        return NewConsent(consentID: consentID, action: action ?? "", granted: granted, version: version, textHash: hash ?? "", locale: locale ?? "",
                          pagePath: pagePath, gpc: gpc)
    }
}
