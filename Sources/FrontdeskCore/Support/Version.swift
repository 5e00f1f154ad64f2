/// Frontdesk's version, printed by `frontdesk version` and sent in `/api/openapi.json`.
public enum FrontdeskVersion {
    public static let current = "0.1.0"
}
