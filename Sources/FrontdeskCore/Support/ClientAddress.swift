/// Client addresses as Frontdesk may keep them: never whole.
package enum ClientAddress {
    /// IPv4 with the last octet zeroed (`203.0.113.0`), IPv6 cut to its /48 (`2001:db8:85a3::`).
    /// Used in logs so a person can see a network's behaviour without a stored personal address.
    /// Runs on every request (the access log), so it scans bytes instead of splitting strings.
    package static func truncated(_ address: String?) -> String {
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

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ClientAddress {
    /// The key per-client limits count under: an IPv4 address as it is, an IPv6 address as its
    /// /64 network (`2001:db8:1:2::/64`). One IPv6 subscriber line gets a whole /64, so keying
    /// by /128 would let one client pick from 2^64 fresh addresses past every limit (RFC 6177,
    /// RFC 7721 §3). IPv4-mapped IPv6 (`::ffff:192.0.2.1`) counts as the IPv4 address.
    /// Used by the rate limiter, the sign-in throttle, the socket and connection caps alike.
    package static func limitKey(_ address: String) -> String {
        guard address.utf8.contains(UInt8(ascii: ":")) else { return address }
        var bytes = in6_addr()
        let parsed = address.withCString { inet_pton(AF_INET6, $0, &bytes) }
        guard parsed == 1 else { return address }
        let octets = withUnsafeBytes(of: &bytes) { Array($0) }
        if octets[0..<10].allSatisfy({ $0 == 0 }) && octets[10] == 0xff && octets[11] == 0xff {
            return "\(octets[12]).\(octets[13]).\(octets[14]).\(octets[15])"
        }
        var groups: [String] = []
        for i in stride(from: 0, to: 8, by: 2) {
            groups.append(String(UInt16(octets[i]) << 8 | UInt16(octets[i + 1]), radix: 16))
        }
        return groups.joined(separator: ":") + "::/64"
    }
}
