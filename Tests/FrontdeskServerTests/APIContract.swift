import Foundation

/// The paths and methods of the OpenAPI document served at `/api/openapi.json`, for the tests
/// that compare the document with the router's routes in both directions.
struct APIContract: Sendable {
    struct PathTemplate: Sendable {
        let segments: [Substring]
        let methods: Set<String>

        func matches(_ path: [Substring]) -> Bool {
            guard segments.count == path.count else { return segments.last == "**" && path.count >= segments.count - 1 }
            for (template, actual) in zip(segments, path) where !(template.hasPrefix("{") && template.hasSuffix("}")) && template != actual {
                return false
            }
            return true
        }
    }

    let templates: [PathTemplate]
    /// `(method, path)` pairs as written in the document, e.g. `("GET", "/healthz")`.
    let operations: [(method: String, path: String)]

    init(openAPIDocument data: Data?) {
        var templates: [PathTemplate] = []
        var operations: [(String, String)] = []
        if let data, let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let paths = root["paths"] as? [String: Any] {
            for (path, item) in paths {
                guard let item = item as? [String: Any] else { continue }
                let methods = Set(item.keys.map { $0.uppercased() }.filter { ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"].contains($0) })
                templates.append(PathTemplate(segments: path.split(separator: "/"), methods: methods))
                for method in methods { operations.append((method, path)) }
            }
        }
        self.templates = templates
        self.operations = operations.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
    }

    /// Every method the document lists for a concrete path; empty when the path is unknown.
    func methods(forPath path: String) -> Set<String> {
        let parts = path.split(separator: "/")
        var methods: Set<String> = []
        for template in templates where template.matches(parts) {
            methods.formUnion(template.methods)
        }
        if methods.contains("GET") { methods.insert("HEAD") }
        return methods
    }
}
