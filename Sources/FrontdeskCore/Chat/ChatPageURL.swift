import Foundation

/// The address of the page a chat visitor is on, as Frontdesk keeps it: http(s) only, never the
/// `#fragment` (it often carries tokens, e.g. magic links), and of the query only the parameters
/// the owner allows (`chat.page_url_query_params`, `utm_*` by default). Applied on the server
/// whatever the widget sent; the widget does the same before sending.
package enum ChatPageURL {
    /// The longest address kept, in bytes of UTF-8.
    package static let maxBytes = 2000

    /// The sanitised address, or nil when `raw` is not an http(s) URL (or too long once sanitised).
    package static func sanitise(_ raw: String, allowedQueryParams: [String]) -> String? {
        guard raw.utf8.count <= 8192, var components = URLComponents(string: raw),
              let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = components.host, !host.isEmpty else { return nil }
        components.fragment = nil
        components.user = nil
        components.password = nil
        let kept = (components.queryItems ?? []).filter { isAllowed($0.name, allowedQueryParams) }
        components.queryItems = kept.isEmpty ? nil : kept
        guard let url = components.string, url.utf8.count <= maxBytes else { return nil }
        return url
    }

    /// Whether a query parameter name is allowed: an exact name, or a prefix pattern ending in `*`.
    static func isAllowed(_ name: String, _ patterns: [String]) -> Bool {
        patterns.contains { pattern in
            if pattern == "*" { return true }
            if pattern.hasSuffix("*") { return name.hasPrefix(pattern.dropLast()) }
            return name == pattern
        }
    }
}
