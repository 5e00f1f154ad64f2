/// Client addresses as Frontdesk may keep them: never whole.
public enum ClientAddress {
    /// IPv4 with the last octet zeroed (`203.0.113.0`), IPv6 cut to its /48 (`2001:db8:85a3::`).
    /// Used in logs so a person can see a network's behaviour without a stored personal address.
    /// Runs on every request (the access log), so it scans bytes instead of splitting strings.
    public static func truncated(_ address: String?) -> String {
        guard let address, !address.isEmpty else { return "-" }
        var utf8 = Array(address.utf8)
        if utf8.contains(UInt8(ascii: ":")) {
            var colons = 0
            for (index, byte) in utf8.enumerated() where byte == UInt8(ascii: ":") {
                colons += 1
                if colons == 3 { return String(decoding: utf8[..<index], as: UTF8.self) + "::" }
            }
            return "::"  // a short compressed form such as ::1 or fe80::1: keep nothing of it
        }
        guard let lastDot = utf8.lastIndex(of: UInt8(ascii: ".")), utf8.filter({ $0 == UInt8(ascii: ".") }).count == 3 else { return "-" }
        utf8.removeSubrange((lastDot + 1)...)
        utf8.append(UInt8(ascii: "0"))
        return String(decoding: utf8, as: UTF8.self)
    }
}
