import FrontdeskCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Serves the embedded web files: `/demo` (demo mode), `/api/openapi.json`, `/robots.txt`,
/// `/static/{file}`, the widget (`/widget.js` and its modules under `/widget/`), the admin console
/// (`/admin/…`) and the ticket page customers reach from their magic link (`/ticket`), with ETag
/// revalidation and gzip when the client accepts it.
struct AssetController: Sendable {
    let assets: AssetStore
    let demo: Bool
    /// The configuration the served OpenAPI document is filled in from (`ServedOpenAPI`).
    var config: FrontdeskConfig?

    func addRoutes(to routes: Routes) {
        let router = routes.site
        let document = "web/api/openapi.json"
        let served = { @Sendable () -> Asset? in
            guard let config, let asset = assets.asset(document) else { return assets.asset(document) }
            return AssetStore.makeAsset(path: document, data: ServedOpenAPI.document(asset.data, config: config),
                                        development: asset.cacheControl == "no-cache")
        }
        // Embedded: filled in once. From --assets-dir: on every request, so edits show.
        let once = served()
        router.get("/api/openapi.json") { request, _ in
            let asset: Asset?
            if case .embedded = assets.source { asset = once } else { asset = served() }
            guard let asset else { throw FrontdeskError(.notFound, code: "not_found", message: "There is no file at \(request.uri.path).") }
            return try self.serve(asset, request)
        }
        router.get("/robots.txt") { request, _ in try self.serve("web/robots.txt", request) }
        router.get("/demo") { request, _ in
            guard demo else {
                throw FrontdeskError(.notFound, code: "not_found", message: "The demo site is only served in demo mode (frontdesk serve --demo).")
            }
            return try self.serve("web/demo/index.html", request)
        }
        router.get("/static/:file") { request, context in
            try self.serveCrossOrigin("web/static/\(context.parameters.get("file") ?? "")", request)
        }
        // The loader keeps its name (short cache + ETag); its modules are content-hashed (immutable).
        router.get("/widget.js") { request, _ in try self.serveCrossOrigin("web/widget/widget.js", request) }
        router.get("/widget/:file") { request, context in
            try self.serveCrossOrigin("web/widget/\(context.parameters.get("file") ?? "")", request)
        }
        router.get("/ticket") { request, _ in try self.serve("web/ticket/index.html", request) }
        router.get("/review") { request, _ in try self.serve("web/review/index.html", request) }
        // The console is one page: its files by name, every other path under /admin/ is a screen of it.
        router.get("/admin") { request, _ in try self.serve("web/admin/index.html", request) }
        router.get("/admin/**") { request, context in
            let path = context.parameters.getCatchAll().joined(separator: "/")
            if path.contains("."), !path.contains("..") {
                return try self.serve("web/admin/\(path)", request)
            }
            return try self.serve("web/admin/index.html", request)
        }
    }

    /// Widget files are loaded by `<script>` and `import()` from the sites that embed the widget.
    func serveCrossOrigin(_ path: String, _ request: Request) throws -> Response {
        var response = try self.serve(path, request)
        response.headers[.accessControlAllowOrigin] = "*"
        response.headers[.crossOriginResourcePolicy] = "cross-origin"
        return response
    }

    /// The file's response, a 304 when the client's copy is current, or a 404 envelope.
    func serve(_ path: String, _ request: Request) throws -> Response {
        guard let asset = assets.asset(path) else {
            throw FrontdeskError(.notFound, code: "not_found", message: "There is no file at \(request.uri.path).")
        }
        return try serve(asset, request)
    }

    func serve(_ asset: Asset, _ request: Request) throws -> Response {
        var headers = HTTPFields()
        headers[.eTag] = asset.etag
        headers[.cacheControl] = asset.cacheControl
        headers[.vary] = "Accept-Encoding"
        // On a 304 too: the security headers are chosen by type, and the browser merges a 304's
        // headers into its cached copy (a document must keep the document policy).
        headers[.contentType] = asset.contentType
        if ETagMatch.notModified(request, etag: asset.etag) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = asset.contentType
        let body: Data
        if let gzipped = asset.gzipped, Self.acceptsGzip(request.headers[.acceptEncoding]) {
            headers[.contentEncoding] = "gzip"
            body = gzipped
        } else {
            body = asset.data
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func acceptsGzip(_ header: String?) -> Bool {
        guard let header else { return false }
        return header.split(separator: ",").contains { item in
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.first?.lowercased() == "gzip" else { return false }
            return !parts.dropFirst().contains { $0.replacingOccurrences(of: " ", with: "") == "q=0" }
        }
    }
}

extension HTTPField.Name {
    static let crossOriginResourcePolicy = HTTPField.Name("Cross-Origin-Resource-Policy")!
}
