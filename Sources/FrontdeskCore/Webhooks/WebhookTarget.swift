import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A webhook URL checked against server-side request forgery: `https` only; the host resolved
/// here and every address it resolves to outside loopback, private, link-local, shared,
/// multicast and reserved ranges (unless the owner allows private targets); the connection then
/// goes to the address that was checked, so a DNS answer that changes between the check and the
/// connect (rebinding) cannot move it inside.
package struct WebhookTarget: Sendable, Equatable {
    package let host: String
    package let port: Int
    /// Path and query, as sent in the request line.
    package let path: String
    /// The checked address the connection goes to.
    package let address: String

    package init(host: String, port: Int, path: String, address: String) {
        self.host = host
        self.port = port
        self.path = path
        self.address = address
    }

    /// Why a URL is refused, for the 422 and the delivery log.
    package enum Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        case malformed
        case notHTTPS
        case unresolvable(String)
        case blockedAddress(String)

        package var description: String {
            switch self {
            case .malformed: return "must be an absolute https:// URL with a host"
            case .notHTTPS: return "must use https:// (plain http is refused)"
            case .unresolvable(let host): return "has a host that does not resolve (\(host))"
            case .blockedAddress(let address):
                return "resolves to \(address), a loopback, private, link-local or reserved address (set webhooks.allow_private to allow it)"
            }
        }
    }

    /// The URL's parts, or why it is refused, without resolving.
    package static func parse(_ url: String) -> Result<(host: String, port: Int, path: String), Refusal> {
        guard url.utf8.count <= 2048, let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              let host = components.host, !host.isEmpty, components.user == nil, components.password == nil else { return .failure(.malformed) }
        guard scheme == "https" else { return .failure(.notHTTPS) }
        var path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        if let query = components.percentEncodedQuery { path += "?" + query }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return .success((bare, components.port ?? 443, path))
    }

    /// Parses, resolves and checks `url`.
    package static func resolve(_ url: String, allowPrivate: Bool) -> Result<WebhookTarget, Refusal> {
        let parts: (host: String, port: Int, path: String)
        switch parse(url) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let parsed): parts = parsed
        }
        let addresses = lookup(parts.host)
        guard let first = addresses.first else { return .failure(.unresolvable(parts.host)) }
        if !allowPrivate, let blocked = addresses.first(where: isBlocked) { return .failure(.blockedAddress(blocked)) }
        return .success(WebhookTarget(host: parts.host, port: parts.port, path: parts.path, address: first))
    }

    /// Every address `host` resolves to (an IP literal resolves to itself).
    static func lookup(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let head = result else { return [] }
        defer { freeaddrinfo(head) }
        var out: [String] = []
        var node: UnsafeMutablePointer<addrinfo>? = head
        while let current = node {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(current.pointee.ai_addr, current.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                let text = String(cString: buffer)
                if !out.contains(text) { out.append(text) }
            }
            node = current.pointee.ai_next
        }
        return out
    }

    /// Whether an address is in a range a webhook must not reach by default.
    package static func isBlocked(_ address: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            let b = withUnsafeBytes(of: &v4) { Array($0) }
            return isBlockedV4(b)
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, address.split(separator: "%").first.map(String.init) ?? address, &v6) == 1 else { return true }
        let b = withUnsafeBytes(of: &v6) { Array($0) }
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff { return isBlockedV4(Array(b[12..<16])) }  // ::ffff:a.b.c.d
        if b.allSatisfy({ $0 == 0 }) { return true }                                   // ::
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return true }              // ::1
        if b[0] & 0xfe == 0xfc { return true }                                          // fc00::/7 unique local
        if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return true }                          // fe80::/10 link-local
        if b[0] == 0xff { return true }                                                 // multicast
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b { return isBlockedV4(Array(b[12..<16])) }  // 64:ff9b::/96 NAT64
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8 { return true }  // 2001:db8::/32 documentation
        return false
    }

    static func isBlockedV4(_ b: [UInt8]) -> Bool {
        switch (b[0], b[1]) {
        case (0, _), (10, _), (127, _), (169, 254), (192, 168): return true
        case (100, let x) where x & 0xc0 == 64: return true      // 100.64.0.0/10 shared
        case (172, let x) where x & 0xf0 == 16: return true      // 172.16.0.0/12
        case (192, 0) where b[2] == 0 || b[2] == 2: return true  // 192.0.0.0/24, TEST-NET-1
        case (198, let x) where x & 0xfe == 18: return true      // 198.18.0.0/15 benchmarking
        case (198, 51) where b[2] == 100, (203, 0) where b[2] == 113: return true  // TEST-NET-2/3
        default: return b[0] >= 224                               // multicast, reserved, broadcast
        }
    }
}
