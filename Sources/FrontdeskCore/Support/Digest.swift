import Crypto
import Foundation

/// Content digests used for ETags and integrity checks.
public enum ContentDigest {
    /// Lower-case hex SHA-256 of `data`.
    public static func sha256Hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
