import FrontdeskCore
import Foundation

/// The OpenAPI document as this server answers: the committed document (assembled from the
/// features' parts) with the values the owner configures filled in — the form ids the contact
/// endpoint takes, the extra fields of those forms, the newsletter's topics. A client, a code
/// generator or a fuzzer reading `/api/openapi.json` then sees exactly what this server accepts.
enum ServedOpenAPI {
    static func document(_ data: Data, config: FrontdeskConfig) -> Data {
        guard var document = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              var components = document["components"] as? [String: Any],
              var schemas = components["schemas"] as? [String: Any] else { return data }
        if var contact = schemas["ContactSubmissionInput"] as? [String: Any], var properties = contact["properties"] as? [String: Any] {
            let forms = config.forms.values.sorted { $0.id < $1.id }
            var form = properties["form"] as? [String: Any] ?? [:]
            form["enum"] = forms.map(\.id) as [Any] + [NSNull()]
            properties["form"] = form
            var fields = properties["fields"] as? [String: Any] ?? [:]
            var extra: [String: Any] = [:]
            for field in forms.flatMap(\.fields) {
                var schema: [String: Any] = ["type": "string", "maxLength": field.maxLength]
                if !field.options.isEmpty { schema["enum"] = field.options }
                extra[field.name] = schema
            }
            fields.removeValue(forKey: "maxProperties")
            fields["properties"] = extra
            fields["additionalProperties"] = false
            if extra.isEmpty { fields["maxProperties"] = 0 }
            properties["fields"] = fields
            contact["properties"] = properties
            schemas["ContactSubmissionInput"] = contact
        }
        if var signUp = schemas["SubscriptionInput"] as? [String: Any], var properties = signUp["properties"] as? [String: Any],
           var topics = properties["topics"] as? [String: Any] {
            let ids = config.newsletter.topics.map(\.id)
            if ids.isEmpty {
                topics["maxItems"] = 0
            } else {
                topics["items"] = ["type": "string", "enum": ids]
            }
            properties["topics"] = topics
            signUp["properties"] = properties
            schemas["SubscriptionInput"] = signUp
        }
        components["schemas"] = schemas
        document["components"] = components
        return (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])) ?? data
    }
}
