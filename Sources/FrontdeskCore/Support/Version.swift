/// Frontdesk's version, printed by `frontdesk version` and sent in `/api/openapi.json`.
package enum FrontdeskVersion {
    package static let current = "0.1.0"
}
