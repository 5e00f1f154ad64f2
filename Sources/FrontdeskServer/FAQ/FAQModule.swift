import FrontdeskCore
import Foundation
import Hummingbird

/// The FAQ's settings, declared once.
enum FAQSettings {
    static let defaultLocale = Setting<String>.string("faq.default_locale", env: "FRONTDESK_FAQ_DEFAULT_LOCALE", default: "en",
                                                      doc: "The FAQ locale served when a request names none.")
}

/// The FAQ: the public list, search, JSON-LD, votes and events, and the console's editor API.
struct FAQModule: FeatureModule {
    static var settings: [SettingSpec] { [FAQSettings.defaultLocale.spec] }
    static var migrations: [SchemaMigration] { FAQStore.migrations }
    let context: FeatureContext
    init(_ context: FeatureContext) { self.context = context }
    var personalData: [any PersonalDataKind] { [FAQPersonalData(store: FAQStore(database: context.runtime.database, secret: context.runtime.ticketSecret))] }

    func addRoutes(to routes: Routes) {
        let runtime = context.runtime
        let store = FAQStore(database: runtime.database, secret: runtime.ticketSecret)
        let cache = ReadThrough(cache: runtime.state.cache)
        FAQController(store: store, cache: cache, defaultLocale: runtime.config[FAQSettings.defaultLocale], now: runtime.now).addRoutes(to: routes)
        FAQAdminController(store: store, cache: cache, now: runtime.now).addRoutes(to: routes)
    }

    /// A bakery's FAQ: two categories, five published entries and a draft.
    func seedDemo(now: Date) async throws {
        let store = FAQStore(database: context.runtime.database, secret: context.runtime.ticketSecret)
        let orders = try await store.createCategory(FAQCategoryInput(name: "Orders"), now: now)
        let visiting = try await store.createCategory(FAQCategoryInput(name: "Visiting us"), now: now)
        let entries: [(String, String, Int64?, String)] = [
            ("How early do I need to order a cake?", "Order **at least 5 days** ahead; wedding cakes 4 weeks ahead.", orders.id, "published"),
            ("Do you deliver?", "Yes, within 10 km for 5 €. Free for orders over 60 €.", orders.id, "published"),
            ("Which breads are gluten-free?", "Our *buckwheat loaf* and the rice rolls. See [allergens](/allergens).", orders.id, "published"),
            ("When are you open?", "Monday to Saturday, 7:00–18:00.\n\n- Sunday: 8:00–12:00\n- Holidays: closed", visiting.id, "published"),
            ("Can I park near the bakery?", "There are free spaces behind the shop.", visiting.id, "published"),
            ("Do you run baking classes?", "Not yet — we are planning them.", visiting.id, "draft"),
        ]
        for (question, answer, category, status) in entries {
            _ = try await store.createEntry(FAQEntryInput(question: question, answer: answer, categoryID: .some(category), status: status), now: now)
        }
    }
}

/// The visitor's side of the FAQ:
/// - `GET /api/v1/faq` (published entries with categories; ETag, cached until an edit),
/// - `GET /api/v1/faq/search?q=` (best matches, snippets with `<mark>`, everything else escaped),
/// - `GET /api/v1/faq.jsonld` (schema.org `FAQPage`),
/// - `POST /api/v1/faq/{id}/votes` (one helpful yes/no per visitor per entry, `forms` rate class),
/// - `POST /api/v1/faq/{id}/events` (a view, or a deflection from the chat's suggestions).
struct FAQController: Sendable {
    let store: FAQStore
    let cache: ReadThrough
    let defaultLocale: String
    let now: @Sendable () -> Date

    /// Cached reads live this long at most; every edit drops them at once anyway.
    static let ttl: Duration = .seconds(600)

    /// `FAQPage` as Google's FAQ rich results read it: every Question with its accepted Answer.
    struct FAQPage: Encodable {
        struct Answer: Encodable {
            let type = "Answer"
            let text: String
            enum CodingKeys: String, CodingKey { case type = "@type", text }
        }
        struct Question: Encodable {
            let type = "Question"
            let name: String
            let acceptedAnswer: Answer
            enum CodingKeys: String, CodingKey { case type = "@type", name, acceptedAnswer }
        }
        let context = "https://schema.org"
        let type = "FAQPage"
        let mainEntity: [Question]
        enum CodingKeys: String, CodingKey { case context = "@context", type = "@type", mainEntity }

        init(_ listing: FAQListing) {
            mainEntity = listing.entries.map { Question(name: $0.question, acceptedAnswer: Answer(text: $0.answerHtml)) }
        }
    }

    struct SearchResults: Encodable {
        let query: String
        let locale: String
        let results: [FAQSearchHit]
    }

    struct Voted: Encodable {
        let entryId: Int64
        let helpful: Bool
    }

    func addRoutes(to routes: Routes) {
        routes.publicAPI.get("/faq") { request, _ in
            var query = QueryReader(request, allowed: ["locale", "category"])
            let locale = locale(&query)
            let category = query.text("category", maxLength: FAQLimits.slug)
            if let category, !FAQLimits.isSlug(category) { query.fail("category", "must be a category slug (lower-case letters, digits, -)") }
            try query.validate()
            let cached = try await cache.value("faq:list:\(locale):\(category ?? "")", ttl: Self.ttl, cost: 4096) {
                try CachedJSON(try await store.publishedListing(locale: locale, category: category))
            }
            return cached.response(to: request)
        }
        routes.publicAPI.get("/faq.jsonld") { request, _ in
            var query = QueryReader(request, allowed: ["locale"])
            let locale = locale(&query)
            try query.validate()
            let cached = try await cache.value("faq:jsonld:\(locale)", ttl: Self.ttl, cost: 4096) {
                try CachedJSON(FAQPage(try await store.publishedListing(locale: locale, category: nil)), contentType: "application/ld+json; charset=utf-8")
            }
            return cached.response(to: request)
        }
        routes.publicAPI.get("/faq/search") { request, _ in
            var query = QueryReader(request, allowed: ["q", "locale", "limit"])
            let locale = locale(&query)
            let limit = query.integer("limit", in: 1...10, default: 5)
            let text = query.text("q", maxLength: FAQLimits.query)
            if query.parameters["q"] == nil { query.fail("q", "is required: the words to search for") }
            else if text?.isEmpty == true { query.fail("q", "must not be empty") }
            try query.validate()
            let q = text ?? ""
            let hits = try await store.search(q, locale: locale, limit: limit)
            if hits.isEmpty, !FAQStore.terms(q).isEmpty { try await store.recordGap(query: q, locale: locale, now: now()) }
            var response = try Response.json(SearchResults(query: q, locale: locale, results: hits))
            response.headers[.cacheControl] = "no-store"
            return response
        }
        routes.publicForms.post("/faq/:id/votes") { request, context in
            let id = try entryID(context)
            let json = try await request.jsonObject(context: context)
            var reader = FieldReader(json, allowed: ["visitorId", "helpful"])
            let visitor = VisitorVote.visitorId(&reader)
            var helpful = false
            switch json["helpful"] {
            case .bool(let b)?: helpful = b
            case nil, .null?: reader.fail("helpful", "is required (true or false)")
            case let other?: reader.fail("helpful", "must be true or false, not \(other.typeName)")
            }
            try reader.validate()
            switch try await store.vote(entryID: id, visitor: visitor ?? "", helpful: helpful, now: now()) {
            case .counted: return try Response.json(Voted(entryId: id, helpful: helpful), status: .created)
            case .alreadyVoted: throw VisitorVote.alreadyVoted("entry")
            }
        }
        routes.publicAPI.post("/faq/:id/events") { request, context in
            let id = try entryID(context)
            let json = try await request.jsonObject(context: context)
            var reader = FieldReader(json, allowed: ["type"])
            let type = reader.text("type", required: true, maxLength: 20)
            let event = type.flatMap(FAQStore.Event.init(rawValue:))
            if type != nil, event == nil { reader.fail("type", "must be view or deflection") }
            try reader.validate()
            try await store.record(event!, entryID: id)
            return Response(status: .noContent)
        }
    }

    func locale(_ query: inout QueryReader) -> String {
        guard let raw = query.text("locale", maxLength: 10) else { return defaultLocale }
        guard FAQLimits.isLocale(raw) else { query.fail("locale", "must be a language tag like en, de or pt-BR"); return defaultLocale }
        return raw
    }

    func entryID(_ context: AppRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("id").flatMap(Int64.init), id > 0 else { throw FrontdeskError.notFound("The FAQ entry") }
        return id
    }
}

/// The console's FAQ API: categories, entries (drafts included), order, preview and statistics.
/// Every change drops the cached public reads (`faq:*`).
struct FAQAdminController: Sendable {
    let store: FAQStore
    let cache: ReadThrough
    let now: @Sendable () -> Date

    struct CategoryView: Encodable {
        let id: Int64
        let slug: String
        let name: String
        let position: Int
        let createdAt: String
        let updatedAt: String

        init(_ c: FAQCategory) {
            id = c.id ?? 0; slug = c.slug; name = c.name; position = c.position; createdAt = c.createdAt; updatedAt = c.updatedAt
        }
    }

    struct EntryView: Encodable {
        let id: Int64
        let categoryId: Int64?
        let locale: String
        let slug: String
        let question: String
        let answer: String
        let answerHtml: String
        let status: String
        let position: Int
        let views: Int
        let helpfulYes: Int
        let helpfulNo: Int
        let deflections: Int
        let createdAt: String
        let updatedAt: String
        let publishedAt: String?

        init(_ e: FAQEntry) {
            id = e.id ?? 0; categoryId = e.categoryID; locale = e.locale; slug = e.slug; question = e.question; answer = e.answerMarkdown
            answerHtml = e.answerHTML; status = e.status; position = e.position; views = e.views; helpfulYes = e.helpfulYes; helpfulNo = e.helpfulNo
            deflections = e.deflections; createdAt = e.createdAt; updatedAt = e.updatedAt; publishedAt = e.publishedAt
        }
    }

    struct Preview: Encodable {
        let html: String
    }

    func changed() {
        cache.invalidate(matching: "faq:*")
    }

    func addRoutes(to routes: Routes) {
        let admin = routes.admin
        admin.get("/faq/categories") { _, _ in
            try Response.json(Items(items: try await store.categories().map(CategoryView.init)))
        }
        admin.post("/faq/categories") { request, context in
            let input = try FAQCategoryInput(json: try await request.jsonObject(context: context), creating: true)
            let category = try await store.createCategory(input, now: now())
            changed()
            return try Response.json(CategoryView(category), status: .created)
        }
        admin.patch("/faq/categories/:id") { request, context in
            let input = try FAQCategoryInput(json: try await request.jsonObject(context: context), creating: false)
            let category = try await store.updateCategory(id: try AdminRoutes.id(context), input, now: now())
            changed()
            return try Response.json(CategoryView(category))
        }
        admin.delete("/faq/categories/:id") { _, context in
            try await store.deleteCategory(id: try AdminRoutes.id(context))
            changed()
            return Response(status: .noContent)
        }
        admin.get("/faq/entries") { request, _ in
            var query = QueryReader(request, allowed: ["locale", "status", "categoryId"])
            let locale = query.text("locale", maxLength: 10)
            if let locale, !FAQLimits.isLocale(locale) { query.fail("locale", "must be a language tag like en, de or pt-BR") }
            let status = query.parameters["status"].map { _ in query.choice("status", FAQEntry.statuses, default: "") }
            let category = query.parameters["categoryId"].map { _ in Int64(query.integer("categoryId", in: 1...Int.max, default: 0)) }
            try query.validate()
            return try Response.json(Items(items: try await store.entries(locale: locale, status: status, categoryID: category).map(EntryView.init)))
        }
        admin.post("/faq/entries") { request, context in
            let input = try FAQEntryInput(json: try await request.jsonObject(context: context), creating: true)
            let entry = try await store.createEntry(input, now: now())
            changed()
            context.logger.info("faq entry created", metadata: ["faq_entry_id": "\(entry.id ?? 0)", "by": "\(context.admin.id)"])
            return try Response.json(EntryView(entry), status: .created)
        }
        admin.get("/faq/entries/:id") { _, context in
            try Response.json(EntryView(try await store.entry(id: try AdminRoutes.id(context))))
        }
        admin.patch("/faq/entries/:id") { request, context in
            let input = try FAQEntryInput(json: try await request.jsonObject(context: context), creating: false)
            let entry = try await store.updateEntry(id: try AdminRoutes.id(context), input, now: now())
            changed()
            return try Response.json(EntryView(entry))
        }
        admin.delete("/faq/entries/:id") { _, context in
            try await store.deleteEntry(id: try AdminRoutes.id(context))
            changed()
            return Response(status: .noContent)
        }
        admin.put("/faq/order") { request, context in
            let json = try await request.jsonObject(context: context)
            let reader = FieldReader(json, allowed: ["ids"])
            try reader.validate()
            guard case .array(let values)? = json["ids"], (1...1000).contains(values.count) else {
                throw FrontdeskError.validation(["ids": "is required: the entry ids in their new order (1 to 1000)"])
            }
            var ids: [Int64] = []
            for value in values {
                guard case .number(let n) = value, n >= 1, n <= 9_007_199_254_740_991, n.rounded() == n else {
                    throw FrontdeskError.validation(["ids": "must hold entry ids (integers from 1)"])
                }
                ids.append(Int64(n))
            }
            if Set(ids).count != ids.count { throw FrontdeskError.validation(["ids": "must not name an entry twice"]) }
            try await store.reorder(ids, now: now())
            changed()
            return Response(status: .noContent)
        }
        admin.post("/faq/preview") { request, context in
            var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["markdown"])
            let markdown = reader.text("markdown", required: false, maxLength: FAQLimits.answer, multiline: true) ?? ""
            try reader.validate()
            return try Response.json(Preview(html: SafeMarkdown.render(markdown)))
        }
        admin.get("/faq/stats") { request, _ in
            var query = QueryReader(request, allowed: ["locale"])
            let locale = query.text("locale", maxLength: 10)
            if let locale, !FAQLimits.isLocale(locale) { query.fail("locale", "must be a language tag like en, de or pt-BR") }
            try query.validate()
            return try Response.json(try await store.stats(locale: locale))
        }
    }
}
