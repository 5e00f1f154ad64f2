import Crypto
import Foundation

/// Standard Webhooks signatures (https://www.standardwebhooks.com, "Signature scheme"):
/// `webhook-signature: v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`
/// under the base64-decoded part of the `whsec_…` secret.
package enum WebhookSigner {
    /// The `v1,…` signature, or nil when the secret is not `whsec_<base64>`.
    package static func signature(messageId: String, timestamp: Int, body: String, secret: String) -> String? {
        guard let key = key(secret) else { return nil }
        let content = "\(messageId).\(timestamp).\(body)"
        let mac = HMAC<SHA256>.authenticationCode(for: Data(content.utf8), using: SymmetricKey(data: key))
        return "v1," + Data(mac).base64EncodedString()
    }

    static func key(_ secret: String) -> Data? {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        return Data(base64Encoded: encoded)
    }

    /// The three headers of one attempt.
    package static func headers(messageId: String, timestamp: Int, body: String, secret: String) -> [(String, String)] {
        [("webhook-id", messageId), ("webhook-timestamp", String(timestamp)),
         ("webhook-signature", signature(messageId: messageId, timestamp: timestamp, body: body, secret: secret) ?? "")]
    }
}
