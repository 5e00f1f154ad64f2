import FrontdeskCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Serves the embedded web files: `/demo` (demo mode), `/api/openapi.json`, `/robots.txt`
/// and `/static/{file}`, with ETag revalidation and gzip when the client accepts it.
struct AssetController: Sendable {
    let assets: AssetStore
    let demo: Bool

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/api/openapi.json") { request, _ in try self.serve("web/api/openapi.json", request) }
        router.get("/robots.txt") { request, _ in try self.serve("web/robots.txt", request) }
        router.get("/demo") { request, _ in
            guard demo else {
                throw FrontdeskError(.notFound, code: "not_found", message: "The demo site is only served in demo mode (frontdesk serve --demo).")
            }
            return try self.serve("web/demo/index.html", request)
        }
        router.get("/static/:file") { request, context in
            let file = context.parameters.get("file") ?? ""
            var response = try self.serve("web/static/\(file)", request)
            // Widget modules are fetched with import() from the sites that embed the widget.
            response.headers[.accessControlAllowOrigin] = "*"
            response.headers[.crossOriginResourcePolicy] = "cross-origin"
            return response
        }
    }

    /// The file's response, a 304 when the client's copy is current, or a 404 envelope.
    func serve(_ path: String, _ request: Request) throws -> Response {
        guard let asset = assets.asset(path) else {
            throw FrontdeskError(.notFound, code: "not_found", message: "There is no file at \(request.uri.path).")
        }
        var headers = HTTPFields()
        headers[.eTag] = asset.etag
        headers[.cacheControl] = asset.cacheControl
        headers[.vary] = "Accept-Encoding"
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == asset.etag || $0.trimmingCharacters(in: .whitespaces) == "*" }) {
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
