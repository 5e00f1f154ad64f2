import Foundation

/// An endpoint declared in the configuration file, for installs set up by configuration
/// management rather than by clicking:
///
///     [[webhooks.endpoints]]
///     url = "https://crm.example.com/hooks/frontdesk"
///     events = ["contact.created", "ticket.created"]
///     secret = "whsec_…"            # what the receiver verifies with
///     description = "CRM"           # optional
///     enabled = true                # optional
package struct ConfiguredWebhook: Sendable, Equatable {
    package static let managedBy = "config"
    package static let notEditable = FrontdeskError(
        .conflict, code: "webhook_managed_by_config",
        message: "This endpoint is set in the configuration file ([[webhooks.endpoints]]); change it there and restart Frontdesk.")

    package var url: String
    package var events: [String]
    package var secret: String
    package var description: String
    package var enabled: Bool

    package init(url: String, events: [String], secret: String, description: String = "", enabled: Bool = true) {
        self.url = url
        self.events = events
        self.secret = secret
        self.description = description
        self.enabled = enabled
    }

    struct Problem: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Reads the setting's JSON (the TOML array of tables as the settings layer hands it over);
    /// every problem is named with the table's position.
    package static func decode(_ text: String) throws -> [ConfiguredWebhook] {
        guard case .array(let items) = try JSONValue.parse(Data(text.utf8)) else { throw Problem("must be an array of tables [[webhooks.endpoints]]") }
        var result: [ConfiguredWebhook] = []
        for (index, item) in items.enumerated() {
            let at = "[[webhooks.endpoints]] number \(index + 1)"
            guard case .object(let table) = item else { throw Problem("\(at) must be a table") }
            let known: Set<String> = ["url", "events", "secret", "description", "enabled"]
            if let unknown = table.keys.sorted().first(where: { !known.contains($0) }) {
                throw Problem("\(at) has an unknown key \"\(unknown)\" (known: url, events, secret, description, enabled)")
            }
            guard case .string(let url)? = table["url"], let parsed = URL(string: url), parsed.scheme?.lowercased() == "https",
                  let host = parsed.host, !host.isEmpty else {
                throw Problem("\(at) needs url = \"https://…\" (only https targets receive webhooks)")
            }
            guard case .array(let names)? = table["events"], !names.isEmpty else {
                throw Problem("\(at) needs events = [\"contact.created\", …] naming at least one event")
            }
            var events: [String] = []
            for name in names {
                guard case .string(let event) = name, WebhookEvents.all.contains(event) else {
                    throw Problem("\(at): events must be among \(WebhookEvents.all.joined(separator: ", "))")
                }
                if !events.contains(event) { events.append(event) }
            }
            guard case .string(let secret)? = table["secret"], secret.hasPrefix("whsec_"),
                  let key = Data(base64Encoded: String(secret.dropFirst(6))), (24...64).contains(key.count) else {
                throw Problem("\(at) needs secret = \"whsec_<base64 of 24 to 64 random bytes>\" (e.g. from: echo whsec_$(openssl rand -base64 32))")
            }
            var description = ""
            switch table["description"] {
            case nil: break
            case .string(let text)? where text.count <= 200: description = text
            default: throw Problem("\(at): description must be a string of at most 200 characters")
            }
            var enabled = true
            switch table["enabled"] {
            case nil: break
            case .bool(let value)?: enabled = value
            default: throw Problem("\(at): enabled must be true or false")
            }
            if result.contains(where: { $0.url == url }) { throw Problem("\(at) repeats the url \(url)") }
            result.append(ConfiguredWebhook(url: url, events: events, secret: secret, description: description, enabled: enabled))
        }
        return result
    }
}
