/// Words a visitor uses for what an FAQ says in other words, in English and German: a query
/// term from a group also matches the group's other words. Generic support and shop vocabulary;
/// one group per line, lower case, diacritics folded (the index folds them too).
///
/// This list was written while looking at the misses of the relevance fixture
/// (`FAQRelevanceFixture`), so the fixture's figure with it is optimistic; the held-out queries
/// in the same test were written after the list was fixed and measure it fairly.
enum FAQSynonyms {
    static let groups: [[String]] = [
        ["parcel", "package", "packet", "shipment", "box", "paket", "sendung"],
        ["ship", "shipping", "delivery", "deliver", "postage", "dispatch", "versand", "lieferung", "liefern"],
        ["cost", "price", "fee", "fees", "charge", "kosten", "preis", "gebuhr"],
        ["return", "returns", "ruecksendung", "rucksendung", "retoure", "zurucksenden"],
        ["refund", "reimburse", "reimbursement", "money", "erstattung", "geld"],
        ["delete", "remove", "close", "erase", "loschen", "entfernen"],
        ["account", "profile", "konto", "kundenkonto"],
        ["password", "login", "signin", "passwort", "kennwort"],
        ["shop", "store", "showroom", "boutique", "laden", "geschaft", "filiale"],
        ["damaged", "broken", "defect", "defective", "beschadigt", "kaputt"],
        ["repair", "fix", "mend", "reparatur", "reparieren"],
        ["discount", "coupon", "voucher", "promo", "rabatt", "gutschein"],
        ["tax", "taxes", "vat", "duty", "duties", "customs", "import", "zoll", "steuer", "mwst"],
        ["contact", "talk", "call", "phone", "telephone", "hotline", "reach", "kontakt", "anrufen", "telefon"],
        ["support", "service", "help", "agent", "human", "hilfe", "kundendienst"],
        ["app", "application", "mobile"],
        ["website", "site", "webseite", "homepage"],
        ["review", "feedback", "rating", "bewertung", "rezension"],
        ["charity", "donate", "donation", "causes", "spende", "spenden"],
        ["job", "jobs", "career", "careers", "hiring", "vacancy", "stelle", "stellen"],
        ["wholesale", "bulk", "b2b", "reseller", "grosshandel", "handler"],
        ["student", "students", "university", "college", "studenten", "studierende"],
        ["made", "produce", "manufacture", "manufacturing", "factory", "factories", "origin", "hergestellt", "produziert"],
        ["size", "sizes", "fit", "grosse"],
        ["cancel", "cancellation", "stornieren", "stornierung"],
        ["wash", "washing", "laundry", "clean", "care", "waschen", "pflege"],
        ["newsletter", "mailing", "subscribe", "abonnieren"],
        ["unsubscribe", "optout", "abmelden", "abbestellen"],
        ["privacy", "data", "gdpr", "dsgvo", "datenschutz"],
        ["invoice", "bill", "receipt", "rechnung", "quittung"],
        ["sustainable", "eco", "organic", "green", "recycled", "nachhaltig"],
        ["children", "child", "kids", "kid", "baby", "babies", "kinder"],
        ["collect", "pickup", "abholen", "abholung"],
        ["express", "fast", "quick", "urgent", "schnell"],
        ["warranty", "guarantee", "garantie", "gewahrleistung"],
        ["missing", "lost", "fehlt", "verloren"],
        ["abroad", "international", "internationally", "overseas", "ausland"],
        ["track", "tracking", "trace", "sendungsverfolgung"],
        ["hours", "opening", "open", "offnungszeiten"],
        ["declined", "refused", "rejected", "failed", "abgelehnt"],
    ]

    /// Group index by word (and by the word's stem, so `deliveries` finds its group).
    static let groupIndex: [String: Int] = {
        var index: [String: Int] = [:]
        for (i, group) in groups.enumerated() {
            for word in group where index[word] == nil { index[word] = i }
        }
        // Stems second, so a word listed in a group keeps that group (`ship` is not `shipment`'s).
        for (i, group) in groups.enumerated() {
            for word in group where index[FAQStore.stem(word)] == nil { index[FAQStore.stem(word)] = i }
        }
        return index
    }()
}
