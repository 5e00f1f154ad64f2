import FrontdeskAssets
import FrontdeskCore
import Foundation

/// One file the server can send, with its precomputed gzip form and strong ETag.
struct Asset: Sendable {
    let path: String
    let contentType: String
    let data: Data
    let gzipped: Data?
    let etag: String
    let cacheControl: String
}

/// The files under `Resources/web/`, from the binary (default) or from a folder on disk
/// (`--assets-dir`, for development, re-read on every request so edits show without a restart).
final class AssetStore: Sendable {
    enum Source: Sendable {
        case embedded
        case directory(String)
    }

    let source: Source
    private let embedded: [String: Asset]

    init(source: Source) {
        self.source = source
        if case .embedded = source {
            var assets: [String: Asset] = [:]
            for (path, data) in EmbeddedAssets.files where path.hasPrefix("web/") {
                assets[path] = Self.makeAsset(path: path, data: data, development: false)
            }
            self.embedded = assets
        } else {
            self.embedded = [:]
        }
    }

    /// The file at `path` (relative to `Resources/`), or nil.
    func asset(_ path: String) -> Asset? {
        switch source {
        case .embedded:
            return embedded[path]
        case .directory(let root):
            guard !path.contains("..") else { return nil }
            let full = (root as NSString).appendingPathComponent(path)
            guard let data = FileManager.default.contents(atPath: full) else { return nil }
            return Self.makeAsset(path: path, data: data, development: true)
        }
    }

    /// The raw bytes of any embedded resource, e.g. `web/api/openapi.json`.
    func data(_ path: String) -> Data? {
        asset(path)?.data
    }

    static func makeAsset(path: String, data: Data, development: Bool) -> Asset {
        let type = contentType(for: path)
        let compressible = type.hasPrefix("text/") || type.contains("javascript") || type.contains("json") || type.contains("svg")
        let gzipped = compressible && data.count > 256 ? Gzip.compress(data) : nil
        let etag = "\"" + ContentDigest.sha256Hex(data).prefix(32) + "\""
        let cacheControl: String
        if development {
            cacheControl = "no-cache"
        } else if isContentHashed(path) {
            cacheControl = "public, max-age=31536000, immutable"
        } else {
            cacheControl = "public, max-age=300"
        }
        return Asset(path: path, contentType: type, data: data, gzipped: gzipped.flatMap { $0.count < data.count ? $0 : nil },
                     etag: etag, cacheControl: cacheControl)
    }

    /// Build outputs named like `chat.3f9a2b1c.js` never change under the same name.
    static func isContentHashed(_ path: String) -> Bool {
        let parts = (path as NSString).lastPathComponent.split(separator: ".")
        return parts.count >= 3 && parts[parts.count - 2].count >= 8 && parts[parts.count - 2].allSatisfy(\.isHexDigit)
    }

    static func contentType(for path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "html": return "text/html; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "json": return "application/json; charset=utf-8"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "ico": return "image/x-icon"
        case "woff2": return "font/woff2"
        case "txt": return "text/plain; charset=utf-8"
        case "md": return "text/markdown; charset=utf-8"
        case "ts": return "text/plain; charset=utf-8"
        case "wav": return "audio/wav"
        default: return "application/octet-stream"
        }
    }
}
