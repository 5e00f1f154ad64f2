import FrontdeskCore
import FrontdeskState
import HTTPTypes
import Hummingbird
import Synchronization

/// The route groups every feature adds its routes to. Each group carries its policy — CORS for
/// the site origins, the rate-limit class, the console session with its Origin and CSRF rules —
/// as middleware attached to the group, so a route gets its policy from where it was registered,
/// never from how a request spells its path. `//api/v1/contact` and `/api/v1/contact/` match the
/// same route as `/api/v1/contact` and so get the same policy; the edge refuses dot segments and
/// encoded slashes and dots (`PathCanonicalForm`).
///
/// Hummingbird builds each route's middleware chain when the route is registered, and only group
/// middleware added before that applies (see `RouterGroup.add(middleware:)`), so the groups are
/// made complete here, before any controller sees them.
struct Routes {
    /// Pages, embedded files, documents and health: no rate limit, no session.
    let site: RouterGroup<AppRequestContext>
    /// The public JSON API (`/api/v1/…`): CORS for `server.site_origins`, the `api` rate class.
    let publicAPI: CORSRoutes
    /// What a visitor submits (`POST /api/v1/contact`, …): CORS, the `forms` rate class.
    let publicForms: CORSRoutes
    /// Tracking beacons (`POST /api/v1/events`): CORS for the site origins, the `events` rate class.
    let events: CORSRoutes
    /// Console sign-in and first-admin setup: the console's Origin rule, the `login` rate class,
    /// no CSRF token yet.
    let consoleSignIn: RouterGroup<AppRequestContext>
    /// Console routes that answer signed out too (`GET /api/v1/admin/setup`): the `api` class,
    /// the session resolved when there is one, Origin and CSRF on changes.
    let consoleOpen: RouterGroup<AppRequestContext>
    /// The signed-in console API: `AdminRequestContext` (401 when signed out), Origin and CSRF;
    /// or an API token (`Authorization: Bearer fd_…`) whose scopes cover the route.
    let admin: RouterGroup<AdminRequestContext>
    /// Every route registered through the groups, for the 405 answer and the contract tests.
    let table: RouteTable

    static let apiPrefix = "/api/v1"
    static let adminPrefix = "/api/v1/admin"

    /// Builds the groups over `router`, with the policies of `runtime`'s configuration.
    init(router: Router<AppRequestContext>, table: RouteTable, runtime: FrontdeskRuntime, users: CachedUsers, publicOrigin: String?) {
        let config = runtime.config
        let recorder = RouteRecorder(parent: router, table: table)
        let limits = config.rateLimits
        let limiter = runtime.state.rateLimiter
        let errors = ErrorMiddleware(logger: runtime.logger)
        let cors = CORSMiddleware(siteOrigins: Set(config.siteOrigins))
        func limit(_ policy: RateLimitPolicy) -> RateLimitMiddleware {
            RateLimitMiddleware(limiter: limiter, policy: policy, enabled: limits.enabled)
        }
        let tokenPolicy = RateLimitPolicy(name: "token", limit: config[TokenSettings.requestsPerMinute], period: .seconds(60),
                                          burst: config[TokenSettings.burst])
        let tokens = TokenAuthentication(store: runtime.tokens, users: users, limiter: limiter, policy: tokenPolicy, limitsEnabled: limits.enabled)
        let session = { (csrf: Bool) in
            // Tokens only where CSRF applies: sign-in and setup take no token.
            AdminSessionMiddleware(sessions: runtime.state.sessions, users: users, publicOrigin: publicOrigin, requireCSRF: csrf,
                                   tokens: csrf ? tokens : nil)
        }
        self.table = table
        let preflighted = PreflightPaths()
        site = recorder.group()
        // Order inside a group, outermost first: CORS and the limiter see every answer as a
        // response (errors included, converted by `errors`), so a 422 or 429 keeps its CORS and
        // RateLimit headers and the widget can read it.
        publicAPI = CORSRoutes(group: recorder.group(RouterPath(Self.apiPrefix)).add(middleware: cors).add(middleware: limit(limits.api))
            .add(middleware: errors), table: table, preflighted: preflighted)
        publicForms = CORSRoutes(group: recorder.group(RouterPath(Self.apiPrefix)).add(middleware: cors).add(middleware: limit(limits.forms))
            .add(middleware: errors), table: table, preflighted: preflighted)
        let eventsPolicy = RateLimitPolicy(name: "events", limit: config[AnalyticsSettings.eventsPerMinute], period: .seconds(60),
                                           burst: config[AnalyticsSettings.eventsBurst])
        events = CORSRoutes(group: recorder.group(RouterPath(Self.apiPrefix)).add(middleware: cors).add(middleware: limit(eventsPolicy))
            .add(middleware: errors), table: table, preflighted: preflighted)
        consoleSignIn = recorder.group(RouterPath(Self.adminPrefix)).add(middleware: limit(limits.login)).add(middleware: errors)
            .add(middleware: session(false))
        consoleOpen = recorder.group(RouterPath(Self.adminPrefix)).add(middleware: limit(limits.api)).add(middleware: errors)
            .add(middleware: session(true))
        admin = consoleOpen.group(context: AdminRequestContext.self)
    }
}

extension FrontdeskConfig.RateLimitSettings {
    /// The `api` class: every API request that is not a form or a sign-in.
    var api: RateLimitPolicy { RateLimitPolicy(name: "api", limit: publicPerMinute, period: .seconds(60), burst: publicBurst) }
    /// The `forms` class: anything a visitor submits.
    var forms: RateLimitPolicy { RateLimitPolicy(name: "forms", limit: formsPerMinute, period: .seconds(60), burst: formsBurst) }
    /// The `login` class: sign-in and first-admin setup.
    var login: RateLimitPolicy { RateLimitPolicy(name: "login", limit: loginPerMinute, period: .seconds(60), burst: loginBurst) }
}

/// The methods and path templates of every registered route: the router's own knowledge, used
/// for `405 Method Not Allowed` with `Allow`, and by the tests that compare the routes with the
/// OpenAPI document in both directions.
final class RouteTable: Sendable {
    struct Route: Hashable, Sendable {
        let method: String
        /// As registered, with Hummingbird's `:name` parameters and `**` wildcards.
        let path: String
        /// The same in OpenAPI's spelling (`{name}`).
        var openAPIPath: String {
            "/" + path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
        }
    }

    private let routes = Mutex<[Route]>([])

    func record(method: HTTPRequest.Method, path: String) {
        routes.withLock { $0.append(Route(method: method.rawValue, path: path)) }
    }

    /// Every route, GET routes with their HEAD twin, without the CORS preflight routes.
    var all: [Route] {
        routes.withLock { $0 }.filter { $0.method != "OPTIONS" }
    }

    /// The methods routed for a concrete path (HEAD wherever GET is); empty when none is.
    func methods(forPath path: String) -> Set<String> {
        let parts = path.split(separator: "/")
        var methods: Set<String> = []
        for route in routes.withLock({ $0 }) where route.method != "OPTIONS" && Self.matches(template: route.path.split(separator: "/"), parts) {
            methods.insert(route.method)
        }
        if methods.contains("GET") { methods.insert("HEAD") }
        return methods
    }

    static func matches(template: [Substring], _ path: [Substring]) -> Bool {
        if template.last == "**" { return path.count >= template.count - 1 && zip(template.dropLast(), path).allSatisfy(segmentMatches) }
        return template.count == path.count && zip(template, path).allSatisfy(segmentMatches)
    }

    private static func segmentMatches(_ template: Substring, _ actual: Substring) -> Bool {
        template.hasPrefix(":") || template == "*" || template == actual
    }

    /// The 405 for a path that exists with other methods, or nil when nothing is at the path.
    func methodNotAllowed(_ request: Request) -> (FrontdeskError, HTTPFields)? {
        let methods = methods(forPath: request.uri.path)
        guard !methods.isEmpty, !methods.contains(request.method.rawValue) else { return nil }
        let allow = methods.sorted().joined(separator: ", ")
        var headers = HTTPFields()
        headers[.allow] = allow
        return (FrontdeskError(.methodNotAllowed, code: "method_not_allowed",
                               message: "\(request.uri.path) does not accept \(request.method.rawValue); it accepts \(allow).",
                               details: ["allow": allow]), headers)
    }
}

/// The root of every group: records each route in the table, then registers it on the router.
struct RouteRecorder: RouterMethods {
    typealias Context = AppRequestContext
    let parent: Router<AppRequestContext>
    let table: RouteTable

    @discardableResult func on<Responder: HTTPResponder>(_ path: RouterPath, method: HTTPRequest.Method, responder: Responder) -> Self
        where Responder.Context == Context {
        table.record(method: method, path: path.description)
        parent.on(path, method: method, responder: responder)
        if method == .get { table.record(method: .head, path: path.description) }
        return self
    }

    @discardableResult func add(middleware: any MiddlewareProtocol<Request, Response, Context>) -> Self {
        preconditionFailure("Attach middleware to a group in Routes, not to the recorder")
    }
}

/// A public API group whose routes answer CORS preflights: every path registered here also gets
/// an `OPTIONS` route through the same middleware, so `CORSMiddleware` answers the preflight of
/// an allowed origin. An `OPTIONS` that is no preflight gets the 405 with `Allow`.
struct CORSRoutes: RouterMethods {
    typealias Context = AppRequestContext
    let group: RouterGroup<AppRequestContext>
    let table: RouteTable
    /// Shared by the public groups: a path registered in both gets one preflight route.
    let preflighted: PreflightPaths

    @discardableResult func on<Responder: HTTPResponder>(_ path: RouterPath, method: HTTPRequest.Method, responder: Responder) -> Self
        where Responder.Context == Context {
        group.on(path, method: method, responder: responder)
        if preflighted.insert(path.description) {
            let table = self.table
            group.on(path, method: .options) { request, _ -> Response in
                guard let (error, _) = table.methodNotAllowed(request) else { throw FrontdeskError.notFound("This address") }
                throw error
            }
        }
        return self
    }

    @discardableResult func add(middleware: any MiddlewareProtocol<Request, Response, Context>) -> Self {
        preconditionFailure("Attach middleware to a group in Routes")
    }
}

/// Paths that have their preflight route already; shared by copies of one `CORSRoutes`.
final class PreflightPaths: Sendable {
    private let paths = Mutex<Set<String>>([])
    func insert(_ path: String) -> Bool { paths.withLock { $0.insert(path).inserted } }
}

/// Holds the route table of the runtime's router once it is built.
final class RouteTableSlot: Sendable {
    private let table = Mutex<RouteTable?>(nil)
    func adopt(_ routes: RouteTable) { table.withLock { $0 = routes } }
    var current: RouteTable? { table.withLock { $0 } }
}
