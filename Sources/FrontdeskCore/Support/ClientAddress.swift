/// Client addresses as Frontdesk may keep them: never whole.
public enum ClientAddress {
    /// IPv4 with the last octet zeroed (`203.0.113.0`), IPv6 cut to its /48 (`2001:db8:85a3::`).
    /// Used in logs so a person can see a network's behaviour without a stored personal address.
    public static func truncated(_ address: String?) -> String {
        guard let address, !address.isEmpty else { return "-" }
        if address.contains(":") {
            let groups = address.split(separator: ":", omittingEmptySubsequences: false)
            return groups.prefix(3).joined(separator: ":") + "::"
        }
        let octets = address.split(separator: ".")
        guard octets.count == 4 else { return "-" }
        return octets.prefix(3).joined(separator: ".") + ".0"
    }
}
