import Crypto
import _CryptoExtras
import Dispatch
import Foundation

/// Password hashing with PBKDF2-HMAC-SHA256 at OWASP's current cost (600,000 iterations,
/// https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#pbkdf2).
///
/// Stored as `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>` so the cost can rise later:
/// old hashes still verify, and `needsRehash` tells when to upgrade one at the next login.
/// Hashing takes a few hundred milliseconds of CPU, so it runs on a dispatch queue, never on
/// the cooperative thread pool that serves every other request.
package struct PasswordHasher: Sendable {
    package let iterations: Int
    package static let owaspIterations = 600_000

    /// Fewer iterations are for tests only.
    /// The gate this hasher's work runs through: the process's one by default.
    let gate: ConcurrencyGate

    package init(iterations: Int = PasswordHasher.owaspIterations, gate: ConcurrencyGate = PasswordHasher.gate) {
        self.iterations = iterations
        self.gate = gate
    }

    /// The shortest and longest passwords accepted.
    package static let minimumLength = 10
    package static let maximumLength = 256

    package func hash(_ password: String) async throws -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = generator.next() }
        let derived = try await gate.run { try await Self.derive(password, salt: salt, iterations: iterations) }
        return "pbkdf2-sha256$\(iterations)$\(Data(salt).base64EncodedString())$\(derived.base64EncodedString())"
    }

    /// Constant-time comparison of `password` against a stored hash; false for malformed hashes.
    /// Throws `busy` (503) when the hashing gate's queue is full: that is no wrong password.
    package func verify(_ password: String, against stored: String) async throws -> Bool {
        let parts = stored.split(separator: "$")
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", let rounds = Int(parts[1]), rounds >= 1,
              let salt = Data(base64Encoded: String(parts[2])), let expected = Data(base64Encoded: String(parts[3])) else { return false }
        let derived = try await gate.run { try? await Self.derive(password, salt: Array(salt), iterations: rounds) }
        guard let derived else { return false }
        return Secrets.constantTimeEquals(derived, expected)
    }

    /// True when the stored hash was made with fewer iterations than the current setting.
    package func needsRehash(_ stored: String) -> Bool {
        let parts = stored.split(separator: "$")
        return parts.count != 4 || (Int(parts[1]) ?? 0) < iterations
    }

    /// Every password hash of the process runs through this gate: as many at once as there
    /// are cores, 64 more waiting, and a 503 `busy` (with Retry-After) beyond that, so a flood
    /// of sign-ins cannot queue minutes of CPU work.
    package static let gate = ConcurrencyGate(limit: max(1, ProcessInfo.processInfo.activeProcessorCount), queueLimit: 64)

    static func derive(_ password: String, salt: [UInt8], iterations: Int) async throws -> Data {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                do {
                    let key = try KDF.Insecure.PBKDF2.deriveKey(from: Array(password.utf8), salt: salt, using: .sha256,
                                                               outputByteCount: 32, unsafeUncheckedRounds: iterations)
                    continuation.resume(returning: key.withUnsafeBytes { Data($0) })
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
