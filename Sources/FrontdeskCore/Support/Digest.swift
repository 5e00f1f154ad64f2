import Crypto
import Foundation

/// Content digests used for ETags, integrity checks and signed tokens, and their text forms.
package enum ContentDigest {
    /// Lower-case hex SHA-256 of `data`.
    package static func sha256Hex(_ data: Data) -> String {
        hex(SHA256.hash(data: data))
    }

    /// Lower-case hex SHA-256 of the UTF-8 of `text`.
    package static func sha256Hex(_ text: String) -> String {
        sha256Hex(Data(text.utf8))
    }

    /// The HMAC-SHA256 of the UTF-8 of `text` under `key`.
    package static func hmacSHA256(_ text: String, key: Data) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: key)))
    }

    /// Lower-case hex of `bytes`, without `String(format:)` per byte.
    package static func hex<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
