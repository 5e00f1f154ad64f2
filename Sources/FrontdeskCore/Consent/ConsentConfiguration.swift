import Foundation

/// The cookie-consent banner as a site owner configures it: which categories it offers, the
/// services under them, its texts in every visitor locale, its look, and how Google Consent
/// Mode and Global Privacy Control are treated. Published versions of it are evidence (what a
/// visitor was shown), so it is a plain value compared and hashed as a whole.
package struct ConsentConfiguration: Codable, Sendable, Equatable {
    /// The four categories, in the order the banner lists them; `necessary` is always on.
    package static let categories = ["necessary", "functional", "analytics", "marketing"]
    package static let locales = ["en", "de", "fr", "es", "it", "nl"]
    package static let positions = ["bar", "box", "corner"]
    package static let consentModes = ["auto", "on", "off"]
    /// Google Consent Mode v2 storage types an `update` may grant.
    package static let consentModeTypes = ["ad_storage", "ad_user_data", "ad_personalization", "analytics_storage",
                                           "functionality_storage", "personalization_storage", "security_storage"]

    /// Categories the banner offers besides `necessary` (those a site uses).
    package var categories: [String]
    package var services: [ConsentService]
    /// Texts per locale; every locale of `locales` is present after `resolved()`.
    package var texts: [String: ConsentTexts]
    /// `bar` (bottom bar), `box` (centred box) or `corner`.
    package var position: String
    package var privacyPolicyURL: String
    /// Global Privacy Control always refuses `marketing`; with this also `analytics`.
    package var gpcRefusesAnalytics: Bool
    /// `auto`: Consent Mode commands when the page has `gtag`/`dataLayer`; `on`; `off`.
    package var consentMode: String
    /// Category → the Consent Mode storage types it grants.
    package var consentModeMap: [String: [String]]

    package init(categories: [String] = ["functional", "analytics", "marketing"], services: [ConsentService] = ConsentService.frontdeskOwn,
                 texts: [String: ConsentTexts] = ConsentTexts.builtIn, position: String = "bar", privacyPolicyURL: String = "/privacy",
                 gpcRefusesAnalytics: Bool = false, consentMode: String = "auto", consentModeMap: [String: [String]] = Self.defaultConsentModeMap) {
        self.categories = categories
        self.services = services
        self.texts = texts
        self.position = position
        self.privacyPolicyURL = privacyPolicyURL
        self.gpcRefusesAnalytics = gpcRefusesAnalytics
        self.consentMode = consentMode
        self.consentModeMap = consentModeMap
    }

    package static let defaultConsentModeMap: [String: [String]] = [
        "necessary": ["security_storage"],
        "functional": ["functionality_storage", "personalization_storage"],
        "analytics": ["analytics_storage"],
        "marketing": ["ad_storage", "ad_user_data", "ad_personalization"],
    ]

    /// Every category a visitor can be asked about, `necessary` first.
    package var offered: [String] { ["necessary"] + Self.categories.dropFirst().filter { categories.contains($0) } }

    /// The purposes a consent covers: each offered category and each service. A version that adds
    /// one of these asks again everyone whose consent predates it.
    package var purposes: Set<String> {
        Set(offered.map { "category:\($0)" } + services.map { "service:\($0.id)" })
    }

    /// The texts of `locale`: the built-in ones overlaid with the configured ones.
    package func texts(for locale: String) -> ConsentTexts {
        texts[locale] ?? ConsentTexts.builtIn[locale] ?? ConsentTexts.builtIn["en"]!
    }

    /// What the banner shows in `locale`, as the exact JSON text the widget renders and hashes.
    /// Keys sorted, so the same configuration always gives the same bytes.
    package func shownDocument(locale: String) -> String {
        let shown = ShownTexts(locale: locale, texts: texts(for: locale), categories: offered,
                               services: services.filter { offered.contains($0.category) }, privacyPolicyURL: privacyPolicyURL)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(shown)) ?? Data(), as: UTF8.self)
    }

    /// SHA-256 (hex) of `shownDocument(locale:)`: what a consent record proves was shown.
    package func textHash(locale: String) -> String { ContentDigest.sha256Hex(shownDocument(locale: locale)) }

    /// Every locale's text hash.
    package var textHashes: [String: String] {
        Dictionary(uniqueKeysWithValues: Self.locales.map { ($0, textHash(locale: $0)) })
    }

    /// Every problem with the configuration, by field path (`services[1].category`); empty when valid.
    package func problems() -> [String: String] {
        var problems: [String: String] = [:]
        for (index, category) in categories.enumerated() where !Self.categories.dropFirst().contains(category) {
            problems["categories[\(index)]"] = "must be one of functional, analytics, marketing, not \"\(category)\""
        }
        if Set(categories).count != categories.count { problems["categories"] = "must not repeat a category" }
        var ids: Set<String> = []
        for (index, service) in services.enumerated() {
            for (field, problem) in service.problems() { problems["services[\(index)].\(field)"] = problem }
            if !ids.insert(service.id).inserted { problems["services[\(index)].id"] = "\"\(service.id)\" is already a service" }
        }
        if services.count > 50 { problems["services"] = "must have at most 50 services" }
        for locale in texts.keys where !Self.locales.contains(locale) {
            problems["texts.\(locale)"] = "is not a locale; use " + Self.locales.joined(separator: ", ")
        }
        for (locale, text) in texts { for (field, problem) in text.problems() { problems["texts.\(locale).\(field)"] = problem } }
        if !Self.positions.contains(position) { problems["position"] = "must be bar, box or corner" }
        let url = privacyPolicyURL.unicodeScalars
        if url.isEmpty || url.count > 500 || !(privacyPolicyURL.hasPrefix("/") || privacyPolicyURL.hasPrefix("https://")
            || privacyPolicyURL.hasPrefix("http://")) || url.contains(where: { " \t\n\u{0B}\u{0C}\r".unicodeScalars.contains($0) }) {
            problems["privacyPolicyURL"] = "must be a path like /privacy or an http(s) URL (at most 500 characters)"
        }
        if !Self.consentModes.contains(consentMode) { problems["consentMode"] = "must be auto, on or off" }
        for (category, types) in consentModeMap {
            if !Self.categories.contains(category) { problems["consentModeMap.\(category)"] = "is not a category" }
            for type in types where !Self.consentModeTypes.contains(type) {
                problems["consentModeMap.\(category)"] = "has \"\(type)\", which is not a Consent Mode storage type"
            }
        }
        return problems
    }
}

/// One third-party or own service under a category, as the banner and the cookie declaration list it.
package struct ConsentService: Codable, Sendable, Equatable {
    package var id: String
    package var name: String
    package var category: String
    package var provider: String
    package var purpose: String
    /// Cookies and storage keys the service sets.
    package var storage: [String]
    /// How long they are kept, as shown ("1 year", "session").
    package var retention: String

    package init(id: String, name: String, category: String, provider: String, purpose: String, storage: [String], retention: String) {
        self.id = id
        self.name = name
        self.category = category
        self.provider = provider
        self.purpose = purpose
        self.storage = storage
        self.retention = retention
    }

    /// Frontdesk's own storage, declared so the cookie declaration lists every key it uses.
    package static let frontdeskOwn: [ConsentService] = [
        ConsentService(id: "frontdesk-consent", name: "Consent choice", category: "necessary", provider: "this site (Frontdesk)",
                       purpose: "Remembers your cookie choice and its consent id.", storage: ["localStorage frontdesk:consent"], retention: "until it expires (consent.max_age_days)"),
        ConsentService(id: "frontdesk-chat", name: "Live chat", category: "functional", provider: "this site (Frontdesk)",
                       purpose: "Keeps your chat conversation across pages.", storage: ["localStorage frontdesk:chat"], retention: "until you clear it"),
    ]

    static func isValidID(_ id: String) -> Bool {
        (1...40).contains(id.unicodeScalars.count) && id.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    func problems() -> [String: String] {
        var problems: [String: String] = [:]
        if !Self.isValidID(id) { problems["id"] = "must be 1 to 40 lower-case letters, digits, - or _" }
        if !ConsentConfiguration.categories.contains(category) { problems["category"] = "must be necessary, functional, analytics or marketing" }
        for (field, value, limit) in [("name", name, 80), ("provider", provider, 120), ("purpose", purpose, 500), ("retention", retention, 120)] {
            if value.isEmpty || value.unicodeScalars.count > limit { problems[field] = "must be 1 to \(limit) characters" }
        }
        if storage.count > 20 || storage.contains(where: { $0.isEmpty || $0.unicodeScalars.count > 120 }) { problems["storage"] = "must be at most 20 names of 1 to 120 characters" }
        return problems
    }
}

/// What one locale's banner says.
package struct ConsentTexts: Codable, Sendable, Equatable {
    package var title: String
    package var body: String
    package var acceptAll: String
    package var rejectAll: String
    package var customize: String
    package var save: String
    package var privacyLink: String
    /// Shown when the browser sends Global Privacy Control.
    package var gpcNotice: String
    /// The placeholder of an embed that waits for consent; `{category}` is replaced.
    package var placeholder: String
    package var loadButton: String
    package var settings: String
    package var alwaysOn: String
    package var provider: String
    package var purpose: String
    package var storage: String
    package var retention: String
    /// Name and description of each category.
    package var categories: [String: CategoryText]

    package struct CategoryText: Codable, Sendable, Equatable {
        package var name: String
        package var description: String
    }

    static let limits: [String: Int] = ["title": 120, "body": 2_000, "gpcNotice": 300, "placeholder": 300]

    func problems() -> [String: String] {
        var problems: [String: String] = [:]
        let fields = [("title", title), ("body", body), ("acceptAll", acceptAll), ("rejectAll", rejectAll), ("customize", customize), ("save", save),
                      ("privacyLink", privacyLink), ("gpcNotice", gpcNotice), ("placeholder", placeholder), ("loadButton", loadButton),
                      ("settings", settings), ("alwaysOn", alwaysOn), ("provider", provider), ("purpose", purpose), ("storage", storage), ("retention", retention)]
        for (field, value) in fields {
            let limit = Self.limits[field] ?? 60
            if value.isEmpty || value.unicodeScalars.count > limit { problems[field] = "must be 1 to \(limit) characters" }
        }
        for category in ConsentConfiguration.categories {
            guard let text = categories[category] else { problems["categories.\(category)"] = "is required"; continue }
            if text.name.isEmpty || text.name.unicodeScalars.count > 60 { problems["categories.\(category).name"] = "must be 1 to 60 characters" }
            if text.description.isEmpty || text.description.unicodeScalars.count > 500 { problems["categories.\(category).description"] = "must be 1 to 500 characters" }
        }
        for key in categories.keys where !ConsentConfiguration.categories.contains(key) { problems["categories.\(key)"] = "is not a category" }
        return problems
    }
}

/// The hashed document: exactly what the banner shows in one locale.
struct ShownTexts: Codable {
    let locale: String
    let texts: ConsentTexts
    let categories: [String]
    let services: [ConsentService]
    let privacyPolicyURL: String
}
