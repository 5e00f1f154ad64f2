import FrontdeskCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The front page's settings.
enum HomeSettings {
    /// What `GET /` answers: Frontdesk's own front page, a redirect to the console, or a redirect
    /// to the owner's site.
    static let root = Setting<String>.string(
        "server.root", env: "FRONTDESK_SERVER_ROOT", default: "page",
        doc: "What `GET /` answers: \"page\" (Frontdesk's front page: links, the embed snippet), \"console\" (a redirect to /admin/) or an http(s):// URL to redirect to (the owner's site).",
        validate: { value in HomeRoot(value) == nil ? "must be \"page\", \"console\" or an http:// or https:// URL, found \"\(value)\"" : nil })
}

/// `server.root` parsed.
enum HomeRoot: Equatable, Sendable {
    case page
    case console
    case redirect(String)

    init?(_ value: String) {
        switch value {
        case "page": self = .page
        case "console": self = .console
        default:
            guard let url = URL(string: value), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
                  let host = url.host, !host.isEmpty, !value.contains(where: { $0.isWhitespace || $0.isNewline }) else { return nil }
            self = .redirect(value)
        }
    }
}

/// The server's own pages for people who open its address: the front page (`GET /`) and the
/// API reference (`GET /api/`, the served OpenAPI document rendered by our own script, with the
/// chat protocol beside it).
struct HomeModule: FeatureModule {
    static var settings: [SettingSpec] { [HomeSettings.root.spec] }
    let context: FeatureContext
    init(_ context: FeatureContext) { self.context = context }

    func addRoutes(to routes: Routes) {
        let runtime = context.runtime
        HomeController(assets: runtime.assets, root: HomeRoot(runtime.config[HomeSettings.root]) ?? .page, demo: runtime.config.demo,
                       links: runtime.links, siteName: runtime.config.siteName).addRoutes(to: routes)
    }
}

/// `GET /` and `GET /api/`.
struct HomeController: Sendable {
    let assets: AssetStore
    let root: HomeRoot
    let demo: Bool
    let links: PublicLinks
    let siteName: String

    func addRoutes(to routes: Routes) {
        let files = AssetController(assets: assets, demo: demo)
        routes.site.get("/") { request, _ -> Response in
            switch root {
            case .console: return Self.redirect(to: "/admin/")
            case .redirect(let url): return Self.redirect(to: url)
            case .page:
                guard let template = assets.asset("web/home/index.html") else {
                    throw FrontdeskError(.notFound, code: "not_found", message: "There is no file at \(request.uri.path).")
                }
                let page = Self.frontPage(template: String(decoding: template.data, as: UTF8.self), base: links.baseURL, demo: demo,
                                          siteName: siteName)
                return try files.serve(AssetStore.makeAsset(path: "web/home/index.html", data: Data(page.utf8), development: true), request)
            }
        }
        routes.site.get("/api") { request, _ in try files.serve("web/admin/api.html", request) }
    }

    static func redirect(to location: String) -> Response {
        Response(status: .found, headers: [.location: location, .cacheControl: "no-store"])
    }

    /// The front page from its template: the server's address in the snippet and the links, the
    /// demo's lines only in demo mode. Every value is escaped for HTML.
    static func frontPage(template: String, base: String, demo: Bool, siteName: String) -> String {
        var page = template
            .replacingOccurrences(of: "@BASE@", with: SafeHTML.escape(base))
            .replacingOccurrences(of: "@SITE@", with: SafeHTML.escape(siteName))
            .replacingOccurrences(of: "@VERSION@", with: SafeHTML.escape(FrontdeskVersion.current))
        // `<!--demo-->…<!--/demo-->` is shown in demo mode only.
        while let start = page.range(of: "<!--demo-->"), let end = page.range(of: "<!--/demo-->", range: start.upperBound..<page.endIndex) {
            if demo {
                page.removeSubrange(end)
                page.removeSubrange(start)
            } else {
                page.removeSubrange(start.lowerBound..<end.upperBound)
            }
        }
        return page
    }

}
