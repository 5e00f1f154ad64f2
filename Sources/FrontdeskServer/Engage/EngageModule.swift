import FrontdeskCore
import Foundation
import Hummingbird
import ServiceLifecycle

/// The engage feature's settings, declared once.
enum EngageSettings {
    static let allowedOrigins = Setting<[String]>.list("engage.allowed_origins", env: "FRONTDESK_ENGAGE_ALLOWED_ORIGINS", default: [],
                                                       doc: "Origins (https://shop.example.com) a banner's call to action may link to besides the site's own (server.site_origins) and its paths.")
}

/// Notification banners: the public document the page reads, the console's editor API, and
/// the scheduler that pushes changes to open pages.
struct EngageModule: FeatureModule {
    static var settings: [SettingSpec] { [EngageSettings.allowedOrigins.spec] }
    static var migrations: [SchemaMigration] { EngageStore.migrations }
    let context: FeatureContext
    init(_ context: FeatureContext) { self.context = context }

    func addRoutes(to routes: Routes) {
        let runtime = context.runtime
        let cache = ReadThrough(cache: runtime.state.cache)
        EngageController(scheduler: runtime.engage, cache: cache, now: runtime.now).addRoutes(to: routes)
        EngageAdminController(scheduler: runtime.engage, cache: cache, now: runtime.now).addRoutes(to: routes)
    }

    func services() -> [any Service] { [context.runtime.engage] }

    /// A bakery's banner: the Christmas opening hours, live now in the demo page's notice slot.
    func seedDemo(now: Date) async throws {
        let store = context.runtime.engage.store
        let banner = try await store.createBanner(BannerInput(title: "Christmas opening hours", type: "info",
                                                              content: "Open **24 December 7:00–12:00**; closed 25 and 26 December.",
                                                              ctaLabel: .some("Ask us"), ctaURL: .some("/demo#contact"), position: "inline",
                                                              slot: .some("notice"), priority: 10, dismissible: true), now: now)
        _ = try await store.setStatus(id: banner.id ?? 0, published: true, now: now)
    }
}

/// `GET /api/v1/engage`: the live banners, encoded once and cached with an ETag until the next
/// edit or schedule edge.
struct EngageController: Sendable {
    let scheduler: EngageScheduler
    let cache: ReadThrough
    let now: @Sendable () -> Date

    static let ttl: Duration = .seconds(600)

    func addRoutes(to routes: Routes) {
        routes.publicAPI.get("/engage") { request, _ in
            let query = QueryReader(request, allowed: [])
            try query.validate()
            let store = scheduler.store
            let now = self.now
            let cached = try await cache.value("engage:document", ttl: Self.ttl, cost: 4096) {
                try CachedJSON(EngageDocument(banners: try await store.liveBanners(at: now()).map(PublicBanner.init)))
            }
            return cached.response(to: request)
        }
    }
}

/// The console's banner API: list, create, read, change, delete, publish, unpublish, preview.
/// Every change drops the cached document and refreshes the scheduler, which pushes the
/// difference to open pages.
struct EngageAdminController: Sendable {
    let scheduler: EngageScheduler
    let cache: ReadThrough
    let now: @Sendable () -> Date

    struct BannerView: Encodable {
        struct CTA: Encodable {
            let label: String
            let url: String
        }
        let id: Int64
        let title: String
        let type: String
        let content: String
        let html: String
        let cta: CTA?
        let position: String
        let slot: String?
        let paths: [String]
        let locales: [String]
        let audience: String
        let devices: [String]
        let priority: Int
        let dismissible: Bool
        let version: Int
        let status: String
        /// Whether the banner shows now: published and inside its schedule.
        let live: Bool
        let startsAt: String?
        let endsAt: String?
        let startsAtUtc: String?
        let endsAtUtc: String?
        let createdAt: String
        let updatedAt: String

        init(_ b: Banner, now: Date) {
            id = b.id ?? 0; title = b.title; type = b.type; content = b.contentMarkdown; html = b.contentHTML
            cta = b.ctaLabel.flatMap { label in b.ctaURL.map { CTA(label: label, url: $0) } }
            position = b.position; slot = b.slot; paths = b.paths; locales = b.locales; audience = b.audience; devices = b.devices
            priority = b.priority; dismissible = b.dismissible; version = b.version; status = b.status; live = b.isLive(at: now)
            startsAt = b.startsLocal; endsAt = b.endsLocal; startsAtUtc = b.startsAt; endsAtUtc = b.endsAt
            createdAt = b.createdAt; updatedAt = b.updatedAt
        }
    }

    struct Preview: Encodable {
        let html: String
    }

    func changed() async {
        cache.invalidate(matching: "engage:*")
        await scheduler.refresh()
    }

    func addRoutes(to routes: Routes) {
        let admin = routes.admin
        let store = scheduler.store
        admin.get("/engage/banners") { _, _ in
            let at = now()
            return try Response.json(Items(items: try await store.banners().map { BannerView($0, now: at) }))
        }
        admin.post("/engage/banners") { request, context in
            let input = try BannerInput(json: try await request.jsonObject(context: context), creating: true)
            let banner = try await store.createBanner(input, now: now())
            await changed()
            context.logger.info("banner created", metadata: ["banner_id": "\(banner.id ?? 0)", "by": "\(context.admin.id)"])
            return try Response.json(BannerView(banner, now: now()), status: .created)
        }
        admin.get("/engage/banners/:id") { _, context in
            try Response.json(BannerView(try await store.banner(id: try AdminRoutes.id(context)), now: now()))
        }
        admin.patch("/engage/banners/:id") { request, context in
            let id = try AdminRoutes.id(context)
            let input = try BannerInput(json: try await request.jsonObject(context: context), creating: false)
            let banner = try await store.updateBanner(id: id, input, now: now())
            await changed()
            return try Response.json(BannerView(banner, now: now()))
        }
        admin.delete("/engage/banners/:id") { _, context in
            try await store.deleteBanner(id: try AdminRoutes.id(context))
            await changed()
            return Response(status: .noContent)
        }
        for (action, published) in [("publish", true), ("unpublish", false)] {
            admin.post(RouterPath("/engage/banners/:id/\(action)")) { _, context in
                let banner = try await store.setStatus(id: try AdminRoutes.id(context), published: published, now: now())
                await changed()
                context.logger.info("banner \(action)ed", metadata: ["banner_id": "\(banner.id ?? 0)", "by": "\(context.admin.id)"])
                return try Response.json(BannerView(banner, now: now()))
            }
        }
        admin.post("/engage/preview") { request, context in
            var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["content"])
            let content = reader.text("content", required: false, maxLength: EngageLimits.content, multiline: true) ?? ""
            if EngageLimits.containsTag(content) { reader.fail("content", "must be Markdown without HTML tags (<script>, <img>, … are refused, not shown)") }
            try reader.validate()
            return try Response.json(Preview(html: SafeMarkdown.render(content)))
        }
    }
}
