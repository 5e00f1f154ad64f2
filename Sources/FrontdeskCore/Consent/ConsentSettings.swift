import Foundation

/// The consent feature's settings: `[consent]` and `[[consent.services]]` in the TOML file are
/// the banner's defaults (published as a version when they change); the console edits and
/// publishes on top of them.
package enum ConsentSettings {
    package static let maxAgeDays = Setting<Int>.integer(
        "consent.max_age_days", env: "FRONTDESK_CONSENT_MAX_AGE_DAYS", default: 365, range: 1...730,
        doc: "A visitor's consent expires this many days after it was given and the banner asks again.")
    package static let logRetentionDays = Setting<Int>.integer(
        "consent.log_retention_days", env: "FRONTDESK_CONSENT_LOG_RETENTION_DAYS", default: 1095, range: 30...3650,
        doc: "Proof-of-consent records older than this many days are deleted by the daily sweep (which logs how many). Keep it above consent.max_age_days plus the time you may have to prove a consent.")
    package static let categories = Setting<[String]>.list(
        "consent.categories", env: "FRONTDESK_CONSENT_CATEGORIES", default: ["functional", "analytics", "marketing"],
        doc: "Categories the banner offers besides necessary: any of functional, analytics, marketing.")
    package static let position = Setting<String>.choice(
        "consent.position", env: "FRONTDESK_CONSENT_POSITION", default: "bar", among: ConsentConfiguration.positions,
        doc: "Where the banner shows: \"bar\" (bottom bar), \"box\" (centred box) or \"corner\" (bottom-left corner).")
    package static let privacyPolicyURL = Setting<String>.string(
        "consent.privacy_policy_url", env: "FRONTDESK_CONSENT_PRIVACY_POLICY_URL", default: "/privacy",
        doc: "The site's privacy policy, linked from the banner (a path on the site or an http(s) URL).")
    package static let gpcRefusesAnalytics = Setting<Bool>.boolean(
        "consent.gpc_refuses_analytics", env: "FRONTDESK_CONSENT_GPC_REFUSES_ANALYTICS", default: false,
        doc: "Global Privacy Control always refuses marketing; with this it also refuses analytics.")
    package static let consentMode = Setting<String>.choice(
        "consent.consent_mode", env: "FRONTDESK_CONSENT_CONSENT_MODE", default: "auto", among: ConsentConfiguration.consentModes,
        doc: "Google Consent Mode v2: \"auto\" sends default and update when the page uses gtag or dataLayer, \"on\" always, \"off\" never.")
    package static let services = Setting<[ConsentService]>.structured(
        "consent.services", env: "FRONTDESK_CONSENT_SERVICES", shape: "an array of tables [[consent.services]] with id, name, category, provider, purpose, storage, retention",
        default: [], defaultJSON: "[]",
        doc: "The site's own services, each [[consent.services]] with id, name, category, provider, purpose, storage (array of cookie and storage names) and retention; listed under their category in the banner and the cookie declaration.") { text in
        try ConsentSettings.decodeServices(text)
    }
    package static let texts = Setting<[String: [String: JSONValue]]>.structured(
        "consent.texts", env: "FRONTDESK_CONSENT_TEXTS", shape: "a table per locale [consent.texts.<locale>] of texts",
        default: [:], defaultJSON: "{}",
        doc: "Banner texts replacing the built-in ones, per locale: [consent.texts.de] title = \"…\" (keys: title, body, acceptAll, rejectAll, customize, save, privacyLink, gpcNotice, placeholder, loadButton, settings, alwaysOn, provider, purpose, storage, retention; categories.<category>.name and .description).") { text in
        let overlays = try JSONDecoder().decode([String: [String: JSONValue]].self, from: Data(text.utf8))
        _ = try ConsentSettings.overlay(overlays, on: ConsentTexts.builtIn)
        return overlays
    }
    package static let consentModeMap = Setting<[String: [String]]>.structured(
        "consent.consent_mode_map", env: "FRONTDESK_CONSENT_CONSENT_MODE_MAP", shape: "a table of category = [Consent Mode storage types]",
        default: [:], defaultJSON: "{}",
        doc: "Which Google Consent Mode storage types each category grants, replacing the built-in mapping per category, e.g. analytics = [\"analytics_storage\"].") { text in
        let map = try JSONDecoder().decode([String: [String]].self, from: Data(text.utf8))
        var probe = ConsentConfiguration()
        probe.consentModeMap = map
        if let problem = probe.problems().first(where: { $0.key.hasPrefix("consentModeMap") }) { throw ConsentConfigError("\(problem.key): \(problem.value)") }
        return map
    }

    package static var all: [SettingSpec] {
        [maxAgeDays.spec, logRetentionDays.spec, categories.spec, position.spec, privacyPolicyURL.spec, gpcRefusesAnalytics.spec,
         consentMode.spec, services.spec, texts.spec, consentModeMap.spec]
    }

    /// The banner the configuration describes: what is published as a version when it changes.
    package static func defaults(_ config: FrontdeskConfig) -> ConsentConfiguration {
        var mode = ConsentConfiguration.defaultConsentModeMap
        mode.merge(config[consentModeMap]) { $1 }
        return ConsentConfiguration(
            categories: config[categories], services: ConsentService.frontdeskOwn + config[services],
            texts: (try? overlay(config[texts], on: ConsentTexts.builtIn)) ?? ConsentTexts.builtIn,
            position: config[position], privacyPolicyURL: config[privacyPolicyURL], gpcRefusesAnalytics: config[gpcRefusesAnalytics],
            consentMode: config[consentMode], consentModeMap: mode)
    }

    static func decodeServices(_ text: String) throws -> [ConsentService] {
        guard case .array(let items) = try JSONValue.parse(Data(text.utf8)) else { throw ConsentConfigError("must be an array of tables") }
        var services: [ConsentService] = []
        for (index, item) in items.enumerated() {
            guard case .object(let object) = item else { throw ConsentConfigError("[\(index)] must be a table") }
            let known: Set<String> = ["id", "name", "category", "provider", "purpose", "storage", "retention"]
            if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) { throw ConsentConfigError("[\(index)].\(unknown) is not a known key") }
            func string(_ key: String) throws -> String {
                guard case .string(let s)? = object[key] else { throw ConsentConfigError("[\(index)].\(key) is required and must be a string") }
                return s
            }
            var storage: [String] = []
            if let raw = object["storage"] {
                guard case .array(let names) = raw else { throw ConsentConfigError("[\(index)].storage must be an array of strings") }
                for name in names {
                    guard case .string(let s) = name else { throw ConsentConfigError("[\(index)].storage must be an array of strings") }
                    storage.append(s)
                }
            }
            let service = ConsentService(id: try string("id"), name: try string("name"), category: try string("category"), provider: try string("provider"),
                                         purpose: try string("purpose"), storage: storage, retention: try string("retention"))
            if let problem = service.problems().sorted(by: { $0.key < $1.key }).first { throw ConsentConfigError("[\(index)].\(problem.key) \(problem.value)") }
            services.append(service)
        }
        return services
    }

    /// The built-in texts with `overlays` (locale → field → text, `categories.<c>.name`) laid over them.
    package static func overlay(_ overlays: [String: [String: JSONValue]], on base: [String: ConsentTexts]) throws -> [String: ConsentTexts] {
        var result = base
        for (locale, fields) in overlays {
            guard let builtIn = base[locale] else { throw ConsentConfigError("\(locale) is not a locale; use " + ConsentConfiguration.locales.joined(separator: ", ")) }
            var json = try JSONValue.parse(try JSONEncoder().encode(builtIn))
            guard case .object(var object) = json else { continue }
            for (field, value) in fields {
                if field == "categories" {
                    guard case .object(let categories) = value, case .object(var existing)? = object["categories"] else { throw ConsentConfigError("\(locale).categories must be a table") }
                    for (category, text) in categories {
                        guard case .object(let parts) = text, case .object(var current)? = existing[category] else { throw ConsentConfigError("\(locale).categories.\(category) is not a category") }
                        for (part, partValue) in parts {
                            guard part == "name" || part == "description", case .string = partValue else { throw ConsentConfigError("\(locale).categories.\(category).\(part) must be name or description, a string") }
                            current[part] = partValue
                        }
                        existing[category] = .object(current)
                    }
                    object["categories"] = .object(existing)
                    continue
                }
                guard object[field] != nil else { throw ConsentConfigError("\(locale).\(field) is not a banner text") }
                guard case .string = value else { throw ConsentConfigError("\(locale).\(field) must be a string") }
                object[field] = value
            }
            json = .object(object)
            let texts = try JSONDecoder().decode(ConsentTexts.self, from: try JSONEncoder().encode(json))
            if let problem = texts.problems().sorted(by: { $0.key < $1.key }).first { throw ConsentConfigError("\(locale).\(problem.key) \(problem.value)") }
            result[locale] = texts
        }
        return result
    }
}

/// What is wrong with a structured consent setting, reported by configuration loading.
package struct ConsentConfigError: Error, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}
