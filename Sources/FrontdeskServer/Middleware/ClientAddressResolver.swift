import FrontdeskCore
import HTTPTypes
import Hummingbird
import NIOCore

/// Who the client is, for rate limits: the TCP peer, unless the peer is a configured trusted
/// proxy, in which case the right-most `X-Forwarded-For` entry that is not itself a trusted proxy.
/// Taking the right-most untrusted entry means a client cannot choose its own address by
/// sending a forged `X-Forwarded-For`: only what our proxies appended counts.
///
/// The address handed on is the limit key (`ClientAddress.limitKey`): IPv6 clients count by
/// their /64, so every limit keyed by it — rate limits, sign-in throttle, socket caps — treats
/// one subscriber's network as one client.
struct ClientAddressResolver: Sendable {
    let trustedProxies: Set<String>

    func resolve(peer: String?, headers: HTTPFields) -> (address: String, secure: Bool) {
        let (address, secure) = resolveExact(peer: peer, headers: headers)
        return (ClientAddress.limitKey(address), secure)
    }

    private func resolveExact(peer: String?, headers: HTTPFields) -> (address: String, secure: Bool) {
        let peer = peer ?? ""
        guard !trustedProxies.isEmpty, trustedProxies.contains(peer) else { return (peer, false) }
        let forwardedProto = headers[.xForwardedProto]
        let hops = headers[values: .xForwardedFor].flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let client = hops.reversed().first { !trustedProxies.contains($0) } ?? peer
        let secure = forwardedProto?.split(separator: ",").first?.trimmingCharacters(in: .whitespaces).lowercased() == "https"
        return (client, secure)
    }
}
